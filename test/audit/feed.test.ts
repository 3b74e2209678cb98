// The change feed as a poller reads it: `auditEvents(first, after)` from a kept cursor sees every
// event exactly once, in commit order, even while many writers commit through several server
// processes at once; and the NOTIFY that wakes subscribers is sent only when a write commits.
import type { ChildProcess } from 'node:child_process';
import { Client } from 'pg';
import { openDatabase } from '../../src/db';
import { OPERATOR, createApiKey } from '../../src/domain/apikeys';
import { AUDIT_CHANNEL, decodeCursor } from '../../src/domain/audit';
import { fullAccessContext } from '../../src/domain/context';
import { createTenant } from '../../src/domain/tenants';
import type { AuditEvent } from '../../src/generated/prisma/client';
import { ALL_SCOPES } from '../../src/policy/scopes';
import { type Harness, codes, eachBackend, postgresOnly, uniqueSlug } from '../support/harness';
import { Session } from '../support/races';
import { GENEROUS_SERVER_ENV, startServer } from '../support/servers';
import { describeOnPostgres, postgresUrl } from '../support/services';
import { sleep, waitFor } from '../support/wait';

const PAGE = `query($first: Int, $after: String) {
  auditEvents(first: $first, after: $after) {
    edges { cursor node { sequence action actor { ref } target { type id } requestId } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Edge {
  cursor: string;
  node: { sequence: string; action: string; actor: { ref: string }; target: { type: string; id: string }; requestId: string | null };
}
interface Page {
  edges: Edge[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** What a poller and the table must agree on, for each event. */
const fromRow = (row: AuditEvent) => ({
  sequence: String(row.seq),
  action: row.action,
  actor: { ref: row.actor },
  target: { type: row.targetType, id: row.targetId },
  requestId: row.requestId,
});

eachBackend('a poller paging the trail', (h: Harness) => {
  it('sees sequences 1..N once each, consecutive, pages of 3, exactly the rows of the table', async () => {
    const ws = await h.workspace();
    const reader = await ws.key(['audit:read']);
    const a = await ws.group('a');
    const b = await ws.group('b', a);
    const user = await ws.user('Ann');
    const role = await ws.role('viewer');
    await ws.addMember(b, user);
    await ws.addMember(b, user); // idempotent: no event
    await ws.assignGroupRole(b, role);
    expect(codes((await ws.gql('mutation { createRole(input: { name: "viewer" }) { id } }')).body)).toEqual(['CONFLICT']); // no event
    await ws.ok('mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id } }', {
      id: b,
      input: { name: 'bee', description: 'moved', parentId: null },
    }); // three events in one write
    await ws.ok('mutation($id: ID!) { deleteGroup(id: $id) }', { id: a });

    const pages: Page[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 50; i += 1) {
      const res = await ws.gql(PAGE, { first: 3, after: cursor }, reader);
      expect(res.body.errors).toBeUndefined();
      const page: Page = res.body.data.auditEvents;
      pages.push(page);
      if (page.edges.length === 0) break;
      expect(page.pageInfo.endCursor).toBe(page.edges[page.edges.length - 1].cursor);
      cursor = page.pageInfo.endCursor;
    }

    const rows = await h.db.prisma.auditEvent.findMany({ where: { tenantId: ws.tenant.id }, orderBy: { seq: 'asc' } });
    expect(rows.map((row) => row.action)).toEqual([
      'WORKSPACE_CREATED',
      'API_KEY_CREATED',
      'API_KEY_CREATED',
      'GROUP_CREATED',
      'GROUP_CREATED',
      'USER_CREATED',
      'ROLE_CREATED',
      'MEMBER_ADDED',
      'GROUP_ROLE_ASSIGNED',
      'GROUP_RENAMED',
      'GROUP_DESCRIPTION_CHANGED',
      'GROUP_MOVED',
      'GROUP_DELETED',
    ]);
    const n = rows.length;
    // Pages of 3 (the last one shorter), then an empty page: endCursor null, nothing more.
    expect(pages.map((page) => page.edges.length)).toEqual([3, 3, 3, 3, 1, 0]);
    expect(pages.map((page) => page.pageInfo.hasNextPage)).toEqual([true, true, true, true, false, false]);
    expect(pages[pages.length - 1].pageInfo.endCursor).toBeNull();

    const seen = pages.flatMap((page) => page.edges);
    expect(seen.map((edge) => edge.node.sequence)).toEqual(Array.from({ length: n }, (_, i) => String(i + 1)));
    expect(seen.map((edge) => decodeCursor(edge.cursor, 'cursor'))).toEqual(rows.map((row) => row.seq));
    expect(seen.map((edge) => edge.node)).toEqual(rows.map(fromRow));

    // The kept cursor asked again after a new write: exactly that write's event.
    await ws.user('Bob');
    const next = (await ws.gql(PAGE, { first: 3, after: cursor }, reader)).body.data.auditEvents as Page;
    expect(next.edges.map((edge) => [edge.node.sequence, edge.node.action])).toEqual([[String(n + 1), 'USER_CREATED']]);
    expect(next.pageInfo).toEqual({ hasNextPage: false, endCursor: next.edges[0].cursor });
  });
});

// Two server processes on one PostgreSQL, eight writers spread over both, and a poller that
// pages alternately through each while they write: it must see every event once, in order.
describeOnPostgres('a poller while many writers commit through two server processes (PostgreSQL)', () => {
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((child) => child.kill('SIGTERM')));

  it('sees every event exactly once, strictly increasing, equal to the table, though the writes interleave', async () => {
    const url = postgresUrl()!;
    const WRITERS = 8;
    const WRITES = 25;
    const db = await openDatabase({ kind: 'postgres', url });
    try {
      const tenant = await createTenant(db.prisma, { slug: uniqueSlug('feed') });
      const ctx = fullAccessContext(db.prisma, tenant.id, { maxGroupDepth: 8 });
      const keyOf = async (name: string, scopes: string[]) => createApiKey(ctx, OPERATOR, { name, scopes });
      const reader = (await keyOf('poller', ['audit:read'])).key;
      const writers = await Promise.all(Array.from({ length: WRITERS }, (_, w) => keyOf(`writer ${w}`, ALL_SCOPES)));

      const env = { ...GENEROUS_SERVER_ENV, DATABASE_URL: url };
      const servers = await Promise.all([startServer(env), startServer(env)]);
      children.push(...servers.map((server) => server.child));
      await Promise.all(servers.map((server) => server.ready));
      const urls = servers.map((server) => server.baseUrl);

      const post = async (p: number, key: string, query: string, variables: Record<string, unknown>, requestId?: string) => {
        const res = await fetch(`${urls[p]}/graphql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await res.json()) as any;
        if (res.status !== 200 || body.errors) throw new Error(`${requestId ?? 'poll'}: ${res.status} ${JSON.stringify(body)}`);
        return body.data;
      };

      // Each writer has a root group of its own; its writes mix what takes the tree lock
      // exclusively (create, move), shared (add a member) and not at all (users, roles).
      const roots = await Promise.all(
        writers.map(async (writer, w) => (await post(w % 2, writer.key, 'mutation($n: String!) { createGroup(input: { name: $n }) { id } }', { n: `root ${w}` })).createGroup.id as string),
      );
      const setupDone = await db.prisma.auditEvent.count({ where: { tenantId: tenant.id } });

      const sent = new Map<string, { writer: number; process: number; action: string }>();
      const write = async (w: number, i: number, state: { group: string; user: string }) => {
        const p = (w + i) % 2;
        const requestId = `feed-p${p}-w${w}-i${i}`;
        const key = writers[w].key;
        let action: string;
        switch (i % 5) {
          case 0:
            state.group = (await post(p, key, 'mutation($n: String!, $p: ID) { createGroup(input: { name: $n, parentId: $p }) { id } }', { n: `w${w} g${i}`, p: roots[w] }, requestId)).createGroup.id;
            action = 'GROUP_CREATED';
            break;
          case 1:
            state.user = (await post(p, key, 'mutation($e: EmailAddress!) { createUser(input: { email: $e }) { id } }', { e: `w${w}-${i}-${uniqueSlug('u')}@example.com` }, requestId)).createUser.id;
            action = 'USER_CREATED';
            break;
          case 2:
            await post(p, key, 'mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }', { g: state.group, u: state.user }, requestId);
            action = 'MEMBER_ADDED';
            break;
          case 3:
            // Into the next writer's subtree.
            await post(p, key, 'mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p }) { id } }', { id: state.group, p: roots[(w + 1) % WRITERS] }, requestId);
            action = 'GROUP_MOVED';
            break;
          default:
            await post(p, key, 'mutation($n: String!) { createRole(input: { name: $n }) { id } }', { n: `w${w} r${i}` }, requestId);
            action = 'ROLE_CREATED';
        }
        sent.set(requestId, { writer: w, process: p, action });
      };

      let writing = true;
      const seen: Edge[] = [];
      const poll = async (p: number, cursor: string | null) => {
        const page: Page = (await post(p, reader, PAGE, { first: 7, after: cursor })).auditEvents;
        seen.push(...page.edges);
        return page;
      };
      let cursor: string | null = null;
      let polls = 0;
      let pagesWhileWriting = 0;
      const poller = (async () => {
        while (writing) {
          const page = await poll(polls % 2, cursor);
          polls += 1;
          if (page.edges.length > 0) pagesWhileWriting += 1;
          cursor = page.pageInfo.endCursor ?? cursor; // null on an empty page: keep ours
          await sleep(5); // a poller's pace, not a wait for anything
        }
      })();
      try {
        await Promise.all(
          writers.map(async (_, w) => {
            const state = { group: '', user: '' };
            for (let i = 0; i < WRITES; i += 1) await write(w, i, state);
          }),
        );
      } finally {
        writing = false;
        await poller;
      }
      // Drain.
      for (;;) {
        const page = await poll(polls % 2, cursor);
        polls += 1;
        if (page.edges.length === 0) {
          expect(page.pageInfo).toEqual({ hasNextPage: false, endCursor: null });
          break;
        }
        cursor = page.pageInfo.endCursor;
      }

      const rows = await db.prisma.auditEvent.findMany({ where: { tenantId: tenant.id }, orderBy: { seq: 'asc' } });
      expect(rows).toHaveLength(setupDone + WRITERS * WRITES);
      const sequences = seen.map((edge) => BigInt(edge.node.sequence));
      // Strictly increasing (so none twice), and exactly the table's rows, none missing.
      expect(sequences.every((seq, i) => i === 0 || seq > sequences[i - 1])).toBe(true);
      expect(seen.map((edge) => edge.node)).toEqual(rows.map(fromRow));
      expect(seen.map((edge) => decodeCursor(edge.cursor, 'cursor'))).toEqual(rows.map((row) => row.seq));

      // Every write's event, with the process and writer that made it.
      const writes = rows.slice(setupDone);
      expect(writes.map((row) => sent.get(row.requestId!)?.action)).toEqual(writes.map((row) => row.action));
      expect(new Set(writes.map((row) => row.requestId)).size).toBe(WRITERS * WRITES);
      expect(writes.map((row) => row.actor)).toEqual(writes.map((row) => `apikey:${writers[sent.get(row.requestId!)!.writer].apiKey.id}`));

      // The writes really ran at once: in commit order, the writer and the process change often.
      const switches = (of: (row: AuditEvent) => number) => writes.filter((row, i) => i > 0 && of(row) !== of(writes[i - 1])).length;
      const writerSwitches = switches((row) => sent.get(row.requestId!)!.writer);
      const processSwitches = switches((row) => sent.get(row.requestId!)!.process);
      // Eight writers one after the other would switch 7 times; each writer alternates processes.
      expect(writerSwitches).toBeGreaterThan(50);
      expect(processSwitches).toBeGreaterThan(50);
      // And the poller read while they wrote, through both processes.
      expect(pagesWhileWriting).toBeGreaterThanOrEqual(5);
      process.stderr.write(
        `feed: ${rows.length} events, ${polls} polls (${pagesWhileWriting} non-empty while writing), writer switches ${writerSwitches}, process switches ${processSwitches}\n`,
      );
    } finally {
      await db.close();
    }
  }, 300_000);
});

// The NOTIFY that wakes every process's hub is part of the write's last statement: PostgreSQL
// delivers it when the write commits, and drops it when the write rolls back.
// Long enough for the write to reach its last statement on a busy machine, short enough to wait past.
const TX_TIMEOUT_MS = 3000;

postgresOnly('the change notification', (h) => {
  let listener: Client;
  const heard: string[] = [];
  beforeAll(async () => {
    listener = new Client({ connectionString: postgresUrl()! });
    await listener.connect();
    listener.on('notification', (message) => {
      if (message.channel === AUDIT_CHANNEL) heard.push(message.payload ?? '');
    });
    await listener.query(`LISTEN ${AUDIT_CHANNEL}`);
  });
  afterAll(() => listener.end());

  const latestSeq = async (tenantId: number) =>
    (await h.db.prisma.auditEvent.findFirstOrThrow({ where: { tenantId }, orderBy: { seq: 'desc' } })).seq;

  it('is sent on commit as "<tenant>:<seq>", not for a write that fails, nor for one that rolls back after numbering its event', async () => {
    const ws = await h.workspace();
    const mine = () => heard.filter((payload) => payload.startsWith(`${ws.tenant.id}:`));
    await waitFor('the notifications of the workspace\'s creation', async () => (mine().length >= 2 ? true : undefined));
    heard.length = 0;

    await ws.role('dup');
    const first = await latestSeq(ws.tenant.id);
    await waitFor('the first notification', async () => (mine().length === 1 ? true : undefined));
    expect(mine()).toEqual([`${ws.tenant.id}:${first}`]);

    // Refused before its event: nothing sent, no number taken.
    const duplicate = await ws.gql('mutation { createRole(input: { name: "dup" }) { id } }');
    expect(codes(duplicate.body)).toEqual(['CONFLICT']);

    // Rolled back in its last statement (number, insert, NOTIFY): a session of the test holds
    // the workspace's sequence row, so that statement waits for it past the write's transaction
    // timeout (TX_TIMEOUT_MS); the row is released only then, the statement goes on, and the
    // write is rolled back. Nothing outside Prisma shows its timer firing, so the test waits as
    // long on a timer of its own, started later: timers of one duration fire in the order they
    // were set (the app runs in this process), so however slow the machine, the write's has fired.
    const session = await Session.open();
    try {
      await session.hold('SELECT 1 FROM audit_sequences WHERE tenant_id = $1 FOR UPDATE', [ws.tenant.id]);
      let settled = false;
      const late = ws.gql('mutation { createRole(input: { name: "late" }) { id } }').finally(() => (settled = true));
      const [writer] = await waitFor('the write to wait for the sequence row', async () => {
        const waiting = await session.waitingFor([session.pid]);
        return waiting.length > 0 ? waiting : undefined;
      });
      await sleep(TX_TIMEOUT_MS);
      expect(settled).toBe(false);
      expect(await session.waitingFor([session.pid])).toEqual([writer]);
      await session.close();
      const res = await late;
      expect(res.status).toBe(503);
      expect(codes(res.body)).toEqual(['UNAVAILABLE']);
      expect(res.body.data ?? null).toBeNull();
    } finally {
      await session.close().catch(() => undefined);
    }
    await waitFor('the late write to be gone', async () => ((await h.db.raw.query(
      "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%audit_sequences%' AND state = 'active' AND pid <> pg_backend_pid()",
    )).length === 0 ? true : undefined));
    expect(await h.db.prisma.role.findMany({ where: { tenantId: ws.tenant.id }, select: { name: true } })).toEqual([{ name: 'dup' }]);

    // The next write commits: its number follows the first with no gap, and its notification is
    // the only other one the workspace sent.
    await ws.role('after');
    const after = await latestSeq(ws.tenant.id);
    expect(after).toBe(first + 1n);
    await waitFor('the second notification', async () => (mine().length >= 2 ? true : undefined));
    expect(mine()).toEqual([`${ws.tenant.id}:${first}`, `${ws.tenant.id}:${after}`]);
    expect(
      (await h.db.prisma.auditEvent.findMany({ where: { tenantId: ws.tenant.id, seq: { gte: first } }, orderBy: { seq: 'asc' } })).map((row) => [
        row.seq,
        row.action,
      ]),
    ).toEqual([
      [first, 'ROLE_CREATED'],
      [after, 'ROLE_CREATED'],
    ]);
  }, 60_000);
}, { pool: { transactionTimeoutMs: TX_TIMEOUT_MS } });
