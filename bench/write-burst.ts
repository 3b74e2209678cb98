// Benchmark: a burst of membership writes on one workspace, as a directory-sync bot sends them.
// 500 simultaneous `POST /t/<slug>/api/v1/groups/<g>/members/<u>` (distinct memberships) to one
// server process, then the same 500 split across two processes on one PostgreSQL. For each: how
// the writes were answered (status counts), the burst's wall time against 500 × one write's time
// (the median of sequential writes), and the latency of another workspace's reads (one at a time,
// from a second client) before and during the burst.
//   npm run bench:burst                                  # scratch database kauth_bench_burst
//   BENCH_ROOT=/path/to/other/checkout npm run bench:burst   # the same against another version
// Per-credential limits are raised (CONCURRENCY_PER_CREDENTIAL, RATE_LIMIT_POINTS) so that the
// burst measures the write path, not the fair share; BURST, GROUPS and EXTRA_ENV (JSON) adjust it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { ensureDatabase } from './seed';
import { freePort } from '../test/support/servers';
import { gql, percentile, runBench } from './support';

const URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/kauth_bench_burst';
const ROOT = path.resolve(process.env.BENCH_ROOT ?? path.resolve(__dirname, '..'));
const BURST = Number(process.env.BURST ?? 500);
const GROUPS = Number(process.env.GROUPS ?? 5);
const SEQUENTIAL = 100;
const SERVER_ENV: Record<string, string> = {
  CONCURRENCY_PER_CREDENTIAL: '10000',
  RATE_LIMIT_POINTS: '1000000000',
  RATE_LIMIT_ADDRESS_REQUESTS: '1000000000',
  ...(process.env.EXTRA_ENV ? JSON.parse(process.env.EXTRA_ENV) : {}),
};
const READ = '{ groups(first: 20) { totalCount nodes { id name children(first: 5) { totalCount } } } }';

interface Server {
  child: ChildProcess;
  base: string;
}

async function startServer(): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: URL, PORT: String(port), LOG_LEVEL: 'warn', KAUTH_DEMO: '0', ...SERVER_ENV },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr!.on('data', (d) => (errors += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i += 1) {
    if (child.exitCode !== null) throw new Error(`server exited: ${errors}`);
    if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) return { child, base };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server not ready: ${errors}`);
}

async function stopServer(server: Server): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

function kauth(...args: string[]): any {
  return JSON.parse(execFileSync(process.execPath, ['bin/kauth.js', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATABASE_URL: URL } }));
}

async function ok(base: string, key: string, query: string, variables?: unknown): Promise<any> {
  const res = await gql(base, key, query, variables);
  if (res.status !== 200 || res.body?.errors) throw new Error(`GraphQL ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.data;
}

interface Workspace {
  slug: string;
  key: string;
  groups: string[];
  users: string[];
}

/** A workspace made through the CLI (tenant, key) and the API (groups, users). */
async function workspace(base: string, name: string, groups: number, users: number): Promise<Workspace> {
  const slug = `${name}-${Date.now().toString(36)}`;
  kauth('tenant', 'create', slug);
  const { key } = kauth('key', 'create', slug, ...['groups:write', 'users:write', 'roles:write'].flatMap((s) => ['--scope', s]));
  const ws: Workspace = { slug, key, groups: [], users: [] };
  for (let i = 0; i < groups; i += 1) {
    const data = await ok(base, key, 'mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }', { i: { name: `${name} group ${i}` } });
    ws.groups.push(data.createGroup.id);
  }
  const batch = 20;
  for (let i = 0; i < users; i += batch) {
    const made = await Promise.all(
      Array.from({ length: Math.min(batch, users - i) }, (_, j) =>
        ok(base, key, 'mutation($i: CreateUserInput!) { createUser(input: $i) { id } }', { i: { name: `u${i + j}`, email: `u${i + j}@${slug}.example` } }),
      ),
    );
    ws.users.push(...made.map((data) => data.createUser.id));
  }
  return ws;
}

async function addMember(base: string, ws: Workspace, group: string, user: string): Promise<number> {
  const res = await fetch(`${base}/t/${ws.slug}/api/v1/groups/${group}/members/${user}`, { method: 'POST', headers: { authorization: `Bearer ${ws.key}` } });
  await res.arrayBuffer();
  return res.status;
}

/** Sequential reads of `ws` on `base` until `until()` is true (at least `min`); their latencies in ms. */
async function readLatencies(base: string, ws: Workspace, until: () => boolean, min: number): Promise<number[]> {
  const latencies: number[] = [];
  while (latencies.length < min || !until()) {
    const started = performance.now();
    const res = await gql(base, ws.key, READ);
    if (res.status !== 200) throw new Error(`read answered ${res.status}: ${JSON.stringify(res.body)}`);
    latencies.push(performance.now() - started);
  }
  return latencies;
}

const summary = (values: number[]) => `median ${percentile(values, 50).toFixed(1)} ms, p95 ${percentile(values, 95).toFixed(1)} ms (${values.length})`;

interface BurstResult {
  processes: number;
  statuses: Record<number, number>;
  wallMs: number;
  readsDuring: number[];
}

async function burst(servers: Server[], ws: Workspace, users: string[], reader: Workspace): Promise<BurstResult> {
  let done = false;
  const reads = readLatencies(servers[0].base, reader, () => done, 1);
  const started = performance.now();
  const statuses = await Promise.all(
    users.map((user, i) => addMember(servers[i % servers.length].base, ws, ws.groups[i % ws.groups.length], user)),
  );
  const wallMs = performance.now() - started;
  done = true;
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return { processes: servers.length, statuses: counts, wallMs, readsDuring: await reads };
}

/** Memberships of the workspace's groups, counted in the database. */
async function memberships(ws: Workspace): Promise<number> {
  const client = new Client({ connectionString: URL });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT count(*)::int AS n FROM group_members WHERE group_id = ANY($1::int[])', [ws.groups.map(Number)]);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  await ensureDatabase(URL);
  kauth('migrate');
  const load = (await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`node ${process.version}; ${ROOT}; PostgreSQL ${URL.replace(/\/\/[^@/]*@/, '//')}; load average ${load}`);
  console.log(`server env: ${JSON.stringify(SERVER_ENV)}`);
  const servers = [await startServer(), await startServer()];
  try {
    const reader = await workspace(servers[0].base, 'reader', 40, 0);
    const writer = await workspace(servers[0].base, 'writer', GROUPS, 3 * BURST + SEQUENTIAL);
    // One write's time: sequential adds, one at a time.
    const single: number[] = [];
    for (const user of writer.users.slice(0, SEQUENTIAL)) {
      const started = performance.now();
      const status = await addMember(servers[0].base, writer, writer.groups[0], user);
      if (status !== 204) throw new Error(`a sequential write answered ${status}`);
      single.push(performance.now() - started);
    }
    const readsBefore = await readLatencies(servers[0].base, reader, () => true, 300);
    console.log(`one write, sequential: ${summary(single)}; ${BURST} × median = ${(BURST * percentile(single, 50)).toFixed(0)} ms`);
    console.log(`reads of another workspace, quiet: ${summary(readsBefore)}`);
    const rows: BurstResult[] = [];
    const before = await memberships(writer);
    let offset = SEQUENTIAL;
    for (const processes of [1, 2, 1]) {
      const users = writer.users.slice(offset, offset + BURST);
      offset += BURST;
      const result = await burst(servers.slice(0, processes), writer, users, reader);
      rows.push(result);
      console.log(
        `${BURST} simultaneous writes, ${processes} process${processes > 1 ? 'es' : ''}: ${JSON.stringify(result.statuses)} in ${result.wallMs.toFixed(0)} ms ` +
          `(${(result.wallMs / BURST).toFixed(2)} ms a write, ${(result.wallMs / (BURST * percentile(single, 50))).toFixed(2)} × 500 sequential); ` +
          `reads of another workspace meanwhile: ${summary(result.readsDuring)}`,
      );
    }
    const made = (await memberships(writer)) - before;
    const answered = rows.reduce((sum, row) => sum + (row.statuses[204] ?? 0), 0);
    console.log(`memberships made: ${made}; writes answered 204: ${answered}${made === answered ? '' : '  ** MISMATCH **'}`);
  } finally {
    await Promise.all(servers.map(stopServer));
  }
}

runBench(main);
