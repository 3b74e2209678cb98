// The `kauth` command and the server's start-up, run as real processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Database, openDatabase } from '../src/db';
import { fullAccessContext } from '../src/domain/context';
import { tenantBySlug } from '../src/domain/tenants';
import { PROCESS_TEST_MS, ROOT, kauth } from './support/kauth';
import { GENEROUS_SERVER_ENV, SERVER_START_MS, freePort } from './support/servers';
import { buildTree, numericIds } from './support/tree-fixture';
import { waitFor } from './support/wait';


function startServer(env: Record<string, string>): { child: ChildProcess; output: Promise<{ code: number | null; text: string }>; text: () => string } {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
  });
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const output = new Promise<{ code: number | null; text: string }>((resolve) => child.on('exit', (code) => resolve({ code, text })));
  return { child, output, text: () => text };
}

describe('kauth CLI and start-up', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'kauth-cli-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates a tenant, a user and a key, each printed as one JSON document', async () => {
    const env = { DATA_DIR: dataDir };
    const migrated = await kauth(['migrate'], env);
    expect(migrated.code).toBe(0);
    expect(JSON.parse(migrated.stdout).applied.length).toBeGreaterThan(0);
    expect(JSON.parse((await kauth(['migrate'], env)).stdout).applied).toEqual([]);

    const tenant = JSON.parse((await kauth(['tenant', 'create', 'acme', '--name', 'Acme Inc'], env)).stdout);
    expect(tenant).toMatchObject({ slug: 'acme', name: 'Acme Inc' });
    const user = JSON.parse((await kauth(['user', 'create', 'acme', '--email', 'Ann@Acme.example', '--name', 'Ann'], env)).stdout);
    expect(user).toMatchObject({ email: 'ann@acme.example', name: 'Ann' });
    expect(typeof user.id).toBe('number');
    const key = JSON.parse((await kauth(['key', 'create', 'acme', '--scope', 'groups:read', '--scope', 'users:read', '--expires-in', '30d'], env)).stdout);
    expect(key.key).toMatch(/^kauth_acme_[A-Za-z0-9]{32,}$/);
    expect(key.scopes).toEqual(['groups:read', 'users:read']);
    const listed = JSON.parse((await kauth(['key', 'list', 'acme'], env)).stdout);
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(key.key.slice('kauth_acme_'.length));
    const revoked = JSON.parse((await kauth(['key', 'revoke', 'acme', String(key.id)], env)).stdout);
    expect(revoked.revokedAt).not.toBeNull();

    const bad = await kauth(['key', 'create', 'acme', '--scope', 'groups:everything'], env);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).error.code).toBe('BAD_USER_INPUT');
    const usage = await kauth(['frobnicate'], env);
    expect(usage.code).toBe(2);
  }, PROCESS_TEST_MS);

  it('builds its operator context from MAX_GROUP_DEPTH, refusing a value the server would refuse', async () => {
    const env = { DATA_DIR: dataDir };
    expect((await kauth(['tenant', 'create', 'acme'], env)).code).toBe(0);
    const refused = await kauth(['key', 'list', 'acme'], { ...env, MAX_GROUP_DEPTH: '0' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('MAX_GROUP_DEPTH must be an integer between 1 and 1000, got "0"');
    const listed = await kauth(['key', 'list', 'acme'], { ...env, MAX_GROUP_DEPTH: '2' });
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
  }, PROCESS_TEST_MS);

  it('doctor prints no findings and exits 0 on a sound tree, and lists a corrupted path and exits 1', async () => {
    const env = { DATA_DIR: dataDir };
    expect((await kauth(['tenant', 'create', 'acme'], env)).code).toBe(0);
    /** Opens the data directory in this process (the CLI is not running) to build or break the tree. */
    const withDatabase = async <T>(fn: (db: Database) => Promise<T>): Promise<T> => {
      const db = await openDatabase({ kind: 'pglite', dataDir });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    };
    const t = await withDatabase(async (db) => {
      const tenant = (await tenantBySlug(db.prisma, 'acme'))!;
      return numericIds(await buildTree({ ctx: fullAccessContext(db.prisma, tenant.id, { maxGroupDepth: 8 }) }, { groups: { R: { A: { A1: {} } }, S: {} } }));
    });
    const clean = await kauth(['doctor'], env);
    expect({ code: clean.code, report: JSON.parse(clean.stdout) }).toEqual({ code: 0, report: { findings: [], counts: [], statistics: { keptBy: 'service', reason: 'the embedded database has no autovacuum', deadRows: [] } } });

    await withDatabase((db) => db.raw.query('UPDATE groups SET path = $2::int[] WHERE id = $1', [t.A1, [t.S, t.A, t.A1]]));
    const corrupted = await kauth(['doctor', 'acme'], env);
    expect({ code: corrupted.code, report: JSON.parse(corrupted.stdout) }).toEqual({
      code: 1,
      report: {
        findings: [{ tenant: 'acme', groupId: t.A1, parentGroupId: t.A, kind: 'path_mismatch', expected: [t.R, t.A, t.A1], actual: [t.S, t.A, t.A1] }],
        counts: [],
        statistics: { keptBy: 'service', reason: 'the embedded database has no autovacuum', deadRows: [] },
      },
    });
  }, PROCESS_TEST_MS);

  it('starts on an empty embedded database with a demo workspace, and the CLI works beside it', async () => {
    const port = await freePort();
    const server = startServer({ ...GENEROUS_SERVER_ENV, DATA_DIR: dataDir, PORT: String(port) });
    try {
      await waitFor('the server to listen', () => server.text().includes('listening on'), SERVER_START_MS);
      expect(server.text()).toContain(`http://127.0.0.1:${port}/graphql`);
      expect(server.text()).toMatch(/demo workspace/);
      expect(server.text()).toContain('statistics: kept by the service (the embedded database has no autovacuum)');
      // The key is in a file only the owner can read; the log names the file and never holds the key.
      const keyFile = path.join(dataDir, 'demo-admin-key');
      expect(server.text()).toContain(keyFile);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const key = readFileSync(keyFile, 'utf8').trim();
      expect(key).toMatch(/^kauth_demo_[A-Za-z0-9]{40}$/);
      expect(server.text()).not.toContain(key);
      expect(server.text()).not.toMatch(/kauth_demo_[A-Za-z0-9]/);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok' });
      const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ viewer { tenant { slug } } groups(rootsOnly: true) { totalCount } }' }),
      });
      const body = (await res.json()) as { data: { viewer: { tenant: { slug: string } }; groups: { totalCount: number } } };
      expect(body.data.viewer.tenant.slug).toBe('demo');
      expect(body.data.groups.totalCount).toBeGreaterThan(0);

      // The CLI cannot open the held directory: it runs the command on the server (test/cli-socket.test.ts).
      const beside = await kauth(['tenant', 'create', 'other'], { DATA_DIR: dataDir });
      expect({ code: beside.code, slug: JSON.parse(beside.stdout).slug }).toEqual({ code: 0, slug: 'other' });
    } finally {
      server.child.kill('SIGTERM');
      await server.output;
    }
    const after = await kauth(['tenant', 'create', 'another'], { DATA_DIR: dataDir });
    expect(after.code).toBe(0);
  }, PROCESS_TEST_MS);

  it('exits non-zero with a clear message on bad configuration', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const busyPort = (blocker.address() as { port: number }).port;
    const unreadable = path.join(dataDir, 'locked');
    rmSync(unreadable, { force: true, recursive: true });
    require('node:fs').mkdirSync(unreadable);
    chmodSync(unreadable, 0o000);
    const cases: [Record<string, string>, RegExp][] = [
      [{ DATA_DIR: dataDir, PORT: String(busyPort) }, /address already in use/],
      [{ DATABASE_URL: 'mysql://nope' }, /DATABASE_URL must start with postgres/],
      [{ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }, /cannot connect to PostgreSQL/],
      [{ DATA_DIR: dataDir, PORT: 'eighty' }, /PORT must be an integer/],
      [{ DATA_DIR: path.join(dataDir, 'a-file', 'data') }, /not a readable and writable directory/],
    ];
    require('node:fs').writeFileSync(path.join(dataDir, 'a-file'), 'not a directory');
    if (process.getuid?.() !== 0) cases.push([{ DATA_DIR: unreadable }, /not a readable and writable directory/]);
    try {
      for (const [env, message] of cases) {
        const { code, text } = await startServer({ KAUTH_DEMO: '0', ...env }).output;
        expect({ env, code, message: message.test(text) }).toEqual({ env, code: 1, message: true });
      }
    } finally {
      blocker.close();
      chmodSync(unreadable, 0o700);
    }
  }, PROCESS_TEST_MS);
});
