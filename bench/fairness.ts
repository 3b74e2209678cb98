// Benchmark: fair share. While one key runs 60 concurrent heavy-but-allowed queries, how long
// does another key's `{ viewer { scopes } }` take? The server runs as its own process (as in
// production), once per configuration, with the demo tree plus 4 groups (11).
//   npx tsx bench/fairness.ts                                   # embedded database; DURATION_S=15
//   DATABASE_URL=postgres://…/kauth_bench npx tsx bench/fairness.ts   # a scratch PostgreSQL database
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/servers';
import { gql, percentile, runBench } from './support';

const DURATION_MS = Number(process.env.DURATION_S ?? 15) * 1000;
const FLOOD = 60;
const HEAVY = '{ groups(limit: 100) { nodes { id name parent { id } children { id } ancestors { id } members { id } effectiveRoles { id } descendants { id } } } }';
const MODES: { name: string; env: Record<string, string> }[] = [
  { name: 'no per-credential limits (as before)', env: { CONCURRENCY_PER_CREDENTIAL: '10000', RATE_LIMIT_POINTS: '1000000000' } },
  { name: 'concurrency cap only (4 per key)', env: { RATE_LIMIT_POINTS: '1000000000' } },
  { name: 'defaults (concurrency cap and points)', env: {} },
];
const ONLY = process.env.MODES ? new Set(process.env.MODES.split(',').map(Number)) : null;

/** On PostgreSQL there is no demo workspace: the CLI makes one, with an admin key, and its root group. */
function postgresWorkspace(): string {
  const kauth = (...args: string[]) => JSON.parse(execFileSync(process.execPath, ['bin/kauth.js', ...args], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8' }));
  const slug = `fair-${Date.now().toString(36)}`;
  kauth('tenant', 'create', slug);
  return kauth('key', 'create', slug, ...['groups:write', 'roles:write', 'apikeys:write', 'users:write'].flatMap((s) => ['--scope', s])).key;
}

let postgresAdminKey: string | null = null;

async function start(env: Record<string, string>): Promise<{ child: ChildProcess; base: string; adminKey: string; dataDir: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kauth-fair-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/main.ts'], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), KAUTH_DEMO: '1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (d: Buffer) => {
    if (output.length < 100_000) output += d; // the start-up lines; the per-request lines after them are dropped
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i += 1) {
    if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const keyFile = path.join(dataDir, 'demo-admin-key');
  const adminKey = postgresAdminKey ?? (existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : /kauth_demo_[A-Za-z0-9]+/.exec(output)?.[0]);
  if (!adminKey) throw new Error(`no demo admin key: ${output}`);
  return { child, base, adminKey, dataDir };
}


async function run(mode: (typeof MODES)[number]) {
  const server = await start(mode.env);
  const { base, adminKey } = server;
  const newKey = async (name: string, scopes: string[]) =>
    (await gql(base, adminKey, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }', { i: { name, scopes } })).body.data.createApiKey.key;
  const group = async (name: string, parentId: string | null) =>
    (await gql(base, adminKey, 'mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }', { i: { name, parentId } })).body.data.createGroup.id as string;
  const parent = postgresAdminKey ? await group('root', null) : '2';
  for (let i = 0; i < (postgresAdminKey ? 10 : 4); i += 1) await group(`extra ${i}`, parent);
  const flooder = await newKey('flooder', ['groups:read', 'roles:read']);
  const bystander = await newKey('bystander', ['groups:read']);
  const until = Date.now() + DURATION_MS;
  const flood: Record<number, number> = {};
  const workers = Array.from({ length: FLOOD }, async () => {
    while (Date.now() < until) {
      const { status } = await gql(base, flooder, HEAVY);
      flood[status] = (flood[status] ?? 0) + 1;
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 1000)); // let the flood build up
  const latencies: number[] = [];
  while (Date.now() < until) {
    const started = performance.now();
    const { status } = await gql(base, bystander, '{ viewer { scopes } }');
    if (status === 200) latencies.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await Promise.all(workers);
  console.log(
    `${mode.name.padEnd(40)} bystander viewer: median ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms (${latencies.length} requests); flood answers ${JSON.stringify(flood)}`,
  );
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));
  rmSync(server.dataDir, { recursive: true, force: true });
}

async function main() {
  if (process.env.DATABASE_URL) postgresAdminKey = postgresWorkspace();
  console.log(`node ${process.version}; ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded database'}; ${FLOOD} concurrent heavy queries for ${DURATION_MS / 1000} s; heavy = ${HEAVY}`);
  for (const [i, mode] of MODES.entries()) if (!ONLY || ONLY.has(i)) await run({ ...mode, env: { ...mode.env, ...(process.env.EXTRA_ENV ? JSON.parse(process.env.EXTRA_ENV) : {}) } });
}

runBench(main);
