// What the fail-closed bounds cost and protect, on real server processes (src/main.ts through tsx,
// deployed defaults unless a part says otherwise, REDIS_URL unset) on a fresh PostgreSQL database:
//  1. peak memory (VmHWM, reset before each measurement through /proc/<pid>/clear_refs) of one
//     server process answering the most expensive query the limits accept, on a 480,100-group tree
//     seeded (INSERT … SELECT generate_series, ~20 s) so that the query returns its price:
//     groups(first: 100, rootsOnly) × children(first: 100) × children(first: 47) { id name },
//     priced 490,201 (GRAPHQL_MAX_COST 500,000; 48 would price 500,201), a 13 MiB answer (names
//     are short to stay under the 16 MiB response cap). If the deployed deadline (10 s) stops it,
//     again in a fresh process with REQUEST_TIMEOUT_MS and DB_STATEMENT_TIMEOUT_MS 120000, to see
//     what it costs when it completes. Then, in a fresh process, refused ones: a fragment tower
//     (F5 → 10 × F4 → … → 10,000 × F1) and a nested ancestors × descendants(first: 100) query;
//  2. another credential's latency (B, another workspace: sequential `viewer` and `groups(first:
//     10)` reads): quiet; during WRITERS concurrent renames of the roots by an admin key, first
//     without subscriptions, then while a groups:read key A holds its 25 subscriptions (20 + 5 on
//     two graphql-ws connections; the 26th refused) of the heaviest selection accepted (priced 994
//     of GRAPHQL_MAX_SUBSCRIPTION_COST 1000; one priced 1,094 is refused first); then while A's
//     events drain. Writes/s, events delivered, server CPU, pool (from /metrics), peak RSS. Rate
//     limits are raised and writers over the concurrency cap wait for a slot, so fair share does not cut them;
//  3. time from a client's disconnect to the end of its running statement: the groups table locked
//     from another connection, a query sent, its statement seen waiting on the lock in
//     pg_stat_activity (application_name kauth-bench-gone), the fetch aborted, pg_stat_activity
//     polled every POLL_MS until no statement of that application is active; then the same for a
//     statement that is busy rather than waiting (a name search matching none of 480,100 groups).
// Prints one table (progress on stderr). Cleans up: the server processes, and the database it created.
// About 4 minutes on 2 cores. SERVER_LOG_LEVEL=info keeps the servers' request log (printed when the big query fails).
//
//   npx tsx bench/fail-closed.ts     # creates (and drops) postgres://postgres@127.0.0.1:5432/kauth_bench_fail_closed
//   DATABASE_URL=postgres://…/other npx tsx bench/fail-closed.ts   # an existing database: its bench workspaces are deleted instead
//   PARTS=1,3 STORM_SECONDS=20 WRITERS=8 DRAIN_SECONDS=90 GONE_RUNS=20 POLL_MS=2 npx tsx bench/fail-closed.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { Client } from 'pg';
import WebSocket from 'ws';
import { OPERATOR, createApiKey } from '../src/domain/apikeys';
import { createTenant } from '../src/domain/tenants';
import { fullAccessContext } from '../src/domain/context';
import { workspaceCounts } from '../src/domain/counts';
import { treeLimits } from '../src/config';
import { type Database, DEFAULT_POOL, foldCountDeltas, openDatabase } from '../src/db';
import { type ServerProcess, startServer, stopServer } from '../test/support/servers';
import { onServer } from './seed';
import { gql, percentile, runBench } from './support';

const GIVEN_URL = process.env.DATABASE_URL || null;
const URL_ = GIVEN_URL ?? 'postgres://postgres@127.0.0.1:5432/kauth_bench_fail_closed';
const ROOTS = 100;
const CHILDREN = 100;
const GRANDCHILDREN = Number(process.env.GRANDCHILDREN ?? 47);
const STORM_SECONDS = Number(process.env.STORM_SECONDS ?? 20);
const WRITERS = Number(process.env.WRITERS ?? 8);
const GONE_RUNS = Number(process.env.GONE_RUNS ?? 20);
const POLL_MS = Number(process.env.POLL_MS ?? 2);
const DRAIN_SECONDS = Number(process.env.DRAIN_SECONDS ?? 90);
const PARTS = (process.env.PARTS ?? '1,2,3').split(',');
const GONE_APP = 'kauth-bench-gone';
const MB = 1024 * 1024;

const rows: string[][] = [];
const row = (part: string, what: string, value: string, note = '') => rows.push([part, what, value, note]);
const log = (message: string) => process.stderr.write(`[fail-closed] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n: number) => n.toLocaleString('en-US');
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const ms = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} ms`;

/** VmHWM and VmRSS of a process, in kB. */
function memoryOf(pid: number): { hwm: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { hwm: field('VmHWM'), rss: field('VmRSS') };
}

/** Resets the process's peak RSS (VmHWM) to its current RSS; false where the kernel does not allow it. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Samples VmRSS every 10 ms until stopped: the highest seen (a check on VmHWM). */
function sampleRss(pid: number): () => number {
  let max = 0;
  const timer = setInterval(() => {
    try {
      max = Math.max(max, memoryOf(pid).rss);
    } catch {
      /* exited */
    }
  }, 10);
  return () => {
    clearInterval(timer);
    return max;
  };
}

async function prepareDatabase(): Promise<void> {
  if (GIVEN_URL) return;
  await onServer(URL_, async (admin, name) => {
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  });
}

async function dropDatabase(): Promise<void> {
  if (GIVEN_URL) return;
  await onServer(URL_, async (admin, name) => {
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
  });
}

interface Seeded {
  tenantId: number;
  slug: string;
  roots: number[];
  /** A depth-2 group. */
  leaf: number;
  reader: string;
  admin: string;
  seconds: number;
}

/**
 * The big workspace: ROOTS roots, CHILDREN children each, GRANDCHILDREN grandchildren each, ids
 * reserved from the sequence and rows sent as three INSERT … SELECT generate_series (roots first);
 * the counters (child_count, subtree_size, the workspace's count) are left to the count triggers.
 * Names are short ("r12", "c3", "g40") so that the whole answer stays under the 16 MiB response cap.
 */
async function seedTree(db: Database): Promise<Seeded> {
  const started = performance.now();
  const slug = `fc-tree-${Date.now().toString(36)}`;
  const tenant = await createTenant(db.prisma, { slug });
  const total = ROOTS + ROOTS * CHILDREN + ROOTS * CHILDREN * GRANDCHILDREN;
  const [{ first }] = await db.raw.query<{ first: string }>(`SELECT nextval(pg_get_serial_sequence('groups', 'id')) AS first`);
  const base = Number(first);
  await db.raw.query(`SELECT setval(pg_get_serial_sequence('groups', 'id'), $1::bigint)`, [base + total - 1]);
  const childBase = base + ROOTS;
  const grandBase = childBase + ROOTS * CHILDREN;
  await db.raw.query(
    `INSERT INTO groups (id, tenant_id, name, parent_group_id, path)
     SELECT $1::int + r, $2::int, 'r' || r, NULL, ARRAY[$1::int + r] FROM generate_series(0, $3::int - 1) r`,
    [base, tenant.id, ROOTS],
  );
  await db.raw.query(
    `INSERT INTO groups (id, tenant_id, name, parent_group_id, path)
     SELECT $4::int + r * $5::int + c, $2::int, 'c' || c, $1::int + r, ARRAY[$1::int + r, $4::int + r * $5::int + c]
     FROM generate_series(0, $3::int - 1) r, generate_series(0, $5::int - 1) c`,
    [base, tenant.id, ROOTS, childBase, CHILDREN],
  );
  log(`seeded ${ROOTS} roots and ${ROOTS * CHILDREN} children; now ${ROOTS * CHILDREN * GRANDCHILDREN} grandchildren…`);
  await db.raw.query(
    `INSERT INTO groups (id, tenant_id, name, parent_group_id, path)
     SELECT $3::int + p * $4::int + g, $1::int, 'g' || g, $2::int + p, ARRAY[$5::int + p / $6::int, $2::int + p, $3::int + p * $4::int + g]
     FROM generate_series(0, $7::int - 1) p, generate_series(0, $4::int - 1) g`,
    [tenant.id, childBase, grandBase, GRANDCHILDREN, base, CHILDREN, ROOTS * CHILDREN],
  );
  await db.raw.query('ANALYZE groups');
  await foldCountDeltas(db.raw, tenant.id); // the three INSERTs' deltas, folded as an import folds its own
  const { groups: counted } = await workspaceCounts(db.prisma, tenant.id);
  if (counted !== total) throw new Error(`the workspace counts ${counted} groups, ${total} were inserted`);
  const ctx = fullAccessContext(db.prisma, tenant.id, treeLimits());
  const { key: reader } = await createApiKey(ctx, OPERATOR, { name: 'reader', scopes: ['groups:read'] });
  const { key: admin } = await createApiKey(ctx, OPERATOR, { name: 'admin', scopes: ['groups:read', 'groups:write'] });
  return {
    tenantId: tenant.id,
    slug,
    roots: Array.from({ length: ROOTS }, (_, i) => base + i),
    leaf: grandBase,
    reader,
    admin,
    seconds: (performance.now() - started) / 1000,
  };
}

/** A small second workspace for key B: 20 groups, a groups:read key. */
async function seedOther(db: Database): Promise<{ tenantId: number; key: string }> {
  const tenant = await createTenant(db.prisma, { slug: `fc-other-${Date.now().toString(36)}` });
  const [{ first }] = await db.raw.query<{ first: string }>(`SELECT nextval(pg_get_serial_sequence('groups', 'id')) AS first`);
  await db.raw.query(`SELECT setval(pg_get_serial_sequence('groups', 'id'), $1::bigint)`, [Number(first) + 19]);
  await db.raw.query(
    `INSERT INTO groups (id, tenant_id, name, path) SELECT $1::int + i, $2::int, 'other ' || i, ARRAY[$1::int + i] FROM generate_series(0, 19) i`,
    [Number(first), tenant.id],
  );
  const { key } = await createApiKey(fullAccessContext(db.prisma, tenant.id, treeLimits()), OPERATOR, { name: 'B', scopes: ['groups:read'] });
  return { tenantId: tenant.id, key };
}

async function start(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServer({ DATABASE_URL: URL_, REDIS_URL: '', LOG_LEVEL: process.env.SERVER_LOG_LEVEL || 'warn', ...env });
  await server.ready;
  return server;
}

/** POSTs a query, with its size and time. */
async function timed(base: string, key: string, query: string): Promise<{ status: number; body: any; bytes: number; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const text = await res.text();
  const elapsed = performance.now() - started;
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, bytes: Buffer.byteLength(text), ms: elapsed };
}

const codesOf = (body: any): string => [...new Set<string>((body?.errors ?? []).map((e: any) => e.extensions?.code ?? '?'))].join(', ') || '–';

// ---------------------------------------------------------------------------------------------
// Part 1: memory of the most expensive accepted query, and of refused ones.

const BIG_QUERY = `{ groups(first: ${ROOTS}, rootsOnly: true) { nodes { id name children(first: ${CHILDREN}) { nodes { id name children(first: ${GRANDCHILDREN}) { nodes { id name } } } } } } }`;

function fragmentTower(id: number): string {
  const fragments = ['fragment F1 on Group { descendants(first: 100) { nodes { id name ancestors { id name } } } }'];
  for (let k = 2; k <= 5; k += 1) fragments.push(`fragment F${k} on Group { ${Array.from({ length: 10 }, () => `...F${k - 1}`).join(' ')} }`);
  return `{ group(id: "${id}") { ...F5 } }\n${fragments.join('\n')}`;
}

const nestedQuery = (leaf: number) =>
  `{ group(id: "${leaf}") { ancestors { id descendants(first: 100) { nodes { id ancestors { id descendants(first: 100) { nodes { id ancestors { id descendants(first: 100) { nodes { id } } } } } } } } } } }`;

/** The most expensive accepted query, alone in a fresh server process with `env`. */
async function accepted(tree: Seeded, label: string, env: Record<string, string>): Promise<number> {
  const server = await start(env);
  const pid = server.child.pid!;
  try {
    const warm = await timed(server.baseUrl, tree.reader, '{ groups(first: 5, rootsOnly: true) { nodes { id name children(first: 5) { nodes { id name } } } } }');
    if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}: ${JSON.stringify(warm.body)}`);
    const idle = memoryOf(pid);
    const reset = resetPeak(pid);
    const stopSampling = sampleRss(pid);
    const cpu = cpuSeconds(pid);
    const big = await timed(server.baseUrl, tree.reader, BIG_QUERY);
    const sampled = stopSampling();
    const cpuUsed = cpuSeconds(pid) - cpu;
    await sleep(200);
    const after = memoryOf(pid);
    const rate = big.body?.extensions?.rateLimit ?? {};
    const grand = (big.body?.data?.groups?.nodes ?? []).reduce(
      (sum: number, root: any) => sum + root.children.nodes.reduce((s: number, child: any) => s + child.children.nodes.length, 0),
      0,
    );
    const part = `1 accepted, ${label}`;
    row(part, 'status, code', `${big.status}, ${codesOf(big.body)}`, `${fmt(grand)} grandchildren returned${big.status !== 200 ? `: ${big.body?.errors?.[0]?.message ?? ''}` : ''}`);
    row(part, 'queryCost / objects (extensions.rateLimit)', `${fmt(rate.queryCost ?? NaN)} / ${fmt(rate.objects ?? NaN)}`, `maxQueryCost ${fmt(rate.maxQueryCost ?? NaN)}; ${rate.cost ?? '?'} points of ${rate.limit ?? '?'}`);
    row(part, 'response size, time', `${(big.bytes / MB).toFixed(2)} MiB, ${ms(big.ms)}`, `server CPU ${cpuUsed.toFixed(1)} s`);
    row(part, 'server RSS before → after (VmRSS)', `${mb(idle.rss)} → ${mb(after.rss)}`, `peak since start before the query (VmHWM) ${mb(idle.hwm)}`);
    row(part, 'server peak RSS during the query (VmHWM)', `**${mb(after.hwm)}**`, reset ? `VmHWM reset before the query; highest 10 ms sample ${mb(sampled)}` : `VmHWM could not be reset: peak since start; highest 10 ms sample ${mb(sampled)}`);
    if (big.status !== 200) {
      const lines = server.output().trim().split('\n').filter(Boolean);
      log(`server output (${lines.length} lines), last 5:\n${lines.slice(-5).map((line) => line.slice(0, 2000)).join('\n')}`);
    }
    return big.status;
  } finally {
    await stopServer(server);
  }
}

/** User + system CPU seconds a process has used. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return NaN;
  }
}

async function part1(tree: Seeded): Promise<void> {
  log('part 1: the most expensive accepted query, alone in a server process');
  row('1 accepted', 'query', `groups(first: ${ROOTS}, rootsOnly) × children(first: ${CHILDREN}) × children(first: ${GRANDCHILDREN}) { id name }`, `tree of ${fmt(ROOTS + ROOTS * CHILDREN + ROOTS * CHILDREN * GRANDCHILDREN)} groups seeded in ${tree.seconds.toFixed(1)} s; ${BIG_QUERY.length} characters`);
  const status = await accepted(tree, 'defaults', {});
  if (status !== 200) {
    log('part 1: not answered within the deployed deadline; again with REQUEST_TIMEOUT_MS and DB_STATEMENT_TIMEOUT_MS 120000');
    await accepted(tree, 'deadline 120 s', { REQUEST_TIMEOUT_MS: '120000', DB_STATEMENT_TIMEOUT_MS: '120000' });
  }

  log('part 1: refused queries, in a fresh server process');
  const fresh = await start({});
  const freshPid = fresh.child.pid!;
  try {
    const warm = await timed(fresh.baseUrl, tree.reader, '{ viewer { scopes } }');
    if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}`);
    const idle = memoryOf(freshPid);
    row('1 refused', 'fresh process RSS before (VmRSS / VmHWM)', `${mb(idle.rss)} / ${mb(idle.hwm)}`);
    const refusals: [string, string][] = [
      ['fragment tower F1..F5 (10 spreads each, 10,000 F1)', fragmentTower(tree.roots[0])],
      ['nested ancestors × descendants(100) × 3', nestedQuery(tree.leaf)],
    ];
    for (const [label, query] of refusals) {
      const reset = resetPeak(freshPid);
      const stopSampling = sampleRss(freshPid);
      const res = await timed(fresh.baseUrl, tree.reader, query);
      const sampled = stopSampling();
      await sleep(100);
      const mem = memoryOf(freshPid);
      const error = res.body?.errors?.[0];
      const details = error?.extensions ? Object.entries(error.extensions).filter(([k]) => k !== 'code').map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : JSON.stringify(v)}`).join(', ') : '';
      row('1 refused', `${label}: ${query.length} characters`, `${res.status}, ${codesOf(res.body)} in ${ms(res.ms)}`, details);
      row('1 refused', `${label}: peak RSS (VmHWM)`, mb(mem.hwm), `${reset ? 'reset before' : 'since start'}; RSS after ${mb(mem.rss)}; highest 10 ms sample ${mb(sampled)}`);
    }
  } finally {
    await stopServer(fresh);
  }
}

// ---------------------------------------------------------------------------------------------
// Part 2: another key's latency while one key holds its heaviest subscriptions and writes feed them.

/** groupChanges selecting the root's 100 children, 6 grandchildren each and 90 descendants; `kids` 7 prices it past 1000. */
const heavySubscription = (kids: number) =>
  `subscription { groupChanges { group { name descendants(first: 90) { nodes { id name } } children(first: 100) { nodes { id name parent { name } children(first: ${kids}) { nodes { id name } } } } } } }`;

interface Sub {
  events: number;
  objects: number;
  errors: Record<string, number>;
  refusal: any[] | null;
  ended: boolean;
  lastAt: number;
  stop(): void;
}

function connect(base: string, key: string): WsClient {
  return createClient({
    url: `${base.replace('http', 'ws')}/graphql/ws`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
  });
}

function subscribe(client: WsClient, query: string): Sub {
  const sub: Sub = { events: 0, objects: 0, errors: {}, refusal: null, ended: false, lastAt: 0, stop: () => undefined };
  sub.stop = client.subscribe(
    { query },
    {
      next: (value: any) => {
        sub.lastAt = performance.now();
        if (value.errors) for (const e of value.errors) sub.errors[e.extensions?.code ?? '?'] = (sub.errors[e.extensions?.code ?? '?'] ?? 0) + 1;
        if (value.data?.groupChanges) sub.events += 1;
        const group = value.data?.groupChanges?.group;
        const kids = group?.children?.nodes ?? [];
        sub.objects += (group ? 1 : 0) + (group?.descendants?.nodes?.length ?? 0) + kids.length + kids.reduce((s: number, k: any) => s + k.children.nodes.length, 0);
      },
      error: (error) => {
        sub.ended = true;
        sub.refusal = Array.isArray(error) ? error : [{ message: String((error as any)?.code ?? error), extensions: { code: `closed ${(error as any)?.code ?? ''}` } }];
      },
      complete: () => {
        sub.ended = true;
      },
    },
  );
  return sub;
}

async function waitFor<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const RENAME = 'mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id } }';

/** The answer's status, with its error code if it carries one ("200", "429 RATE_LIMITED"). */
async function rename(base: string, key: string, id: number, name: string): Promise<string> {
  const res = await gql(base, key, RENAME, { id: String(id), input: { name } });
  return res.body?.errors ? `${res.status} ${codesOf(res.body)}` : String(res.status);
}

const B_READS = ['{ viewer { scopes } }', '{ groups(first: 10) { nodes { id name } } }'];

/** B's sequential reads (viewer, then groups, alternating) until `done()`; latencies per query. */
async function readsOfB(base: string, key: string, done: () => boolean, min: number): Promise<{ viewer: number[]; groups: number[]; failed: Record<number, number> }> {
  const out = { viewer: [] as number[], groups: [] as number[], failed: {} as Record<number, number> };
  for (let i = 0; i < min * 2 || !done(); i += 1) {
    const query = B_READS[i % 2];
    const started = performance.now();
    const res = await gql(base, key, query);
    const elapsed = performance.now() - started;
    if (res.status !== 200 || res.body?.errors) out.failed[res.status] = (out.failed[res.status] ?? 0) + 1;
    (i % 2 === 0 ? out.viewer : out.groups).push(elapsed);
  }
  return out;
}

const lat = (values: number[]) => (values.length ? `${ms(percentile(values, 50))} / ${ms(percentile(values, 95))}` : '–');

const METRICS_TOKEN = 'fail-closed-bench-metrics';

/** Samples the server's pool gauge (waiting for a connection, in use) every 250 ms until stopped. */
function samplePool(base: string): () => Promise<{ waitingMax: number; waitingMean: number; inUseMean: number; lagMax: number }> {
  const waiting: number[] = [];
  const inUse: number[] = [];
  const lag: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const text = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }).then((r) => r.text(), () => '');
      const gauge = (state: string) => Number(new RegExp(`kauth_db_pool_connections\\{state="${state}"\\} (\\d+)`).exec(text)?.[1] ?? NaN);
      if (!Number.isNaN(gauge('waiting'))) {
        waiting.push(gauge('waiting'));
        inUse.push(gauge('in_use'));
      }
      const lagMax = Number(/^kauth_nodejs_eventloop_lag_max_seconds (\S+)/m.exec(text)?.[1] ?? NaN);
      if (!Number.isNaN(lagMax)) lag.push(lagMax * 1000);
      await sleep(250);
    }
  })();
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  return async () => {
    stopped = true;
    await loop;
    return { waitingMax: Math.max(0, ...waiting), waitingMean: mean(waiting), inUseMean: mean(inUse), lagMax: Math.max(0, ...lag) };
  };
}

interface Storm {
  seconds: number;
  writes: Record<string, number>;
  written: number;
  writeTimes: number[];
  reads: Awaited<ReturnType<typeof readsOfB>>;
  cpu: number;
  pool: Awaited<ReturnType<ReturnType<typeof samplePool>>>;
}

/** WRITERS concurrent renames of the roots for `seconds`, while B reads one request at a time. */
async function storm(base: string, pid: number, tree: Seeded, other: { key: string }, seconds: number, tag: string): Promise<Storm> {
  let storming = true;
  const writes: Record<string, number> = {};
  const writeTimes: number[] = [];
  const cpu = cpuSeconds(pid);
  const stopPool = samplePool(base);
  const started = performance.now();
  const during = readsOfB(base, other.key, () => !storming, 1);
  const writers = Array.from({ length: WRITERS }, async (_, w) => {
    for (let i = 0; storming; i += 1) {
      const t = performance.now();
      const status = await rename(base, tree.admin, tree.roots[(w + WRITERS * i) % tree.roots.length], `${tag}${w}-${i}`);
      writeTimes.push(performance.now() - t);
      writes[status] = (writes[status] ?? 0) + 1;
    }
  });
  await sleep(seconds * 1000);
  storming = false;
  await Promise.all(writers);
  const elapsed = (performance.now() - started) / 1000;
  const reads = await during;
  return { seconds: elapsed, writes, written: writes['200'] ?? 0, writeTimes, reads, cpu: cpuSeconds(pid) - cpu, pool: await stopPool() };
}

const failures = (failed: Record<number, number>) => (Object.keys(failed).length ? `; failed ${JSON.stringify(failed)}` : '');

function stormRows(part: string, label: string, result: Storm): void {
  const { written, seconds, pool } = result;
  row(part, `${label}: writes (${WRITERS} writers, ${seconds.toFixed(1)} s)`, `${(written / seconds).toFixed(1)} writes/s`, `${JSON.stringify(result.writes)}; a write median / p95 ${lat(result.writeTimes)}`);
  row(part, `${label}: B viewer median / p95`, lat(result.reads.viewer), `${result.reads.viewer.length} reads${failures(result.reads.failed)}`);
  row(part, `${label}: B groups(first: 10) median / p95`, lat(result.reads.groups), `${result.reads.groups.length} reads; slowest read ${ms(Math.max(...result.reads.groups, ...result.reads.viewer))}`);
  row(part, `${label}: server CPU; pool`, `${((result.cpu / seconds) * 100).toFixed(0)}% of a core`, `pool (10): in use ${pool.inUseMean.toFixed(1)} on average, waiting for a connection ${pool.waitingMean.toFixed(1)} on average, ${pool.waitingMax} at most; event-loop lag at most ${ms(pool.lagMax)}`);
}

async function part2(tree: Seeded, other: { key: string }): Promise<void> {
  // Deployed concurrency (4 per credential, which also paces A's events); writers over it wait for a slot rather than get 429.
  const env = { RATE_LIMIT_POINTS: '1000000000', RATE_LIMIT_ADDRESS_REQUESTS: '1000000000', CONCURRENCY_WAIT_MS: '60000', METRICS_TOKEN };
  log(`part 2: subscriptions and a write storm; server env ${JSON.stringify({ ...env, METRICS_TOKEN: '…' })}`);
  const server = await start(env);
  const pid = server.child.pid!;
  const base = server.baseUrl;
  const clients: WsClient[] = [];
  const part = '2 storm';
  try {
    const baseline = await readsOfB(base, other.key, () => true, 150);
    row(part, 'quiet: B viewer median / p95', lat(baseline.viewer), `${baseline.viewer.length} reads, no subscriptions, no writes`);
    row(part, 'quiet: B groups(first: 10) median / p95', lat(baseline.groups), `${baseline.groups.length} reads`);
    const plain = await storm(base, pid, tree, other, Math.max(5, STORM_SECONDS / 2), 'p');
    stormRows(part, 'storm without subscriptions', plain);

    const [one, two] = [connect(base, tree.reader), connect(base, tree.reader)];
    clients.push(one, two);
    // Too expensive first, to show the refusal and its price; then the heaviest accepted one.
    const over = subscribe(one, heavySubscription(7));
    await waitFor('the expensive subscription to be refused', () => over.refusal);
    row(part, 'A: subscription with children(first: 7)', codesOf({ errors: over.refusal }), `cost ${fmt(over.refusal![0]?.extensions?.cost ?? NaN)}, maximum ${over.refusal![0]?.extensions?.maximum}`);
    const query = heavySubscription(6);
    const subs: Sub[] = [];
    for (let i = 0; i < 25; i += 1) subs.push(subscribe(i < 20 ? one : two, query));
    // Registered once each has been handed a change (a rename of a root).
    for (let i = 0; ; i += 1) {
      const refused = subs.find((sub) => sub.refusal);
      if (refused) throw new Error(`a heavy subscription was refused: ${JSON.stringify(refused.refusal)}`);
      const before = subs.map((sub) => sub.events);
      await rename(base, tree.admin, tree.roots[0], `poke ${i}`);
      const all = await waitFor('a change on each', () => subs.every((sub, j) => sub.events > before[j]) || null, 5000).catch(() => false);
      if (all) break;
      if (i > 10) throw new Error('the subscriptions never went live');
    }
    const objectsPerEvent = subs[0].objects / subs[0].events;
    row(part, 'A: 25 subscriptions (20 + 5 on two connections) of the heaviest accepted selection', 'accepted', `price ${fmt(1 + 1 + 91 + 1 + 100 * 9)}: group, descendants(first: 90), children(first: 100) × (parent, children(first: 6)); ${objectsPerEvent.toFixed(0)} groups in each event`);
    const extra = subscribe(two, query);
    await waitFor('the 26th subscription to be refused', () => extra.refusal);
    const e = extra.refusal![0]?.extensions ?? {};
    row(part, 'A: a 26th subscription', `${e.code}`, `reason ${e.reason}, maximum ${e.maximum}`);

    const quiet = await readsOfB(base, other.key, () => true, 100);
    row(part, '25 subscriptions held, no writes: B viewer / groups median', `${ms(percentile(quiet.viewer, 50))} / ${ms(percentile(quiet.groups, 50))}`);

    for (const sub of subs) {
      sub.events = 0;
      sub.objects = 0;
    }
    const resetOk = resetPeak(pid);
    const rssBefore = memoryOf(pid);
    const heavy = await storm(base, pid, tree, other, STORM_SECONDS, 's');
    const stormEnded = performance.now();
    const atEnd = subs.reduce((s, sub) => s + sub.events, 0);
    // Drain: events still arriving after the last write, while B keeps reading.
    let draining = true;
    const drainReads = readsOfB(base, other.key, () => !draining, 1);
    const quietFor = 2000;
    const drainLimit = DRAIN_SECONDS * 1000;
    let drainedAll = false;
    while (performance.now() - stormEnded < drainLimit) {
      const expected = heavy.written * 25;
      if (subs.reduce((s, sub) => s + sub.events, 0) >= expected) {
        drainedAll = true;
        break;
      }
      if (performance.now() - Math.max(...subs.map((sub) => sub.lastAt)) > quietFor) break;
      await sleep(100);
    }
    draining = false;
    const drained = await drainReads;
    const lastEvent = Math.max(...subs.map((sub) => sub.lastAt));
    const mem = memoryOf(pid);
    stormRows(part, 'storm with the 25 subscriptions', heavy);
    const delivered = subs.reduce((s, sub) => s + sub.events, 0);
    row(part, 'after the storm, while events drain: B viewer; groups median / p95', `${lat(drained.viewer)}; ${lat(drained.groups)}`, `${drained.viewer.length + drained.groups.length} reads${failures(drained.failed)}`);
    row(
      part,
      'A: events received (25 subscriptions)',
      `${fmt(delivered)} of ${fmt(heavy.written * 25)}`,
      `${fmt(atEnd)} by the storm's end; last event ${((lastEvent - stormEnded) / 1000).toFixed(1)} s after it${drainedAll ? '' : ` (stopped waiting after ${DRAIN_SECONDS} s, still arriving)`}; ${fmt(subs.reduce((s, sub) => s + sub.objects, 0))} groups in them`,
    );
    const errors: Record<string, number> = {};
    for (const sub of subs) for (const [code, n] of Object.entries(sub.errors)) errors[code] = (errors[code] ?? 0) + n;
    const ended = subs.filter((sub) => sub.ended);
    const endCodes = [...new Set(ended.flatMap((sub) => (sub.refusal ?? []).map((x: any) => x.extensions?.code ?? x.message)))].join(', ');
    row(part, 'A: event errors / subscriptions ended', `${JSON.stringify(errors)} / ${ended.length}`, endCodes);
    row(part, 'server RSS before → after; peak (VmHWM)', `${mb(rssBefore.rss)} → ${mb(mem.rss)}; peak ${mb(mem.hwm)}`, resetOk ? 'VmHWM reset when the storm started' : 'VmHWM since start');
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await stopServer(server);
  }
}

// ---------------------------------------------------------------------------------------------
// Part 3: time from the client's disconnect to the end of its statement.

async function activeStatements(watch: Client, lockOnly: boolean): Promise<number> {
  const { rows: found } = await watch.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE application_name = $1 AND state = 'active' AND ($2::boolean IS FALSE OR wait_event_type = 'Lock')`,
    [GONE_APP, lockOnly],
  );
  return found[0].n;
}

async function busyStatements(watch: Client): Promise<number> {
  const { rows: found } = await watch.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE application_name = $1 AND state = 'active' AND wait_event_type IS DISTINCT FROM 'Lock' AND query ILIKE '%like%'`,
    [GONE_APP],
  );
  return found[0].n;
}

/** Polls until `probe()` is true; its time (ms) or null past the timeout. */
async function pollUntil(probe: () => Promise<boolean>, timeoutMs: number): Promise<number | null> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await probe()) return performance.now() - started;
    await sleep(POLL_MS);
  }
  return null;
}

async function goneRuns(
  base: string,
  key: string,
  query: string,
  started: () => Promise<boolean>,
  watch: Client,
): Promise<{ times: number[]; missed: number; answered: number }> {
  const times: number[] = [];
  let missed = 0;
  let answered = 0;
  for (let run = 0; run < GONE_RUNS; run += 1) {
    const controller = new AbortController();
    const request = fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
      signal: controller.signal,
    })
      .then((res) => res.text())
      .then(
        () => 'answered',
        () => 'aborted',
      );
    const seen = await pollUntil(started, 5000);
    if (seen === null) {
      missed += 1;
      controller.abort();
      if ((await request) === 'answered') answered += 1;
      continue;
    }
    const abortedAt = performance.now();
    controller.abort();
    const gone = await pollUntil(async () => (await activeStatements(watch, false)) === 0, 30_000);
    times.push(gone === null ? Number.POSITIVE_INFINITY : performance.now() - abortedAt);
    if ((await request) === 'answered') answered += 1;
    await pollUntil(async () => (await activeStatements(watch, false)) === 0, 30_000);
  }
  return { times, missed, answered };
}

async function part3(tree: Seeded): Promise<void> {
  const url = new URL(URL_);
  url.searchParams.set('application_name', GONE_APP);
  log('part 3: client gone while its statement waits on a lock, then while it is busy');
  const server = await start({ DATABASE_URL: url.toString() });
  const watch = new Client({ connectionString: URL_, application_name: 'kauth-bench-watch' });
  const locker = new Client({ connectionString: URL_, application_name: 'kauth-bench-locker' });
  await watch.connect();
  await locker.connect();
  try {
    const query = '{ groups(first: 10) { nodes { id name } } }';
    const warm = await timed(server.baseUrl, tree.reader, query);
    if (warm.status !== 200) throw new Error(`warm-up answered ${warm.status}`);
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE groups IN ACCESS EXCLUSIVE MODE');
    let locked;
    try {
      locked = await goneRuns(server.baseUrl, tree.reader, query, async () => (await activeStatements(watch, true)) > 0, watch);
    } finally {
      await locker.query('ROLLBACK');
    }
    const { rows: settings } = await watch.query(`SELECT current_setting('statement_timeout') AS t`);
    row('3 gone', `waiting on a lock: abort → no active statement (${GONE_RUNS} runs, polled every ${POLL_MS} ms)`, `median ${ms(percentile(locked.times, 50))}, max ${ms(Math.max(...locked.times))}`, `not seen waiting: ${locked.missed}; answered anyway: ${locked.answered}; the server's statement_timeout is 10 s (DB_STATEMENT_TIMEOUT_MS; this database's default ${settings[0].t})`);
    const after = await timed(server.baseUrl, tree.reader, query);
    row('3 gone', 'the same query after the lock is released', `${after.status} in ${ms(after.ms)}`);

    // A busy statement: a name search matching nothing scans every group of the 480,000-group workspace.
    const search = `{ groups(first: 10, search: "no such name ${Date.now()}") { totalCount nodes { id } } }`;
    const natural: number[] = [];
    for (let i = 0; i < 3; i += 1) natural.push((await timed(server.baseUrl, tree.reader, search)).ms);
    const busy = await goneRuns(server.baseUrl, tree.reader, search, async () => (await busyStatements(watch)) > 0, watch);
    row('3 gone', `busy (search over ${fmt(ROOTS * CHILDREN * (GRANDCHILDREN + 1) + ROOTS)} groups): abort → no active statement`, busy.times.length ? `median ${ms(percentile(busy.times, 50))}, max ${ms(Math.max(...busy.times))}` : '–', `the whole request unaborted: ${natural.map((v) => v.toFixed(0)).join(', ')} ms; not seen running: ${busy.missed}; answered anyway: ${busy.answered}`);
    const health = await timed(server.baseUrl, tree.reader, query);
    row('3 gone', 'the server afterwards', `${health.status} in ${ms(health.ms)}`, `pool connections cut and reopened ${GONE_RUNS * 2 - locked.missed - busy.missed} times`);
  } finally {
    await watch.end().catch(() => undefined);
    await locker.end().catch(() => undefined);
    await stopServer(server);
  }
}

// ---------------------------------------------------------------------------------------------

runBench(async () => {
  const os = await import('node:os');
  const command = `${Object.entries(process.env)
    .filter(([k]) => ['DATABASE_URL', 'GRANDCHILDREN', 'STORM_SECONDS', 'WRITERS', 'GONE_RUNS', 'POLL_MS', 'DRAIN_SECONDS', 'PARTS'].includes(k))
    .map(([k, v]) => `${k}=${v} `)
    .join('')}npx tsx bench/fail-closed.ts`;
  const startedAt = performance.now();
  await prepareDatabase();
  const db = await openDatabase({ kind: 'postgres', url: URL_ }, { pool: { ...DEFAULT_POOL, size: 2, statementTimeoutMs: 600_000, transactionTimeoutMs: 600_000 } });
  const tenants: number[] = [];
  try {
    log(`seeding ${fmt(ROOTS + ROOTS * CHILDREN + ROOTS * CHILDREN * GRANDCHILDREN)} groups…`);
    const tree = await seedTree(db);
    tenants.push(tree.tenantId);
    const other = await seedOther(db);
    tenants.push(other.tenantId);
    log(`seeded in ${tree.seconds.toFixed(1)} s`);
    if (PARTS.includes('1')) await part1(tree);
    if (PARTS.includes('2')) await part2(tree, other);
    if (PARTS.includes('3')) await part3(tree);
  } finally {
    if (GIVEN_URL) for (const id of tenants) await db.raw.query('DELETE FROM tenants WHERE id = $1', [id]).catch(() => undefined);
    await db.close();
    await dropDatabase();
  }
  const { rows: [version] } = await (async () => {
    const c = new Client({ connectionString: new URL('/postgres', URL_).toString() });
    await c.connect();
    try {
      return await c.query('SHOW server_version');
    } finally {
      await c.end();
    }
  })();
  console.log(`$ ${command}`);
  console.log(
    `node ${process.version}; PostgreSQL ${version.server_version}; ${os.cpus().length} cores; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} at the end; ` +
      `servers: node --require tsx/cjs src/main.ts, REDIS_URL unset; ${((performance.now() - startedAt) / 1000).toFixed(0)} s in all`,
  );
  console.log('');
  console.log('| part | measurement | value | notes |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
});
