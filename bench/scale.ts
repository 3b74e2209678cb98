// Organisation scale (issue 12): the same requests against a 1,000-group and a 100,000-group
// workspace, interleaved in one run on one server process, and throughput against a bare floor.
//
//   npm run bench:seed -- --preset small && npm run bench:seed -- --preset large   # once
//   npm run bench [-- --duration 10 --rounds 3 --requests 200 --warmup 20 --parts latency,writes,throughput --cpu-prof]
//
// What it does, on DATABASE_URL or postgres://postgres@127.0.0.1:5432/kauth_bench (the seeded one):
//   - builds with `npm run build` and starts ONE server process, `node dist/main.js`, as in
//     production (NODE_ENV=production), with the rate limits and the per-credential concurrency cap
//     raised so that nothing is refused; if the build fails (someone's work in progress), it says
//     so and runs `src/main.ts` through tsx instead (same code, transformed at load);
//   - latency: each scenario N times sequentially (after W warm-up requests), small and large
//     alternately; median and p95 ms, large/small ratio of the medians. SQL statements per request:
//     the service does not expose a statement counter over HTTP, so the same request is sent to an
//     app built in this process (buildApp on its own pool, src/db/statement-counter.ts counting),
//     after two warm-ups, untimed;
//   - writes: moving the `mover` subtree (1,000 groups; 100 in small) to `moveB` and back,
//     deleting a group with 100 children (made by SQL first, untimed), adding and removing
//     `memberUser` on `wide`: time on the server process, statements in process;
//   - throughput: autocannon, 10 connections, --duration seconds each, rounds of floor
//     (bench/floor-server.ts), REST GET /groups/{leaf}, GraphQL group(id: leaf) (large workspace);
//     median req/s over the rounds and % of the floor;
//   - the server's peak memory (VmHWM of its process);
//   - sorted pages (with latency): EXPLAIN ANALYZE of the statement behind `groups(orderBy: NAME)`
//     after the 500th group, on each workspace: the index it reads and whether it sorts;
//   - writes bench/results/<date>-large.json and .md, and BENCHMARKS.md.
// With --cpu-prof the server runs under `node --cpu-prof --cpu-prof-dir bench/results/profiles`;
// the profile (written when it stops) is summarised: top 20 functions by self time.
import { type ChildProcess, execSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { treeLimits, trafficLimits } from '../src/config';
import { type Database, openDatabase } from '../src/db';
import { fullAccessContext } from '../src/domain/context';
import { windowOf } from '../src/domain/pages';
import { groupPage } from '../src/domain/reads/groups';
import type { Prisma } from '../src/generated/prisma/client';
import { buildApp } from '../src/http/app';
import { freePort } from '../test/support/servers';
import { DEFAULT_BENCH_URL, PRESETS, type PresetName, STATE_DIR, type SeedPreset, type SeedState } from './seed';
import { percentile, runBench } from './support';

const ROOT = path.resolve(__dirname, '..');
const RESULTS_DIR = path.join(ROOT, 'bench/results');
const PROFILE_DIR = path.join(RESULTS_DIR, 'profiles');
const PRESET_NAMES: PresetName[] = ['small', 'large'];
const RATIO_GOAL = 1.5;
const REST_FLOOR_GOAL = 50;
const GRAPHQL_FLOOR_GOAL = 40;
const CONNECTIONS = 10;

// autocannon ships no types and only it is a dependency: the part of its API used here.
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  latency: { p50: number; p99: number; average: number };
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}) => Promise<AutocannonResult>;
const autocannon = require('autocannon') as Autocannon;

// ---------------------------------------------------------------------------------------------
// Options and state

interface Options {
  duration: number;
  rounds: number;
  requests: number;
  warmup: number;
  parts: Set<string>;
  cpuProf: boolean;
  /** The seeded workspace that stands for "large": the large preset or the huge one. */
  large: 'large' | 'huge';
  url: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '3' },
      requests: { type: 'string', default: '200' },
      warmup: { type: 'string', default: '20' },
      parts: { type: 'string', default: 'latency,writes,throughput' },
      'cpu-prof': { type: 'boolean', default: false },
      large: { type: 'string', default: 'large' },
    },
    strict: true,
  });
  if (values.large !== 'large' && values.large !== 'huge') throw new Error(`--large must be large or huge, got "${values.large}"`);
  const positive = (name: string, raw: string | undefined): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
    return value;
  };
  const parts = new Set((values.parts ?? '').split(',').map((p) => p.trim()).filter(Boolean));
  for (const part of parts) {
    if (!['latency', 'writes', 'throughput'].includes(part)) throw new Error(`--parts: unknown part "${part}" (latency, writes, throughput)`);
  }
  return {
    duration: positive('duration', values.duration),
    rounds: positive('rounds', values.rounds),
    requests: positive('requests', values.requests),
    warmup: positive('warmup', values.warmup),
    parts,
    cpuProf: values['cpu-prof'] ?? false,
    large: values.large,
    url: process.env.DATABASE_URL || DEFAULT_BENCH_URL,
  };
}

/** Both state files, checked against the database: a missing or stale one names the command to run. */
async function loadStates(url: string, large: SeedPreset): Promise<Record<PresetName, SeedState>> {
  const states = {} as Record<PresetName, SeedState>;
  const pool = new Pool({ connectionString: url, max: 1 });
  try {
    for (const slot of PRESET_NAMES) {
      const preset: SeedPreset = slot === 'large' ? large : slot;
      const file = path.join(STATE_DIR, `${preset}.json`);
      const command = `npm run bench:seed -- --preset ${preset}`;
      if (!existsSync(file)) throw new Error(`no seeded ${preset} workspace (${path.relative(ROOT, file)} is missing): run \`${command}\` first`);
      const state = JSON.parse(readFileSync(file, 'utf8')) as SeedState;
      let rows: { n: string }[];
      try {
        rows = (
          await pool.query<{ n: string }>('SELECT count(*) AS n FROM groups WHERE tenant_id = (SELECT id FROM tenants WHERE slug = $1 AND id = $2)', [
            state.slug,
            state.tenantId,
          ])
        ).rows;
      } catch (error) {
        throw new Error(`cannot read the seeded ${preset} workspace on ${url.replace(/\/\/[^@/]*@/, '//***@')} (${(error as Error).message}): run \`${command}\``);
      }
      // The write benchmarks create and delete groups; a run stopped half-way may leave a few.
      if (Math.abs(Number(rows[0].n) - PRESETS[preset].groups) > 200) {
        throw new Error(`the ${preset} workspace in the database is not the one ${path.relative(ROOT, file)} describes: run \`${command}\` again`);
      }
      states[slot] = state;
    }
  } finally {
    await pool.end();
  }
  return states;
}

// ---------------------------------------------------------------------------------------------
// The server process

interface Server {
  child: ChildProcess;
  baseUrl: string;
  how: string;
  output(): string;
}

function build(): { ok: boolean; note: string } {
  process.stderr.write('npm run build…\n');
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status === 0) return { ok: true, note: 'node dist/main.js (built by npm run build)' };
  const why = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-5).join(' | ');
  process.stderr.write(`*** npm run build failed; running src/main.ts through tsx instead: ${why}\n`);
  return { ok: false, note: `tsx src/main.ts (npm run build failed: ${why.slice(0, 300)})` };
}

/** The server's environment: production, on the bench database, nothing refused for rate. */
function serverEnv(url: string, port: number): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    NODE_ENV: 'production',
    DATABASE_URL: url,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    KAUTH_DEMO: '0',
    RATE_LIMIT_POINTS: '1000000000',
    RATE_LIMIT_ADDRESS_REQUESTS: '1000000000',
    CONCURRENCY_PER_CREDENTIAL: '1000',
    REQUEST_TIMEOUT_MS: '60000',
  };
}

async function waitReady(child: ChildProcess, url: string, output: () => string): Promise<void> {
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited: ${output()}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`server did not become ready: ${output()}`);
}

async function startService(opts: Options, built: boolean): Promise<Server> {
  const port = await freePort();
  const nodeArgs = opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [];
  if (opts.cpuProf) mkdirSync(PROFILE_DIR, { recursive: true });
  const args = built ? [...nodeArgs, 'dist/main.js'] : [...nodeArgs, '--require', 'tsx/cjs', 'src/main.ts'];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: serverEnv(opts.url, port), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitReady(child, `${baseUrl}/readyz`, () => out);
  return { child, baseUrl, how: `${nodeArgs.length ? `node ${nodeArgs.join(' ')} ` : ''}${built ? 'dist/main.js' : 'tsx src/main.ts'}`, output: () => out };
}

async function startFloor(url: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'bench/floor-server.ts'], {
    cwd: ROOT,
    env: { ...(process.env as Record<string, string>), DATABASE_URL: url, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const until = Date.now() + 60_000;
  while (!out.includes('floor listening')) {
    if (child.exitCode !== null || Date.now() > until) throw new Error(`floor server did not start: ${out}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, baseUrl: `http://127.0.0.1:${port}`, how: 'tsx bench/floor-server.ts', output: () => out };
}

async function stop(server: Server): Promise<number | null> {
  if (server.child.exitCode !== null) return server.child.exitCode;
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  server.child.kill('SIGTERM');
  return exited;
}

/** Peak resident memory of a process (VmHWM), in MB. */
function peakMemoryMb(pid: number): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

interface Target {
  baseUrl: string;
  state: SeedState;
}

interface Request {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
}

const graphql = (query: string, variables: Record<string, unknown>): Request => ({
  method: 'POST',
  path: '/graphql',
  body: JSON.stringify({ query, variables }),
});

async function send(target: Target, request: Request): Promise<{ status: number; json: any }> {
  const response = await fetch(`${target.baseUrl}${request.path}`, {
    method: request.method,
    headers: { authorization: `Bearer ${target.state.key}`, ...(request.body ? { 'content-type': 'application/json' } : {}) },
    body: request.body,
  });
  const text = await response.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

/** Throws unless the answer is a 200 without GraphQL errors and `check` holds. */
function expectOk(what: string, answer: { status: number; json: any }, check?: (json: any) => string | null): void {
  if (answer.status !== 200 || (answer.json && typeof answer.json === 'object' && answer.json.errors)) {
    throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.json).slice(0, 400)}`);
  }
  const problem = check?.(answer.json);
  if (problem) throw new Error(`${what}: ${problem}`);
}

// ---------------------------------------------------------------------------------------------
// Latency scenarios

interface Scenario {
  name: string;
  /** Run once per preset before the warm-up (e.g. to find a cursor). */
  prepare?: (target: Target) => Promise<Record<string, unknown>>;
  request: (state: SeedState, prepared: Record<string, unknown>) => Request;
  check?: (json: any, state: SeedState) => string | null;
  /** Largest large/small ratio asked for (default RATIO_GOAL); null where the two differ in size by design. */
  ratioGoal?: number | null;
}

const PAGE_QUERY = `query($after: String) { groups(first: 100, after: $after) { totalCount pageInfo { endCursor hasNextPage } nodes { id name parent { id } } } }`;
const SORTED_PAGE_QUERY = `query($after: String) { groups(first: 100, after: $after, orderBy: { field: NAME }) { pageInfo { endCursor hasNextPage } nodes { id name parent { id } } } }`;
const SORTED_SCENARIO = 'GraphQL page sorted by NAME after the 500th group';
const MOVE_IMPACT_QUERY = `query($g: ID!, $p: ID) { moveImpact(groupId: $g, newParentId: $p) { allowed refusals { code }
  totals { usersAffected rolesGained rolesLost }
  users(first: 40) { totalCount pageInfo { endCursor hasNextPage } nodes { user { id name } gained { role { id name } grantedBy { id name } } lost { role { id name } grantedBy { id name } } } } } }`;
/** The move preview must answer in under a second at 100,000 groups (issue 27). */
const MOVE_IMPACT_GOAL_MS = 1_000;
// 40 users with their granting groups is priced at about 408,000 of the 500,000 a query may cost.
const MOVE_IMPACT_SCENARIO = `GraphQL moveImpact: mover's subtree under moveB, totals and 40 users (goal: large < ${MOVE_IMPACT_GOAL_MS} ms)`;

const SCENARIOS: Scenario[] = [
  {
    name: 'GraphQL depth-20 leaf: ancestors, effectiveRoles',
    request: (s) =>
      graphql('query($id: ID!) { group(id: $id) { id name depth ancestors { id name } effectiveRoles { id name } } }', { id: String(s.fixtures.leaf) }),
    check: (json) => (json.data?.group?.ancestors?.length === 20 ? null : `expected 20 ancestors, got ${json.data?.group?.ancestors?.length}`),
  },
  {
    name: 'REST GET /groups/{leaf}',
    request: (s) => ({ method: 'GET', path: `/t/${s.slug}/api/v1/groups/${s.fixtures.leaf}` }),
    check: (json, s) => (json.id === s.fixtures.leaf ? null : `expected group ${s.fixtures.leaf}`),
  },
  {
    name: 'REST GET /groups?offset=500&limit=100',
    request: (s) => ({ method: 'GET', path: `/t/${s.slug}/api/v1/groups?offset=500&limit=100` }),
    check: (json, s) =>
      json.data?.length === 100 && json.meta?.total >= s.counts.groups - 200 ? null : `expected 100 groups and meta.total, got ${json.data?.length} / ${json.meta?.total}`,
  },
  {
    // The first page has no cursor to start from: it must not read the other workspaces' lower ids.
    name: 'GraphQL groups(first: 100), the first page, with totalCount',
    request: () => graphql(PAGE_QUERY, { after: null }),
    check: (json) => (json.data?.groups?.nodes?.length === 100 ? null : `expected 100 nodes, got ${json.data?.groups?.nodes?.length}`),
  },
  {
    name: 'GraphQL groups(first: 100, after: page 5) with totalCount',
    prepare: async (target) => {
      let after: string | null = null;
      for (let page = 0; page < 5; page += 1) {
        const answer = await send(target, graphql(PAGE_QUERY, { after }));
        expectOk('groups page', answer);
        after = answer.json.data.groups.pageInfo.endCursor;
      }
      return { after };
    },
    request: (_s, prepared) => graphql(PAGE_QUERY, { after: prepared.after }),
    check: (json) => (json.data?.groups?.nodes?.length === 100 ? null : `expected 100 nodes, got ${json.data?.groups?.nodes?.length}`),
  },
  {
    name: SORTED_SCENARIO,
    prepare: async (target) => {
      let after: string | null = null;
      for (let page = 0; page < 5; page += 1) {
        const answer = await send(target, graphql(SORTED_PAGE_QUERY, { after }));
        expectOk('sorted groups page', answer);
        after = answer.json.data.groups.pageInfo.endCursor;
      }
      return { after };
    },
    request: (_s, prepared) => graphql(SORTED_PAGE_QUERY, { after: prepared.after }),
    check: (json) => (json.data?.groups?.nodes?.length === 100 ? null : `expected 100 nodes, got ${json.data?.groups?.nodes?.length}`),
  },
  {
    name: 'GraphQL children(first: 50) of wide',
    request: (s) =>
      graphql('query($id: ID!) { group(id: $id) { children(first: 50) { totalCount nodes { id name } pageInfo { endCursor hasNextPage } } } }', {
        id: String(s.fixtures.wide),
      }),
    check: (json, s) =>
      json.data?.group?.children?.nodes?.length === 50 && json.data.group.children.totalCount === s.counts.wideChildren
        ? null
        : `expected 50 of ${s.counts.wideChildren} children, got ${json.data?.group?.children?.nodes?.length} of ${json.data?.group?.children?.totalCount}`,
  },
  {
    name: 'GraphQL members(inherited: true, first: 100) of crowd',
    request: (s) =>
      graphql('query($id: ID!) { group(id: $id) { members(inherited: true, first: 100) { nodes { id name } pageInfo { endCursor hasNextPage } } } }', {
        id: String(s.fixtures.crowd),
      }),
    check: (json) => (json.data?.group?.members?.nodes?.length === 100 ? null : `expected 100 members, got ${json.data?.group?.members?.nodes?.length}`),
  },
  {
    name: "GraphQL person's effectiveRoles with provenance",
    request: (s) =>
      graphql('query($id: ID!) { user(id: $id) { effectiveRoles { direct role { id name } via { id name } } } }', { id: String(s.fixtures.person) }),
    check: (json) => (json.data?.user?.effectiveRoles?.length > 0 ? null : 'expected effective roles'),
  },
  {
    // 1,000 groups and about 10,000 members in large (100 and 1,000 in small): the sizes differ by design.
    name: MOVE_IMPACT_SCENARIO,
    request: (s) => graphql(MOVE_IMPACT_QUERY, { g: String(s.fixtures.mover), p: String(s.fixtures.moveB) }),
    check: (json) => {
      const impact = json.data?.moveImpact;
      const affected = impact?.totals?.usersAffected ?? 0;
      if (!impact?.allowed || affected === 0) return `expected an allowed move that changes roles, got ${JSON.stringify(impact?.totals ?? impact)}`;
      return impact.users.nodes.length === Math.min(40, affected) ? null : `expected ${Math.min(40, affected)} users, got ${impact.users.nodes.length}`;
    },
    ratioGoal: null,
  },
];

interface Stats {
  medianMs: number;
  p95Ms: number;
  /** SQL statements the request makes (counted in process); null when not counted. */
  statements: number | null;
}

interface LatencyRow {
  scenario: string;
  small: Stats | null;
  large: Stats | null;
  ratio: number | null;
  goal: number | null;
  error?: string;
}

const round1 = (n: number) => Math.round(n * 100) / 100;

/** Counts the SQL statements of a request on the in-process app (after two untimed warm-ups). */
interface Counter {
  count(state: SeedState, request: Request): Promise<number>;
  close(): Promise<void>;
}

async function statementCounter(url: string): Promise<Counter> {
  const db: Database = await openDatabase({ kind: 'postgres', url }, { migrate: false });
  const fixed = new Date();
  const app = await buildApp({
    db: db.prisma,
    maxGroupDepth: treeLimits().maxGroupDepth,
    jwt: null,
    traffic: { ...trafficLimits(), pointsPerWindow: 1e9, requestsPerAddress: 1e9, concurrentPerCredential: 1000 },
    listen: db.listen,
    clock: { now: () => fixed }, // lastUsedAt is written on the first request only
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    async count(state, request) {
      // Untimed, so a 503 (the pool's watchdog on a machine too busy to open a connection in
      // time) is tried again rather than losing the scenario's count.
      for (let attempt = 1; ; attempt += 1) {
        await app.settled();
        const before = db.statements.total;
        const answer = await send({ baseUrl, state }, request);
        await app.settled();
        if (answer.status === 503 && attempt < 3) {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          continue;
        }
        expectOk('counted request', answer);
        return db.statements.total - before;
      }
    },
    async close() {
      await app.close();
      await db.close();
    },
  };
}

async function latency(service: string, states: Record<PresetName, SeedState>, counter: Counter, opts: Options): Promise<LatencyRow[]> {
  const rows: LatencyRow[] = [];
  for (const scenario of SCENARIOS) {
    process.stderr.write(`latency: ${scenario.name}…\n`);
    const goal = scenario.ratioGoal === undefined ? RATIO_GOAL : scenario.ratioGoal;
    try {
      const prepared = {} as Record<PresetName, Record<string, unknown>>;
      const requests = {} as Record<PresetName, Request>;
      const times: Record<PresetName, number[]> = { small: [], large: [] };
      const statements = {} as Record<PresetName, number>;
      for (const preset of PRESET_NAMES) {
        const target = { baseUrl: service, state: states[preset] };
        prepared[preset] = scenario.prepare ? await scenario.prepare(target) : {};
        requests[preset] = scenario.request(states[preset], prepared[preset]);
        const first = await send(target, requests[preset]);
        expectOk(`${scenario.name} (${preset})`, first, scenario.check ? (json) => scenario.check!(json, states[preset]) : undefined);
      }
      const once = async (preset: PresetName, record: boolean) => {
        const started = performance.now();
        const answer = await send({ baseUrl: service, state: states[preset] }, requests[preset]);
        const ms = performance.now() - started;
        expectOk(`${scenario.name} (${preset})`, answer);
        if (record) times[preset].push(ms);
      };
      for (let i = 0; i < opts.warmup + opts.requests; i += 1) {
        const order: PresetName[] = i % 2 === 0 ? ['small', 'large'] : ['large', 'small'];
        for (const preset of order) await once(preset, i >= opts.warmup);
      }
      for (const preset of PRESET_NAMES) {
        await counter.count(states[preset], requests[preset]);
        await counter.count(states[preset], requests[preset]);
        statements[preset] = await counter.count(states[preset], requests[preset]);
      }
      const stats = (preset: PresetName): Stats => ({
        medianMs: round1(percentile(times[preset], 50)),
        p95Ms: round1(percentile(times[preset], 95)),
        statements: statements[preset],
      });
      const small = stats('small');
      const large = stats('large');
      rows.push({ scenario: scenario.name, small, large, ratio: round1(large.medianMs / small.medianMs), goal });
    } catch (error) {
      const message = (error as Error).message.split('\n')[0];
      process.stderr.write(`*** ${scenario.name} failed: ${message}\n`);
      rows.push({ scenario: scenario.name, small: null, large: null, ratio: null, goal, error: message });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Sorted pages: the plan of the statement that finds a page sorted by name

interface SortedPlan {
  plan: string;
  /** The expression index on (tenant_id, lower(name), id) is read. */
  index: boolean;
  /** A Sort node: the page would be sorted after reading every matching row. */
  sorts: boolean;
}

const SORTED_INDEX = 'groups_tenant_id_lower_name_id_idx';

/**
 * EXPLAIN ANALYZE of the links statement of `groups(first: 100, after: <500th by name>, orderBy:
 * NAME)`, as the domain builds it: its $queryRaw is caught on the way to the database.
 */
async function sortedPlans(url: string, states: Record<PresetName, SeedState>): Promise<Record<PresetName, SortedPlan>> {
  const db: Database = await openDatabase({ kind: 'postgres', url }, { migrate: false });
  try {
    const plans = {} as Record<PresetName, SortedPlan>;
    for (const preset of PRESET_NAMES) {
      const statements: Prisma.Sql[] = [];
      const spy = new Proxy(db.prisma, {
        get(target, prop) {
          const value = Reflect.get(target, prop);
          if (prop === '$queryRaw') return (sql: Prisma.Sql) => (statements.push(sql), target.$queryRaw(sql));
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const ctx = fullAccessContext(spy, states[preset].tenantId, { maxGroupDepth: treeLimits().maxGroupDepth });
      const order = { field: 'NAME', direction: 'ASC' } as const;
      let after: string | null = null;
      for (let page = 0; page < 5; page += 1) {
        const found = await groupPage(ctx, windowOf({ first: 100, after }, 'sorted', order), {});
        after = found.cursors.at(-1) ?? null;
      }
      statements.length = 0;
      await groupPage(ctx, windowOf({ first: 100, after }, 'sorted', order), {});
      const links = statements[0];
      const rows = await db.prisma.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${links.text}`, ...links.values);
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      plans[preset] = { plan, index: plan.includes(SORTED_INDEX), sorts: /\bSort\b/.test(plan) };
    }
    return plans;
  } finally {
    await db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Writes

interface WriteRow {
  write: string;
  /** Largest large/small ratio the issue asks for; null where the two differ in size by design. */
  goal: number | null;
  runs: number;
  small: Stats | null;
  large: Stats | null;
  ratio: number | null;
  error?: string;
}

async function writes(service: string, states: Record<PresetName, SeedState>, counter: Counter, url: string): Promise<WriteRow[]> {
  const pool = new Pool({ connectionString: url, max: 2 });
  const rows: WriteRow[] = [];
  const move = (id: number, parentId: number) =>
    graphql('mutation($id: ID!, $p: ID!) { updateGroup(id: $id, input: { parentId: $p }) { id depth } }', { id: String(id), p: String(parentId) });
  const del = (id: number) => graphql('mutation($id: ID!) { deleteGroup(id: $id) }', { id: String(id) });
  const addMember = (g: number, u: number) =>
    graphql('mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }', { g: String(g), u: String(u) });
  const removeMember = (g: number, u: number) =>
    graphql('mutation($g: ID!, $u: ID!) { removeGroupMember(groupId: $g, userId: $u) { id } }', { g: String(g), u: String(u) });

  /** A group with 100 children under the spine's depth-10 group, by SQL; returns its id and the children's. */
  const doomed = async (state: SeedState): Promise<{ id: number; children: number[] }> => {
    const under = state.fixtures.spine[10];
    const parent = await pool.query<{ id: number }>(
      `INSERT INTO groups (id, tenant_id, name, parent_group_id, path)
       SELECT n.id, g.tenant_id, 'bench: deleted with 100 children', g.id, g.path || n.id
       FROM groups g, (SELECT nextval(pg_get_serial_sequence('groups', 'id'))::int AS id) n WHERE g.id = $1 RETURNING id`,
      [under],
    );
    const id = parent.rows[0].id;
    const children = await pool.query<{ id: number }>(
      `WITH n AS (SELECT nextval(pg_get_serial_sequence('groups', 'id'))::int AS id, k FROM generate_series(1, 100) k)
       INSERT INTO groups (id, tenant_id, name, parent_group_id, path)
       SELECT n.id, g.tenant_id, 'bench: child ' || n.k, g.id, g.path || n.id FROM groups g, n WHERE g.id = $1 RETURNING id`,
      [id],
    );
    return { id, children: children.rows.map((r) => r.id) };
  };
  const cleanUp = (ids: number[]) => pool.query('DELETE FROM groups WHERE id = ANY($1::int[])', [ids]);

  interface Kind {
    write: string;
    goal: number | null;
    runs: number;
    /** One measured write (and what undoes it, untimed unless it is itself measured). */
    run: (target: Target, measure: (request: Request) => Promise<void>) => Promise<void>;
  }
  const kinds: Kind[] = [
    {
      write: 'updateGroup: move mover subtree to moveB (and back to moveA)',
      goal: null, // 100 groups in small, 1,000 in large
      runs: 5,
      run: async (target, measure) => {
        const f = target.state.fixtures;
        await measure(move(f.mover, f.moveB));
        await measure(move(f.mover, f.moveA));
      },
    },
    {
      write: 'deleteGroup: a group with 100 children',
      goal: null,
      runs: 5,
      run: async (target, measure) => {
        const made = await doomed(target.state);
        try {
          await measure(del(made.id));
        } finally {
          await cleanUp([made.id, ...made.children]);
        }
      },
    },
    {
      write: 'addGroupMember / removeGroupMember: memberUser on wide',
      goal: RATIO_GOAL,
      runs: 20,
      run: async (target, measure) => {
        const f = target.state.fixtures;
        await measure(addMember(f.wide, f.memberUser));
        await measure(removeMember(f.wide, f.memberUser));
      },
    },
  ];
  try {
    for (const kind of kinds) {
      process.stderr.write(`writes: ${kind.write}…\n`);
      try {
        const times: Record<PresetName, number[]> = { small: [], large: [] };
        const statements: Record<PresetName, number[]> = { small: [], large: [] };
        // One untimed run each, then `runs` timed runs interleaved.
        for (let i = -1; i < kind.runs; i += 1) {
          const order: PresetName[] = i % 2 === 0 ? ['small', 'large'] : ['large', 'small'];
          for (const preset of order) {
            const target = { baseUrl: service, state: states[preset] };
            await kind.run(target, async (request) => {
              const started = performance.now();
              const answer = await send(target, request);
              const ms = performance.now() - started;
              expectOk(`${kind.write} (${preset})`, answer);
              if (i >= 0) times[preset].push(ms);
            });
          }
        }
        // Statements: one more run of each on the in-process app.
        for (const preset of PRESET_NAMES) {
          await kind.run({ baseUrl: '', state: states[preset] }, async (request) => {
            statements[preset].push(await counter.count(states[preset], request));
          });
        }
        const stats = (preset: PresetName): Stats => ({
          medianMs: round1(percentile(times[preset], 50)),
          p95Ms: round1(percentile(times[preset], 95)),
          statements: Math.max(...statements[preset]),
        });
        const small = stats('small');
        const large = stats('large');
        rows.push({ write: kind.write, goal: kind.goal, runs: times.small.length, small, large, ratio: round1(large.medianMs / small.medianMs) });
      } catch (error) {
        const message = (error as Error).message.split('\n')[0];
        process.stderr.write(`*** ${kind.write} failed: ${message}\n`);
        rows.push({ write: kind.write, goal: kind.goal, runs: 0, small: null, large: null, ratio: null, error: message });
      }
    }
  } finally {
    await pool.end();
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Throughput

interface ThroughputRow {
  target: string;
  rounds: number[];
  medianRps: number;
  p50Ms: number;
  p99Ms: number;
  percentOfFloor: number | null;
  goalPercent: number | null;
  failures: number;
}

async function throughput(service: string, floor: string, state: SeedState, opts: Options): Promise<ThroughputRow[]> {
  const auth = { authorization: `Bearer ${state.key}` };
  const leaf = state.fixtures.leaf;
  const gql = JSON.stringify({
    query: 'query($id: ID!) { group(id: $id) { id name description parent { id } } }',
    variables: { id: String(leaf) },
  });
  const targets = [
    { target: 'floor: Fastify + pg, GET group', url: `${floor}/t/${state.slug}/api/v1/groups/${leaf}`, method: 'GET', headers: auth },
    { target: 'service: REST GET /groups/{leaf}', url: `${service}/t/${state.slug}/api/v1/groups/${leaf}`, method: 'GET', headers: auth, goal: REST_FLOOR_GOAL },
    {
      target: 'service: GraphQL group(id) { id name description parent { id } }',
      url: `${service}/graphql`,
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: gql,
      goal: GRAPHQL_FLOOR_GOAL,
    },
  ];
  // Each answers what it should before it is measured.
  for (const t of targets) {
    const answer = await fetch(t.url, { method: t.method, headers: t.headers, body: t.body });
    const json = (await answer.json()) as any;
    const id = json.id ?? json.data?.group?.id;
    if (answer.status !== 200 || String(id) !== String(leaf)) throw new Error(`${t.target}: ${answer.status} ${JSON.stringify(json).slice(0, 300)}`);
  }
  process.stderr.write('throughput: warm-up (2 s each)…\n');
  for (const t of targets) await autocannon({ ...t, connections: CONNECTIONS, duration: 2 });
  const results = targets.map(() => [] as AutocannonResult[]);
  for (let round = 0; round < opts.rounds; round += 1) {
    for (const [i, t] of targets.entries()) {
      process.stderr.write(`throughput round ${round + 1}/${opts.rounds}: ${t.target}…\n`);
      results[i].push(await autocannon({ ...t, connections: CONNECTIONS, duration: opts.duration }));
    }
  }
  /** Successful requests per second (autocannon's duration is in seconds). */
  const rps = (r: AutocannonResult) => Math.round(r['2xx'] / r.duration);
  const rows = targets.map((t, i) => {
    const perRound = results[i].map(rps);
    return {
      target: t.target,
      rounds: perRound,
      medianRps: percentile(perRound, 50),
      p50Ms: percentile(results[i].map((r) => r.latency.p50), 50),
      p99Ms: percentile(results[i].map((r) => r.latency.p99), 50),
      percentOfFloor: null as number | null,
      goalPercent: t.goal ?? null,
      failures: results[i].reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
    };
  });
  for (const row of rows.slice(1)) row.percentOfFloor = Math.round((row.medianRps / rows[0].medianRps) * 1000) / 10;
  return rows;
}

// ---------------------------------------------------------------------------------------------
// CPU profile summary

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

interface HotFunction {
  function: string;
  selfMs: number;
  percent: number;
}

/** Self time per function (name, file, line) from the sampled stacks: each sample's time goes to its leaf node. */
export function topSelfTime(profile: Profile, top = 20): HotFunction[] {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((nodeId, i) => {
    // timeDeltas[i] is the time since the previous sample: it belongs to the sample before this one.
    const us = profile.timeDeltas[i + 1] ?? 0;
    const frame = byNode.get(nodeId)?.callFrame;
    if (!frame) return;
    const file = frame.url ? frame.url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '') : '';
    const key = file ? `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}` : frame.functionName || '(anonymous)';
    selfUs.set(key, (selfUs.get(key) ?? 0) + us);
    total += us;
  });
  return [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ function: fn, selfMs: Math.round(us / 100) / 10, percent: Math.round((us / total) * 1000) / 10 }));
}

function newestProfile(since: number): string | null {
  if (!existsSync(PROFILE_DIR)) return null;
  const files = readdirSync(PROFILE_DIR)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(PROFILE_DIR, f))
    .filter((f) => statSync(f).mtimeMs >= since)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0] ?? null;
}

// ---------------------------------------------------------------------------------------------
// Machine and report

interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  postgres: string;
  commit: string;
  /** Files changed in the working tree when the run started (the server runs the working tree). */
  uncommitted: string[];
  /** 1-minute load average when the run started and when it ended: other work on the machine skews the numbers. */
  loadAverage: { start: number; end: number };
}

async function machine(url: string, loadAtStart: number): Promise<Machine> {
  const pool = new Pool({ connectionString: url, max: 1 });
  const [{ server_version: postgres }] = (await pool.query<{ server_version: string }>('SHOW server_version')).rows;
  await pool.end();
  const gitLines = (args: string): string[] => {
    try {
      return execSync(`git ${args}`, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    postgres,
    commit: gitLines('rev-parse HEAD')[0] ?? 'unknown',
    uncommitted: gitLines('status --porcelain --untracked-files=no').map((line) => line.slice(3)),
    loadAverage: { start: loadAtStart, end: round1(os.loadavg()[0]) },
  };
}

interface Results {
  date: string;
  machine: Machine;
  server: string;
  options: { duration: number; rounds: number; requests: number; warmup: number; parts: string[]; connections: number };
  presets: Record<PresetName, { slug: string; seed: number; via: 'sql' | 'import'; counts: SeedState['counts']; seedSeconds: number }>;
  latency: LatencyRow[];
  sortedPlans: Record<PresetName, SortedPlan> | null;
  writes: WriteRow[];
  throughput: ThroughputRow[];
  peakMemoryMb: number | null;
  cpuProfile: { file: string; top: HotFunction[] } | null;
  seconds: number;
}

const ms = (n: number | null | undefined) => (n === null || n === undefined ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const ratioCell = (ratio: number | null, goal: number | null) =>
  ratio === null ? '–' : goal === null || ratio <= goal ? `${ratio.toFixed(2)}` : `**${ratio.toFixed(2)}**`;
const statementsCell = (small: Stats | null, large: Stats | null) =>
  small?.statements === null || small?.statements === undefined ? '–' : `${small.statements} / ${large?.statements ?? '–'}`;

function markdown(r: Results): string {
  const lines: string[] = [];
  const { small, large } = r.presets;
  lines.push(
    `Small: ${small.counts.groups.toLocaleString('en')} groups, ${small.counts.users.toLocaleString('en')} users, ${small.counts.memberships.toLocaleString('en')} memberships. ` +
      `Large: ${large.counts.groups.toLocaleString('en')} groups, ${large.counts.users.toLocaleString('en')} users, ${large.counts.memberships.toLocaleString('en')} memberships. ` +
      `Both: depth-20 spine, 200 roles (seed ${large.seed}). ` +
      `Made ${small.via === large.via ? (large.via === 'import' ? 'by `kauth import`, nothing analyzed by hand' : 'by SQL behind the service, then ANALYZE') : `small by ${small.via}, large by ${large.via}`}.`,
    '',
  );
  if (r.latency.length) {
    lines.push(
      `### Latency (${r.options.requests} sequential requests after ${r.options.warmup} warm-up, small and large interleaved; goal large/small ≤ ${RATIO_GOAL})`,
      '',
      '| request | small median ms | small p95 | large median ms | large p95 | large / small | SQL statements small / large |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const row of r.latency) {
      if (row.error) lines.push(`| ${row.scenario} | failed: ${row.error.replace(/\|/g, '\\|').slice(0, 160)} | | | | | |`);
      else
        lines.push(
          `| ${row.scenario} | ${ms(row.small?.medianMs)} | ${ms(row.small?.p95Ms)} | ${ms(row.large?.medianMs)} | ${ms(row.large?.p95Ms)} | ${ratioCell(row.ratio, row.goal)} | ${statementsCell(row.small, row.large)} |`,
        );
    }
    lines.push('');
    const preview = r.latency.find((row) => row.scenario === MOVE_IMPACT_SCENARIO && row.large);
    if (preview?.large) {
      const within = preview.large.p95Ms < MOVE_IMPACT_GOAL_MS ? 'within' : '**not within**';
      lines.push(
        `Move preview: the mover's subtree is ${small.counts.moverSubtree} groups in small and ${large.counts.moverSubtree.toLocaleString('en')} in large ` +
          `(large/small ratio has no goal); at ${large.counts.groups.toLocaleString('en')} groups its p95 is ${ms(preview.large.p95Ms)} ms, ${within} the ${MOVE_IMPACT_GOAL_MS} ms goal.`,
        '',
      );
    }
  }
  if (r.sortedPlans) {
    lines.push(`### Sorted pages: the plan of \`${SORTED_SCENARIO}\` (EXPLAIN ANALYZE of its page statement)`, '');
    for (const preset of PRESET_NAMES) {
      const plan = r.sortedPlans[preset];
      const verdict = `${plan.index ? `reads \`${SORTED_INDEX}\`` : `**does not read \`${SORTED_INDEX}\`**`}, ${plan.sorts ? '**has a Sort node**' : 'no Sort node'}`;
      lines.push(`${preset} (${r.presets[preset].counts.groups.toLocaleString('en')} groups): ${verdict}.`, '', '```', plan.plan, '```', '');
    }
  }
  if (r.writes.length) {
    lines.push(
      `### Writes (GraphQL mutations, interleaved; small's mover subtree is ${small.counts.moverSubtree} groups, large's ${large.counts.moverSubtree.toLocaleString('en')}: its ratio has no goal; add/remove member: ≤ ${RATIO_GOAL})`,
      '',
      '| write | runs each | small median ms | large median ms | large p95 | large / small | SQL statements small / large |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const row of r.writes) {
      if (row.error) lines.push(`| ${row.write} | failed: ${row.error.replace(/\|/g, '\\|').slice(0, 160)} | | | | | |`);
      else
        lines.push(
          `| ${row.write} | ${row.runs} | ${ms(row.small?.medianMs)} | ${ms(row.large?.medianMs)} | ${ms(row.large?.p95Ms)} | ${ratioCell(row.ratio, row.goal)} | ${statementsCell(row.small, row.large)} |`,
        );
    }
    lines.push('');
  }
  if (r.throughput.length) {
    lines.push(
      `### Throughput (autocannon, ${r.options.connections} connections, ${r.options.duration} s per run, ${r.options.rounds} interleaved rounds, large workspace, depth-20 leaf)`,
      '',
      '| target | req/s per round | median req/s | p50 / p99 ms | % of floor | goal | non-2xx + errors |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const row of r.throughput) {
      const pct = row.percentOfFloor === null ? '–' : row.goalPercent !== null && row.percentOfFloor < row.goalPercent ? `**${row.percentOfFloor}%**` : `${row.percentOfFloor}%`;
      lines.push(
        `| ${row.target} | ${row.rounds.map((n) => n.toLocaleString('en')).join(', ')} | ${row.medianRps.toLocaleString('en')} | ${row.p50Ms} / ${row.p99Ms} | ${pct} | ${row.goalPercent === null ? '–' : `≥ ${row.goalPercent}%`} | ${row.failures} |`,
      );
    }
    lines.push('');
  }
  lines.push(`Server: ${r.server}; peak memory (VmHWM) ${r.peakMemoryMb ?? '?'} MB over the run. Bold: goal not met.`);
  if (r.cpuProfile) {
    lines.push('', `CPU profile: \`${path.relative(ROOT, r.cpuProfile.file)}\`; top ${r.cpuProfile.top.length} by self time:`, '', '| function | self ms | % |', '| --- | ---: | ---: |');
    for (const hot of r.cpuProfile.top) lines.push(`| \`${hot.function}\` | ${hot.selfMs} | ${hot.percent} |`);
  }
  return lines.join('\n');
}

function machineLines(m: Machine): string {
  const dirty = m.uncommitted.length ? ` plus uncommitted changes to ${m.uncommitted.length} file${m.uncommitted.length === 1 ? '' : 's'} (${m.uncommitted.slice(0, 8).join(', ')}${m.uncommitted.length > 8 ? ', …' : ''})` : '';
  return [
    `- CPU: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB; server, PostgreSQL, floor and load generator on this one machine`,
    `- Node ${m.node}, PostgreSQL ${m.postgres}; load average (1 min) ${m.loadAverage.start} at the start, ${m.loadAverage.end} at the end`,
    `- Commit ${m.commit}${dirty}`,
  ].join('\n');
}

/** BENCHMARKS.md with its latest run replaced and every other section (other benchmarks' results) kept. */
function updatedBenchmarksMd(r: Results, table: string): string {
  const fresh = benchmarksMd(r, table);
  const file = path.join(ROOT, 'BENCHMARKS.md');
  if (!existsSync(file)) return fresh;
  const section = (text: string) => {
    const start = text.indexOf('\n## Latest run');
    const end = text.indexOf('\n## ', start + 1);
    return start < 0 || end < 0 ? null : { start, end };
  };
  const old = readFileSync(file, 'utf8');
  const at = section(old);
  const now = section(fresh)!;
  return at ? old.slice(0, at.start) + fresh.slice(now.start, now.end) + old.slice(at.end) : fresh;
}

function benchmarksMd(r: Results, table: string): string {
  return `# Benchmarks

Organisation scale (issue 12): the same requests against a 1,000-group and a 100,000-group workspace
(random trees with a depth-20 spine) in one PostgreSQL database, interleaved on one server process,
and throughput of one authenticated group read against a bare Fastify + \`pg\` server doing the same
essential work (\`bench/floor-server.ts\`: SHA-256 of the key's secret, the key by
that hash, the group by workspace and id: 2 statements a request, nothing cached). Benchmarks, not tests: nothing here runs in \`npm test\`.

## Latest run (${r.date})

${machineLines(r.machine)}

${table}

Full numbers: \`bench/results/${r.date}-large.json\`. Seeding took ${r.presets.small.seedSeconds} s (small) and
${r.presets.large.seedSeconds} s (large) when these workspaces were seeded.

## Before (issue 12, the same kind of machine, before connections and kept counts)

| request | large / small |
| --- | ---: |
| GraphQL: depth-20 leaf with ancestors and effective roles | 1.00 |
| REST \`GET /groups/{leaf}\` | 0.99 |
| REST \`GET /groups?offset=500&limit=100\` (with \`meta.total\`) | 4.23 |
| GraphQL \`groups(offset: 500, limit: 100) { nodes { id name parent { id } } total }\` | 3.05 |

Throughput then: floor 5,925 req/s, REST 1,349 (23%), GraphQL 928 (16%).

## Rerun

\`\`\`sh
npm ci
npm run bench:seed -- --preset small    # seconds
npm run bench:seed -- --preset large    # minutes: 100,000 groups, 200,000 users, 1,000,000 memberships
npm run bench                           # --duration 10 --rounds 3 by default; about ${Math.max(1, Math.round(r.seconds / 60))} min
\`\`\`

PostgreSQL on \`127.0.0.1:5432\` (\`DATABASE_URL\` to use another; the default database is
\`kauth_bench\`, created if missing). The seed is deterministic (\`--seed N\`, default 1).
\`npm run bench -- --parts throughput --cpu-prof\` profiles the server during the throughput run
(\`bench/results/profiles/\`) and prints the functions with the most self time.
\`npm run bench:statements\` is the older in-process N+1 statement benchmark.
`;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = options();
  const started = performance.now();
  const loadAtStart = round1(os.loadavg()[0]);
  const states = await loadStates(opts.url, opts.large);
  const built = build();
  const service = await startService(opts, built.ok);
  const startedAt = Date.now();
  process.stderr.write(`server: ${service.how} on ${service.baseUrl} (pid ${service.child.pid})\n`);
  let floor: Server | null = null;
  let counter: Counter | null = null;
  let latencyRows: LatencyRow[] = [];
  let plans: Record<PresetName, SortedPlan> | null = null;
  let writeRows: WriteRow[] = [];
  let throughputRows: ThroughputRow[] = [];
  let peak: number | null = null;
  try {
    if (opts.parts.has('latency') || opts.parts.has('writes')) counter = await statementCounter(opts.url);
    if (opts.parts.has('latency')) latencyRows = await latency(service.baseUrl, states, counter!, opts);
    if (opts.parts.has('latency')) plans = await sortedPlans(opts.url, states);
    if (opts.parts.has('writes')) writeRows = await writes(service.baseUrl, states, counter!, opts.url);
    await counter?.close();
    counter = null;
    if (opts.parts.has('throughput')) {
      floor = await startFloor(opts.url);
      throughputRows = await throughput(service.baseUrl, floor.baseUrl, states.large, opts);
    }
    peak = peakMemoryMb(service.child.pid!);
  } finally {
    await counter?.close().catch(() => undefined);
    if (floor) await stop(floor);
    const code = await stop(service);
    if (code !== 0) process.stderr.write(`*** the server exited with ${code}: ${service.output().slice(-2000)}\n`);
  }
  let cpuProfile: Results['cpuProfile'] = null;
  if (opts.cpuProf) {
    const file = newestProfile(startedAt);
    if (file) cpuProfile = { file, top: topSelfTime(JSON.parse(readFileSync(file, 'utf8')) as Profile) };
    else process.stderr.write(`*** no .cpuprofile found in ${PROFILE_DIR}\n`);
  }
  const date = new Date().toISOString().slice(0, 10);
  const results: Results = {
    date,
    machine: await machine(opts.url, loadAtStart),
    server: built.note + (opts.cpuProf ? ' under --cpu-prof' : ''),
    options: { duration: opts.duration, rounds: opts.rounds, requests: opts.requests, warmup: opts.warmup, parts: [...opts.parts], connections: CONNECTIONS },
    presets: {
      small: { slug: states.small.slug, seed: states.small.seed, via: states.small.via ?? 'sql', counts: states.small.counts, seedSeconds: states.small.seconds },
      large: { slug: states.large.slug, seed: states.large.seed, via: states.large.via ?? 'sql', counts: states.large.counts, seedSeconds: states.large.seconds },
    },
    latency: latencyRows,
    sortedPlans: plans,
    writes: writeRows,
    throughput: throughputRows,
    peakMemoryMb: peak,
    cpuProfile,
    seconds: Math.round((performance.now() - started) / 1000),
  };
  const table = markdown(results);
  mkdirSync(RESULTS_DIR, { recursive: true });
  // A run on workspaces made by SQL is `<date>-large`; others say what they ran on.
  const made = results.presets.large.via === 'import' || results.presets.small.via === 'import' ? '-import' : '';
  const base = path.join(RESULTS_DIR, `${date}-${states.large.preset}${made}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${base}.md`, `# ${date}\n\n${machineLines(results.machine)}\n\n${table}\n`);
  // BENCHMARKS.md's latest run is a full run of the large preset; others are in bench/results.
  const full = ['latency', 'writes', 'throughput'].every((p) => opts.parts.has(p)) && !opts.cpuProf && opts.large === 'large';
  if (full) writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), updatedBenchmarksMd(results, table));
  console.log(`\n${machineLines(results.machine)}\n\n${table}\n`);
  console.log(`results: ${path.relative(ROOT, base)}.json and .md${full ? '; BENCHMARKS.md updated' : ' (partial or profiled run: BENCHMARKS.md left as it was)'}; ${results.seconds} s`);
  if (cpuProfile) console.log(`CPU profile: ${cpuProfile.file}`);
}

if (require.main === module) runBench(main);
