// Benchmark: how fast one workspace accepts writes (issue 29, "Single writes"), before and after a
// change, in one run (npm run bench:writes).
//
//   npm run bench:writes                                      # this checkout only
//   npm run bench:writes -- --before /path/to/older/checkout  # both, interleaved, same machine state
//   npm run bench:writes -- --seconds 8 --rounds 2 --clients 1,4,16 --small 1000 --large 100000 --random 10000
//
// For each version (each checkout, its own scratch database kauth_bench_writes_<n> on the
// PostgreSQL of DATABASE_URL, default postgres://postgres@127.0.0.1:5432/): one server process
// (`src/main.ts` of that checkout, limits raised so that the fair share does not count), a small
// and a large workspace made through that checkout's `kauth import` (bench/import-file.ts: the
// 1,000- and 100,000-group files, 2 users and 10 memberships per group), then:
//   1. single writes, one at a time (median of 40 each): REST create under a random parent, move
//      of a random leaf-ish group under another random group, add then remove a membership;
//   2. creation rate: `clients` concurrent REST clients POSTing /groups under random parents (depth
//      under 8) for `seconds` s, each configuration in turn, versions and sizes interleaved, for
//      `rounds` rounds; the groups a run made are deleted afterwards (by SQL: a bench's reset), so
//      each run starts from the same size;
//   3. `random` concurrent random writes by 16 clients on the large workspace (create, rename,
//      move, delete, add and remove members), then `kauth doctor` on it: every invariant it checks
//      must still hold, and no write may be answered 5xx.
// Autovacuum is off on these machines: nothing is analyzed or vacuumed by the bench; the service's
// statistics keeper does what it does.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatWorkspaceFile } from '../src/domain/import';
import { freePort } from '../test/support/servers';
import { generateWorkspace } from './import-file';
import { percentile, queryOnce as sql, runBench } from './support';

const DEFAULT_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';
const SERVER_ENV: Record<string, string> = {
  CONCURRENCY_PER_CREDENTIAL: '10000',
  RATE_LIMIT_POINTS: '1000000000',
  RATE_LIMIT_ADDRESS_REQUESTS: '1000000000',
  LOG_LEVEL: 'warn',
  KAUTH_DEMO: '0',
  KAUTH_PLAYGROUND: '0',
};
/** Parents are chosen among groups less deep than this (MAX_GROUP_DEPTH is larger). */
const PARENT_DEPTH = 8;

interface Version {
  name: string;
  root: string;
  url: string;
  env: NodeJS.ProcessEnv;
  server?: { child: ChildProcess; base: string };
  workspaces: Record<'small' | 'large', Workspace>;
}

interface Workspace {
  slug: string;
  tenantId: number;
  key: string;
  /** Groups the import made, with their depth (1: a root). */
  groups: { id: number; depth: number }[];
  users: number[];
  /** The highest group id after the import: a run's groups are those above it. */
  lastImported: number;
}

function run(root: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/kauth.js'), ...args], { cwd: root, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`kauth ${args.join(' ')} (${root}): exit ${code}\n${err}\n${out}`))));
  });
}


/** With --cpu-prof: where each server writes its profile when it stops. */
let profileDir: string | null = null;

async function startServer(version: Version): Promise<void> {
  const port = await freePort();
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(profileDir, version.name)] : [];
  const child = spawn(process.execPath, [...profile, '--require', 'tsx/cjs', 'src/main.ts'], {
    cwd: version.root,
    env: { ...version.env, PORT: String(port), ...SERVER_ENV },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr!.on('data', (d) => (errors += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 1200; i += 1) {
    if (child.exitCode !== null) throw new Error(`server of ${version.name} exited: ${errors}`);
    if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) {
      version.server = { child, base };
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server of ${version.name} not ready: ${errors}`);
}

async function stopServer(version: Version): Promise<void> {
  const server = version.server;
  if (!server) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

async function makeWorkspace(version: Version, slug: string, file: string): Promise<Workspace> {
  await run(version.root, ['tenant', 'create', slug], version.env);
  const scopes = ['groups:write', 'groups:members:write', 'users:write', 'roles:write'].flatMap((s) => ['--scope', s]);
  const { key } = JSON.parse(await run(version.root, ['key', 'create', slug, ...scopes], version.env));
  await run(version.root, ['import', slug, file], version.env);
  const [tenant] = await sql(version.url, 'SELECT id FROM tenants WHERE slug = $1', [slug]);
  const groups = await sql<{ id: number; depth: number }>(version.url, 'SELECT id, cardinality(path) AS depth FROM groups WHERE tenant_id = $1 ORDER BY id', [tenant.id]);
  const users = (await sql<{ id: number }>(version.url, 'SELECT id FROM users WHERE tenant_id = $1 ORDER BY id', [tenant.id])).map((u) => u.id);
  return { slug, tenantId: tenant.id, key, groups, users, lastImported: groups[groups.length - 1].id };
}

/** A small deterministic generator (mulberry32), so that versions get the same random choices. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function call(version: Version, ws: Workspace, method: string, route: string, body?: unknown): Promise<number> {
  const res = await fetch(`${version.server!.base}/t/${ws.slug}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${ws.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

const parentsOf = (ws: Workspace) => ws.groups.filter((g) => g.depth < PARENT_DEPTH).map((g) => g.id);

/** Deletes the groups made since the import (a bench's reset between runs). */
async function reset(version: Version, ws: Workspace): Promise<void> {
  await sql(version.url, 'DELETE FROM groups WHERE tenant_id = $1 AND id > $2', [ws.tenantId, ws.lastImported]);
}

let runNumber = 0;

/** `clients` clients creating groups for `seconds` s: creations per second, and any other statuses. */
async function creationRate(version: Version, ws: Workspace, clients: number, seconds: number, seed: number) {
  const rand = random(seed);
  const parents = parentsOf(ws);
  const tag = `r${(runNumber += 1)}`;
  const statuses: Record<number, number> = {};
  let created = 0;
  let n = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        const i = (n += 1);
        const status = await call(version, ws, 'POST', '/groups', { name: `${tag} ${i}`, parentGroupId: parents[Math.floor(rand() * parents.length)] });
        if (status === 201) created += 1;
        else statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const perSecond = created / ((performance.now() - started) / 1000);
  await reset(version, ws);
  return { perSecond, statuses };
}

/** One write at a time, `count` of each kind: median and p95 latencies in ms. */
async function singleWrites(version: Version, ws: Workspace, count: number, seed: number) {
  const rand = random(seed);
  const parents = parentsOf(ws);
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)];
  const time = async (work: () => Promise<number>, expected: number) => {
    const started = performance.now();
    const status = await work();
    if (status !== expected) throw new Error(`single write answered ${status}, not ${expected}`);
    return performance.now() - started;
  };
  const create: number[] = [];
  const move: number[] = [];
  const member: number[] = [];
  const tag = `s${(runNumber += 1)}`;
  // Groups to move: made by this run, one per parent, so that a move never makes a cycle or goes too deep.
  const made: number[] = [];
  for (let i = 0; i < count; i += 1) {
    create.push(await time(() => call(version, ws, 'POST', '/groups', { name: `${tag} ${i}`, parentGroupId: pick(parents) }), 201));
  }
  const mine = await sql<{ id: number }>(version.url, 'SELECT id FROM groups WHERE tenant_id = $1 AND id > $2 ORDER BY id', [ws.tenantId, ws.lastImported]);
  made.push(...mine.map((g) => g.id));
  for (let i = 0; i < count; i += 1) {
    const id = made[i % made.length];
    move.push(await time(() => call(version, ws, 'PUT', `/groups/${id}`, { name: `${tag} moved ${i}`, parentGroupId: pick(parents) }), 200));
  }
  for (let i = 0; i < count; i += 1) {
    const group = made[i % made.length];
    const user = pick(ws.users);
    member.push(await time(() => call(version, ws, 'POST', `/groups/${group}/members/${user}`), 204));
    member.push(await time(() => call(version, ws, 'DELETE', `/groups/${group}/members/${user}`), 204));
  }
  await reset(version, ws);
  return { create, move, member };
}

/** `total` random writes by 16 clients on `ws`, then `kauth doctor`: statuses and findings. */
async function randomWrites(version: Version, ws: Workspace, total: number, seed: number) {
  const rand = random(seed);
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)];
  const ids = ws.groups.map((g) => g.id);
  const statuses: Record<string, number> = {};
  const tag = `x${(runNumber += 1)}`;
  let n = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (n < total) {
        const i = (n += 1);
        const kind = rand();
        let op: string;
        let status: number;
        if (kind < 0.35) {
          op = 'create';
          status = await call(version, ws, 'POST', '/groups', { name: `${tag} ${i}`, parentGroupId: pick(ids) });
        } else if (kind < 0.5) {
          op = 'rename';
          status = await call(version, ws, 'PUT', `/groups/${pick(ids)}`, { name: `${tag} renamed ${i}` });
        } else if (kind < 0.65) {
          op = 'move';
          status = await call(version, ws, 'PUT', `/groups/${pick(ids)}`, { name: `${tag} moved ${i}`, parentGroupId: rand() < 0.05 ? null : pick(ids) });
        } else if (kind < 0.7) {
          op = 'delete';
          status = await call(version, ws, 'DELETE', `/groups/${pick(ids)}`);
        } else if (kind < 0.85) {
          op = 'add member';
          status = await call(version, ws, 'POST', `/groups/${pick(ids)}/members/${pick(ws.users)}`);
        } else {
          op = 'remove member';
          status = await call(version, ws, 'DELETE', `/groups/${pick(ids)}/members/${pick(ws.users)}`);
        }
        const key = `${op} ${status}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const doctor = JSON.parse(await run(version.root, ['doctor', ws.slug], version.env).catch((error: Error) => error.message.slice(error.message.indexOf('{'))));
  return { seconds, statuses, doctor };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

/** The server's CPU time by where it was spent: a package of node_modules, a file of src/, or V8 and Node themselves. */
function cpuByPlace(dir: string): string {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  if (files.length === 0) return '(no profile)';
  const profile = JSON.parse(readFileSync(path.join(dir, files[0]), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const byPlace = new Map<string, number>();
  let total = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const frame = byNode.get(id)!.callFrame;
    if (frame.functionName === '(idle)') {
      idle += us;
      return;
    }
    const url = frame.url.replace(/^file:\/\//, '');
    const place = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? /\/(src\/.*)$/.exec(url)?.[1] ?? (url ? 'node' : frame.functionName || '(native)');
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
    total += us;
  });
  const rows = [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, 15);
  return [`busy ${(total / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s`, ...rows.map(([place, us]) => `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${place}`)].join('\n');
}

const ms = (values: number[]) => `${percentile(values, 50).toFixed(1)} / ${percentile(values, 95).toFixed(1)}`;

runBench(async () => {
  const { values } = parseArgs({
    options: {
      before: { type: 'string' },
      seconds: { type: 'string', default: '8' },
      rounds: { type: 'string', default: '2' },
      clients: { type: 'string', default: '1,4,16' },
      small: { type: 'string', default: '1000' },
      large: { type: 'string', default: '100000' },
      random: { type: 'string', default: '10000' },
      single: { type: 'string', default: '40' },
      keep: { type: 'boolean' },
      'cpu-prof': { type: 'boolean' },
    },
  });
  const server = process.env.DATABASE_URL ?? DEFAULT_SERVER;
  const roots = [...(values.before ? [['before', path.resolve(values.before)]] : []), ['after', path.resolve(__dirname, '..')]];
  const versions: Version[] = roots.map(([name, root], i) => {
    const url = Object.assign(new URL(server), { pathname: `/kauth_bench_writes_${i}` }).toString();
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' };
    delete env.DATA_DIR;
    return { name, root, url, env, workspaces: {} as Version['workspaces'] };
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'kauth-bench-writes-'));
  if (values['cpu-prof']) profileDir = path.join(dir, 'profiles');
  const sizes = { small: Number(values.small), large: Number(values.large) };
  const files = Object.fromEntries(
    Object.entries(sizes).map(([size, groups]) => {
      const file = path.join(dir, `${size}.json`);
      writeFileSync(file, formatWorkspaceFile(generateWorkspace(groups)));
      return [size, file];
    }),
  ) as Record<'small' | 'large', string>;
  const admin = Object.assign(new URL(server), { pathname: '/postgres' }).toString();
  try {
    for (const version of versions) {
      await sql(admin, `DROP DATABASE IF EXISTS "${new URL(version.url).pathname.slice(1)}" WITH (FORCE)`);
      await sql(admin, `CREATE DATABASE "${new URL(version.url).pathname.slice(1)}"`);
      await startServer(version);
      for (const size of ['small', 'large'] as const) {
        const started = performance.now();
        version.workspaces[size] = await makeWorkspace(version, `writes-${size}`, files[size]);
        console.log(`${version.name}: ${size} workspace imported (${sizes[size]} groups) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      }
    }
    const [{ server_version: pg }] = await sql(versions[0].url, 'SHOW server_version');
    const [{ autovacuum }] = await sql(versions[0].url, 'SHOW autovacuum');
    console.log(`PostgreSQL ${pg}, autovacuum ${autovacuum}; ${versions.map((v) => `${v.name} = ${v.root}`).join(', ')}`);

    console.log(`\n## Single writes, one at a time (REST; median / p95 ms of ${values.single}; member: add and remove)\n`);
    console.log('| version | workspace | create | move | member |');
    console.log('| --- | --- | ---: | ---: | ---: |');
    for (const size of ['small', 'large'] as const) {
      for (const version of versions) {
        const r = await singleWrites(version, version.workspaces[size], Number(values.single), 7);
        console.log(`| ${version.name} | ${size} (${sizes[size]}) | ${ms(r.create)} | ${ms(r.move)} | ${ms(r.member)} |`);
      }
    }

    const clients = values.clients!.split(',').map(Number);
    const rates = new Map<string, number[]>();
    const others: string[] = [];
    for (let round = 1; round <= Number(values.rounds); round += 1) {
      for (const c of clients) {
        for (const size of ['small', 'large'] as const) {
          for (const version of versions) {
            const r = await creationRate(version, version.workspaces[size], c, Number(values.seconds), round * 100 + c);
            const key = `${version.name}|${size}|${c}`;
            rates.set(key, [...(rates.get(key) ?? []), r.perSecond]);
            if (Object.keys(r.statuses).length > 0) others.push(`${key} round ${round}: ${JSON.stringify(r.statuses)}`);
          }
        }
      }
    }
    console.log(`\n## Creations per second (REST POST /groups under random parents, ${values.seconds} s per run, rounds: ${values.rounds}; each cell: the runs' rates, then large/small)\n`);
    console.log(`| version | clients | small (${sizes.small}) | large (${sizes.large}) | small/large |`);
    console.log('| --- | ---: | --- | --- | ---: |');
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    for (const c of clients) {
      for (const version of versions) {
        const small = rates.get(`${version.name}|small|${c}`)!;
        const large = rates.get(`${version.name}|large|${c}`)!;
        const list = (v: number[]) => v.map((x) => x.toFixed(0)).join(', ');
        console.log(`| ${version.name} | ${c} | ${list(small)} | ${list(large)} | ${(mean(small) / mean(large)).toFixed(2)} |`);
      }
    }
    if (others.length > 0) console.log(`\nother answers: ${others.join('; ')}`);

    if (Number(values.random) > 0) {
      console.log(`\n## ${values.random} concurrent random writes (16 clients, large workspace), then kauth doctor\n`);
      for (const version of versions) {
        const r = await randomWrites(version, version.workspaces.large, Number(values.random), 11);
        const failures = Object.entries(r.statuses).filter(([key]) => Number(key.split(' ').at(-1)) >= 500);
        console.log(`${version.name}: ${r.seconds.toFixed(1)} s (${(Number(values.random) / r.seconds).toFixed(0)} writes/s); answers ${JSON.stringify(r.statuses)}`);
        console.log(`  5xx: ${failures.length === 0 ? 'none' : JSON.stringify(failures)}; doctor: ${JSON.stringify(r.doctor).slice(0, 600)}`);
      }
    }
  } finally {
    for (const version of versions) await stopServer(version);
    if (profileDir) for (const version of versions) console.log(`\nserver CPU of ${version.name} (the whole run) by place:\n${cpuByPlace(path.join(profileDir, version.name))}`);
    rmSync(dir, { recursive: true, force: true });
    if (!values.keep) for (const version of versions) await sql(admin, `DROP DATABASE IF EXISTS "${new URL(version.url).pathname.slice(1)}" WITH (FORCE)`);
  }
});
