// `kauth audit` as a real process, and pruning past AUDIT_RETENTION_DAYS.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { auditRetentionDays } from '../../src/config';
import { pruneAuditEvents } from '../../src/domain/audit';
import { createUser } from '../../src/domain/users';
import { eachBackend, postgresOnly } from '../support/harness';
import { KAUTH, PROCESS_TEST_MS, ROOT, kauth } from '../support/kauth';
import { postgresUrl } from '../support/services';
import { untilSeen, waitFor } from '../support/wait';


describe('kauth audit (embedded database)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'kauth-audit-cli-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints the trail oldest first, names the CLI as the actor, and pages with --after and --limit', async () => {
    const env = { DATA_DIR: dataDir };
    expect((await kauth(['tenant', 'create', 'acme'], env)).code).toBe(0);
    expect((await kauth(['user', 'create', 'acme', '--email', 'Ann@Example.com', '--name', 'Ann'], env)).code).toBe(0);

    const all = await kauth(['audit', 'acme'], env);
    expect(all.code).toBe(0);
    const { events, endCursor } = JSON.parse(all.stdout);
    expect(events.map((e: { action: string }) => e.action)).toEqual(['WORKSPACE_CREATED', 'USER_CREATED']);
    expect(events.map((e: { sequence: string }) => e.sequence)).toEqual(['1', '2']);
    expect(events[1]).toMatchObject({
      actor: { ref: 'cli', name: null },
      target: { type: 'User' },
      changes: { email: { before: null, after: 'ann@example.com' }, name: { before: null, after: 'Ann' } },
      requestId: null,
    });
    expect(endCursor).toBe(events[1].cursor);

    const first = JSON.parse((await kauth(['audit', 'acme', '--limit', '1'], env)).stdout);
    expect(first.events.map((e: { action: string }) => e.action)).toEqual(['WORKSPACE_CREATED']);
    const rest = JSON.parse((await kauth(['audit', 'acme', '--after', first.endCursor], env)).stdout);
    expect(rest.events.map((e: { action: string }) => e.action)).toEqual(['USER_CREATED']);
    // Nothing new: the cursor given comes back, to ask again with.
    const none = JSON.parse((await kauth(['audit', 'acme', '--after', endCursor], env)).stdout);
    expect(none).toEqual({ events: [], endCursor });

    const recent = JSON.parse((await kauth(['audit', 'acme', '--since', '1h'], env)).stdout);
    expect(recent.events).toHaveLength(2);
  }, PROCESS_TEST_MS);

  it('refuses a cursor it did not hand out and a bad --since, with exit code 1 and a code', async () => {
    const env = { DATA_DIR: dataDir };
    const badCursor = await kauth(['audit', 'acme', '--after', 'bm9wZQ'], env);
    expect(badCursor.code).toBe(1);
    expect(JSON.parse(badCursor.stdout).error.code).toBe('BAD_USER_INPUT');
    const badSince = await kauth(['audit', 'acme', '--since', 'yesterday'], env);
    expect(badSince.code).toBe(1);
    expect(JSON.parse(badSince.stdout).error.message).toContain('--since');
  }, PROCESS_TEST_MS);
});

postgresOnly('kauth audit --follow beside a running server', (h) => {
  it('prints each new event as one JSON line as it commits, and only new ones', async () => {
    const ws = await h.workspace();
    const child = spawn(process.execPath, [KAUTH, 'audit', ws.tenant.slug, '--follow'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: postgresUrl()! },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      // Complete lines only: a chunk may end in the middle of one.
      const lines = () => out.split('\n').slice(0, -1).filter(Boolean).map((line) => JSON.parse(line));
      // It starts from now: the workspace's earlier events are not printed. Write until it is
      // following (the process may take a while to start on a busy machine).
      await untilSeen('the follower to print a group created', async (i, patienceMs) => {
        await ws.group(`G${i + 1}`);
        return waitFor('a GROUP_CREATED line', () => lines().some((e) => e.action === 'GROUP_CREATED'), patienceMs).then(() => true, () => false);
      }, PROCESS_TEST_MS / 3);
      const g = await ws.group('Followed');
      const u = await ws.user('Fay');
      await ws.addMember(g, u);
      await waitFor('the follower to print MEMBER_ADDED', () => lines().some((e) => e.action === 'MEMBER_ADDED'));
      const events = lines();
      expect(events.some((e) => e.action === 'WORKSPACE_CREATED' || e.action === 'API_KEY_CREATED')).toBe(false);
      const tail = events.slice(-3);
      expect(tail.map((e) => e.action)).toEqual(['GROUP_CREATED', 'USER_CREATED', 'MEMBER_ADDED']);
      expect(tail[2]).toMatchObject({ target: { type: 'Group', id: g }, changes: { userId: { before: null, after: Number(u) } } });
      const sequences = events.map((e) => Number(e.sequence));
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
      expect(new Set(sequences).size).toBe(sequences.length);
    } finally {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }, PROCESS_TEST_MS);
});

eachBackend('audit retention', (h) => {
  it('prunes events older than the cut-off and keeps the rest, and numbering carries on', async () => {
    const ws = await h.workspace();
    const other = await h.workspace();
    await createUser(ws.ctx, { email: `old-${ws.tenant.id}@example.com` });
    await createUser(ws.ctx, { email: `new-${ws.tenant.id}@example.com` });
    // Age this workspace's first three events by 400 days.
    await h.db.prisma.$executeRaw`UPDATE audit_events SET occurred_at = now() - interval '400 days' WHERE tenant_id = ${ws.tenant.id} AND seq <= 3`;
    const cutOff = new Date(Date.now() - 365 * 86_400_000);
    const pruned = await pruneAuditEvents(h.db.prisma, cutOff, 2);
    expect(pruned).toBe(3);
    const left = await h.db.prisma.auditEvent.findMany({ where: { tenantId: ws.tenant.id }, orderBy: { seq: 'asc' } });
    expect(left.map((e) => [Number(e.seq), e.action])).toEqual([[4, 'USER_CREATED']]);
    expect(await h.db.prisma.auditEvent.count({ where: { tenantId: other.tenant.id } })).toBe(2);
    await createUser(ws.ctx, { email: `next-${ws.tenant.id}@example.com` });
    const last = await h.db.prisma.auditEvent.findFirst({ where: { tenantId: ws.tenant.id }, orderBy: { seq: 'desc' } });
    expect(Number(last!.seq)).toBe(5);
  });

  it('reads AUDIT_RETENTION_DAYS: 365 by default, refusing what is not a whole number of days', () => {
    expect(auditRetentionDays({})).toBe(365);
    expect(auditRetentionDays({ AUDIT_RETENTION_DAYS: '30' })).toBe(30);
    expect(() => auditRetentionDays({ AUDIT_RETENTION_DAYS: '0' })).toThrow(/AUDIT_RETENTION_DAYS/);
    expect(() => auditRetentionDays({ AUDIT_RETENTION_DAYS: '1.5' })).toThrow(/AUDIT_RETENTION_DAYS/);
  });
});

