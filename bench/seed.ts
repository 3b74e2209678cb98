// Seeds an organisation-scale workspace on PostgreSQL for `npm run bench` (bench/scale.ts).
//
//   npm run bench:seed -- --preset small            # 1,000 groups, 2,000 users, 10,000 memberships
//   npm run bench:seed -- --preset large [--seed 7] # 100,000 groups, 200,000 users, 1,000,000 memberships
//
// Target: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/kauth_bench (created if missing and
// migrated with the service's own migrator). The workspace `bench-<preset>` is deleted first, then
// loaded in bulk: ids reserved from the sequences so paths are computed here, rows sent as
// multi-row `INSERT … SELECT FROM unnest(…)` in chunks of 10,000, groups parents first. Counter
// columns (groups.child_count, subtree_size, the workspace's counts) are left to the count
// triggers; the workspace's count deltas are folded before ANALYZE. Deterministic for one --seed (default 1): the same ids relative
// to the first reserved one, the same tree, the same memberships.
//
// Shape (large; small in brackets):
//   - 20 [5] roots; a spine from root 0 down to a leaf at depth 20 (path of 21 groups);
//   - `wide`: a depth-1 group with 5,000 [200] leaf children;
//   - `crowd`: a depth-1 group whose subtree of 5,000 [50] groups has exactly 50,000 [500]
//     distinct members (a quarter of the users): every member of its subtree is one of those users,
//     and each of them is a member somewhere in it;
//   - `mover`: a depth-2 group under `moveA` whose subtree has exactly 1,000 [100] groups (at most
//     8 levels below it), and `moveB`, another depth-1 group to move it under;
//   - the rest: random recursive trees (each new group under a uniformly chosen earlier group of
//     depth < 20, outside the crowd and mover subtrees and not `wide`);
//   - 200 roles; 2,000 [20] group-role assignments: on the spine at depths 0, 5, 10, 15, 20, one on
//     `moveA` and another on `moveB`, on `person`'s groups (or an ancestor), the rest random; user-role assignments for 1% of the users
//     plus 2 for `person`;
//   - 1,000,000 [10,000] memberships, uniform over groups; `person` is a direct member of exactly 5
//     groups at depth 10–20 (the spine's depth-14 group, the leaf, and 3 random ones), each with a
//     role on itself or an ancestor; `memberUser` is a member of nothing (so not of `wide`).
// Finally ANALYZE, an API key for the workspace (createApiKey, as the CLI does) and the state file
// bench/.state/<preset>.json: slug, key, fixture ids, counts.
//
//   npm run bench:seed -- --preset large --via import
//   npm run bench:seed -- --preset huge --via import   # 1,000,000 groups; `npm run bench -- --large huge`
//
// makes the same workspace through the service instead (issue 29): the plan is written as a
// kauth-workspace file (external ids g<i>, u<i>) and loaded by `kauth import`, validated and audited
// like any import; nothing is analyzed by hand (the importer keeps statistics as the service does).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { treeLimits } from '../src/config';
import { DEFAULT_POOL, type Database, foldCountDeltas, openDatabase } from '../src/db';
import { OPERATOR, createApiKey } from '../src/domain/apikeys';
import { fullAccessContext } from '../src/domain/context';
import { type WorkspaceFile, formatWorkspaceFile } from '../src/domain/import';
import { createTenant } from '../src/domain/tenants';
import { queryOnce, runBench } from './support';

export const DEFAULT_BENCH_URL = 'postgres://postgres@127.0.0.1:5432/kauth_bench';
export const STATE_DIR = path.resolve(__dirname, '.state');
export const KEY_SCOPES = [
  'groups:read',
  'users:read',
  'roles:read',
  'apikeys:read',
  'groups:write',
  'groups:members:write',
  'roles:write',
];

export interface Preset {
  groups: number;
  users: number;
  memberships: number;
  roles: number;
  groupRoles: number;
  userRoles: number;
  roots: number;
  wideChildren: number;
  crowdGroups: number;
  crowdUsers: number;
  moverSubtree: number;
}

export const PRESETS: Record<'small' | 'large' | 'huge', Preset> = {
  small: {
    groups: 1_000,
    users: 2_000,
    memberships: 10_000,
    roles: 200,
    groupRoles: 20,
    userRoles: 20,
    roots: 5,
    wideChildren: 200,
    crowdGroups: 50,
    crowdUsers: 500,
    moverSubtree: 100,
  },
  large: {
    groups: 100_000,
    users: 200_000,
    memberships: 1_000_000,
    roles: 200,
    groupRoles: 2_000,
    userRoles: 2_000,
    roots: 20,
    wideChildren: 5_000,
    crowdGroups: 5_000,
    crowdUsers: 50_000,
    moverSubtree: 1_000,
  },
  // A million groups (issue 29), the large preset's users and memberships: one member per group on
  // average; made by `--via import` to show what reads cost at that size.
  huge: {
    groups: 1_000_000,
    users: 200_000,
    memberships: 1_000_000,
    roles: 200,
    groupRoles: 2_000,
    userRoles: 2_000,
    roots: 20,
    wideChildren: 5_000,
    crowdGroups: 5_000,
    crowdUsers: 50_000,
    moverSubtree: 1_000,
  },
};

/** A seedable workspace's size. */
export type SeedPreset = keyof typeof PRESETS;
/** The two workspaces `npm run bench` compares: `small`, and `large` (the large or the huge preset). */
export type PresetName = 'small' | 'large';

/** What bench/scale.ts reads back. */
export interface SeedState {
  preset: SeedPreset;
  seed: number;
  /** How the rows were written: by SQL behind the service (then ANALYZE), or by `kauth import`. */
  via: 'sql' | 'import';
  slug: string;
  tenantId: number;
  key: string;
  fixtures: {
    /** The spine's depth-20 leaf. */
    leaf: number;
    /** Spine ids from the root (depth 0) to the leaf (depth 20). */
    spine: number[];
    wide: number;
    crowd: number;
    person: number;
    /** The groups `person` is a direct member of. */
    personGroups: number[];
    mover: number;
    moveA: number;
    moveB: number;
    memberUser: number;
  };
  counts: {
    groups: number;
    users: number;
    memberships: number;
    roles: number;
    groupRoles: number;
    userRoles: number;
    wideChildren: number;
    crowdSubtreeGroups: number;
    crowdDistinctUsers: number;
    moverSubtree: number;
    maxDepth: number;
  };
  seededAt: string;
  seconds: number;
}

const MAX_DEPTH = 20;
const MOVER_LEVELS = 8;
const CHUNK = 10_000;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; the same seed gives the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Progress on stderr

function progress(label: string, done: number, total: number): void {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
  process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${String(pct).padStart(3)}% ${label} ${done.toLocaleString('en')}/${total.toLocaleString('en')}   `);
  if (done >= total) process.stderr.write('\n');
}

// ---------------------------------------------------------------------------------------------
// The plan: every row, computed in memory from the seed

interface TreePlan {
  /** Parent index of each group (-1 for a root); a parent always comes before its children. */
  parent: Int32Array;
  depth: Uint8Array;
  spine: number[];
  wide: number;
  crowd: number;
  /** Index i is in the crowd's subtree. */
  inCrowd: Uint8Array;
  /** Index i is in the mover's subtree (its paths change when it moves). */
  inMover: Uint8Array;
  crowdSize: number;
  moveA: number;
  moveB: number;
  mover: number;
  moverSize: number;
}

function planTree(p: Preset, rand: () => number): TreePlan {
  const n = p.groups;
  const parent = new Int32Array(n).fill(-1);
  const depth = new Uint8Array(n);
  const inCrowd = new Uint8Array(n);
  const inMover = new Uint8Array(n);
  let next = 0;
  const add = (parentIndex: number): number => {
    if (next >= n) throw new Error(`preset too small for its fixtures (${n} groups)`);
    const i = next++;
    parent[i] = parentIndex;
    depth[i] = parentIndex < 0 ? 0 : depth[parentIndex] + 1;
    if (depth[i] > MAX_DEPTH) throw new Error('depth over 20');
    return i;
  };
  const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)];

  const roots: number[] = [];
  for (let r = 0; r < p.roots; r += 1) roots.push(add(-1));
  const spine = [roots[0]];
  for (let d = 1; d <= MAX_DEPTH; d += 1) spine.push(add(spine[d - 1]));
  const wide = add(roots[1 % p.roots]);
  const crowd = add(roots[2 % p.roots]);
  const moveA = add(roots[3 % p.roots]);
  const moveB = add(roots[4 % p.roots]);

  // A random recursive tree of `size` groups under `top` (top included), `levels` deep at most.
  const subtree = (top: number, size: number, levels: number, mark?: Uint8Array): void => {
    const pool = [top];
    if (mark) mark[top] = 1;
    for (let k = 1; k < size; k += 1) {
      const at = pick(pool);
      const child = add(at);
      if (mark) mark[child] = 1;
      if (depth[child] - depth[top] < levels && depth[child] < MAX_DEPTH) pool.push(child);
    }
  };
  subtree(crowd, p.crowdGroups, MAX_DEPTH, inCrowd);
  const mover = add(moveA);
  subtree(mover, p.moverSubtree, MOVER_LEVELS, inMover);

  // Everything else: random recursive trees over the roots, the spine (but its leaf), moveA, moveB.
  const pool = [...roots, ...spine.slice(1, MAX_DEPTH), moveA, moveB];
  const randomCount = n - next - p.wideChildren;
  if (randomCount < 0) throw new Error('preset too small for its fixtures');
  for (let k = 0; k < randomCount; k += 1) {
    const child = add(pick(pool));
    if (depth[child] < MAX_DEPTH) pool.push(child);
  }
  // Last, wide's children: leaves.
  for (let k = 0; k < p.wideChildren; k += 1) add(wide);
  return { parent, depth, spine, wide, crowd, inCrowd, inMover, crowdSize: p.crowdGroups, moveA, moveB, mover, moverSize: p.moverSubtree };
}

interface MemberPlan {
  groups: Int32Array;
  users: Int32Array;
  person: number;
  personGroups: number[];
  memberUser: number;
}

/** Memberships as (group index, user index), sorted by group then user. */
function planMembers(p: Preset, tree: TreePlan, rand: () => number): MemberPlan {
  const person = p.crowdUsers; // the first user outside the crowd's block
  const memberUser = p.users - 1;
  const seen = new Set<number>();
  const USER_SPACE = 1 << 18;
  if (p.users > USER_SPACE) throw new Error('too many users for the membership key');
  const key = (g: number, u: number) => g * USER_SPACE + u;
  const put = (g: number, u: number): boolean => {
    const k = key(g, u);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  };
  const randomIndex = (count: number) => Math.floor(rand() * count);

  // person: the spine's depth-14 group, the leaf, and 3 random groups at depth 10-20 outside the
  // crowd and mover subtrees and off the spine.
  const spineSet = new Set(tree.spine);
  const deep: number[] = [];
  for (let i = 0; i < p.groups; i += 1) {
    if (tree.depth[i] >= 10 && !tree.inCrowd[i] && !tree.inMover[i] && !spineSet.has(i)) deep.push(i);
  }
  if (deep.length < 3) throw new Error('not enough groups at depth 10-20 for person');
  const personGroups = [tree.spine[14], tree.spine[MAX_DEPTH]];
  while (personGroups.length < 5) {
    const g = deep[randomIndex(deep.length)];
    if (!personGroups.includes(g)) personGroups.push(g);
  }
  for (const g of personGroups) put(g, person);

  // Every crowd user once somewhere in the crowd's subtree.
  const crowdGroups: number[] = [];
  for (let i = 0; i < p.groups; i += 1) if (tree.inCrowd[i]) crowdGroups.push(i);
  for (let u = 0; u < p.crowdUsers; u += 1) put(crowdGroups[randomIndex(crowdGroups.length)], u);

  // The rest uniform over groups; crowd groups take crowd users only; never person or memberUser.
  while (seen.size < p.memberships) {
    const g = randomIndex(p.groups);
    const u = tree.inCrowd[g] ? randomIndex(p.crowdUsers) : randomIndex(p.users);
    if (u === person || u === memberUser) continue;
    put(g, u);
  }
  const keys = Float64Array.from(seen).sort();
  const groups = new Int32Array(keys.length);
  const users = new Int32Array(keys.length);
  keys.forEach((k, i) => {
    groups[i] = Math.floor(k / USER_SPACE);
    users[i] = k % USER_SPACE;
  });
  return { groups, users, person, personGroups, memberUser };
}

interface RolePlan {
  groupRoles: Array<[number, number]>;
  userRoles: Array<[number, number]>;
}

function planRoles(p: Preset, tree: TreePlan, members: MemberPlan, rand: () => number): RolePlan {
  const randomIndex = (count: number) => Math.floor(rand() * count);
  const groupRoles = new Map<string, [number, number]>();
  const assign = (g: number, r: number) => groupRoles.set(`${g}:${r}`, [g, r]);
  for (const d of [0, 5, 10, 15, 20]) assign(tree.spine[d], randomIndex(p.roles));
  // A role on each side of the mover's move (moveA's, moveB's), so that previewing it changes roles.
  assign(tree.moveA, 2);
  assign(tree.moveB, 3);
  // person's three random groups: a role on the group itself or on one of its ancestors.
  for (const g of members.personGroups.slice(2)) {
    const chain: number[] = [];
    for (let at = g; at >= 0; at = tree.parent[at]) chain.push(at);
    assign(chain[randomIndex(Math.min(chain.length, 4))], randomIndex(p.roles));
  }
  while (groupRoles.size < p.groupRoles) assign(randomIndex(p.groups), randomIndex(p.roles));

  const userRoles = new Map<string, [number, number]>();
  const assignUser = (u: number, r: number) => userRoles.set(`${u}:${r}`, [u, r]);
  assignUser(members.person, 0);
  assignUser(members.person, 1);
  while (userRoles.size < p.userRoles + 2) {
    const u = randomIndex(p.users);
    if (u !== members.memberUser && u !== members.person) assignUser(u, randomIndex(p.roles));
  }
  return { groupRoles: [...groupRoles.values()], userRoles: [...userRoles.values()] };
}

// ---------------------------------------------------------------------------------------------
// Loading

/** Creates the scratch database if the server has none of that name yet. */
export async function ensureDatabase(url: string): Promise<void> {
  const probe = new Client({ connectionString: url });
  try {
    await probe.connect();
    await probe.end();
    return;
  } catch (error) {
    await probe.end().catch(() => undefined);
    if ((error as { code?: string }).code !== '3D000') throw error;
  }
  await onServer(url, async (admin, name) => {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
    process.stderr.write(`created database ${name}\n`);
  });
}

/** Runs `work` on the server of `url` (its `postgres` database), given the name of `url`'s database: to create or drop it. */
export async function onServer(url: string, work: (admin: Client, name: string) => Promise<void>): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/postgres';
  const admin = new Client({ connectionString: target.toString() });
  await admin.connect();
  try {
    await work(admin, name);
  } finally {
    await admin.end();
  }
}

/** Reserves `count` consecutive ids of `table`'s serial sequence; returns the first. */
async function reserveIds(db: Database, table: string, count: number): Promise<number> {
  const [{ first }] = await db.raw.query<{ first: string }>(
    `SELECT nextval(pg_get_serial_sequence($1, 'id')) AS first`,
    [table],
  );
  await db.raw.query(`SELECT setval(pg_get_serial_sequence($1, 'id'), $2::bigint)`, [table, Number(first) + count - 1]);
  return Number(first);
}

/** Sends `total` rows in chunks: `columns(from, to)` gives each chunk's unnest arrays. */
async function bulk(db: Database, label: string, total: number, sql: string, columns: (from: number, to: number) => unknown[]): Promise<number> {
  const started = performance.now();
  progress(label, 0, total);
  for (let from = 0; from < total; from += CHUNK) {
    const to = Math.min(total, from + CHUNK);
    await db.raw.query(sql, columns(from, to));
    progress(label, to, total);
  }
  return (performance.now() - started) / 1000;
}

/**
 * Loads the plan through `kauth import` (a kauth-workspace file, external ids g<i> and u<i>) into
 * the workspace `slug`, made empty; returns the ids the import gave, by plan index.
 */
async function importPlan(
  url: string,
  slug: string,
  tenantId: number,
  p: Preset,
  tree: TreePlan,
  members: MemberPlan,
  roles: RolePlan,
): Promise<{ groups: Int32Array; users: Int32Array }> {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const roleName = (i: number) => `role-${String(i + 1).padStart(3, '0')}`;
  const emailOf = (i: number) => `user${i + 1}@${slug}.example`;
  const file: WorkspaceFile = {
    format: 'kauth-workspace',
    version: 1,
    groups: range(p.groups).map((i) => ({
      externalId: `g${i}`,
      name: `Group ${i + 1} (depth ${tree.depth[i]})`,
      description: null,
      parent: tree.parent[i] < 0 ? null : `g${tree.parent[i]}`,
    })),
    users: range(p.users).map((i) => ({
      externalId: `u${i}`,
      userName: emailOf(i),
      email: emailOf(i),
      name: `User ${i + 1}`,
      givenName: null,
      familyName: null,
      active: true,
    })),
    roles: range(p.roles).map((i) => ({ name: roleName(i), description: null })),
    memberships: Array.from(members.groups, (g, k) => ({ group: `g${g}`, user: `u${members.users[k]}` })),
    roleAssignments: [
      ...roles.groupRoles.map(([g, r]) => ({ role: roleName(r), group: `g${g}`, user: null })),
      ...roles.userRoles.map(([u, r]) => ({ role: roleName(r), group: null, user: `u${u}` })),
    ],
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'kauth-seed-'));
  try {
    const at = path.join(dir, `${slug}.json`);
    writeFileSync(at, formatWorkspaceFile(file));
    process.stderr.write(`kauth import ${slug} (${p.groups.toLocaleString('en')} groups)…\n`);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [path.resolve(__dirname, '../bin/kauth.js'), 'import', slug, at], {
        env: { ...process.env, DATABASE_URL: url },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`kauth import ${slug}: exit ${code}`))));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const byExternalId = async (table: 'groups' | 'users', prefix: string, count: number): Promise<Int32Array> => {
    const ids = new Int32Array(count).fill(-1);
    const rows = await queryOnce<{ id: number; externalId: string }>(url, `SELECT id, external_id AS "externalId" FROM ${table} WHERE tenant_id = $1`, [tenantId]);
    for (const row of rows) if (row.externalId?.startsWith(prefix)) ids[Number(row.externalId.slice(prefix.length))] = row.id;
    if (ids.includes(-1)) throw new Error(`kauth import left ${table} of the plan without an id`);
    return ids;
  };
  return { groups: await byExternalId('groups', 'g', p.groups), users: await byExternalId('users', 'u', p.users) };
}

async function seed(presetName: SeedPreset, seedValue: number, via: 'sql' | 'import'): Promise<SeedState> {
  const p = PRESETS[presetName];
  const url = process.env.DATABASE_URL || DEFAULT_BENCH_URL;
  const started = performance.now();
  const phases: Record<string, number> = {};
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const result = await work();
    phases[name] = (performance.now() - t) / 1000;
    return result;
  };

  const rand = prng(seedValue);
  const tree = await phase('plan', async () => planTree(p, rand));
  const members = await phase('plan members', async () => planMembers(p, tree, rand));
  const roles = planRoles(p, tree, members, rand);

  await ensureDatabase(url);
  const db = await openDatabase(
    { kind: 'postgres', url },
    { pool: { ...DEFAULT_POOL, size: 2, statementTimeoutMs: 3_600_000, transactionTimeoutMs: 600_000 } },
  );
  try {
    const slug = `bench-${presetName}`;
    await phase('delete old', async () => {
      process.stderr.write(`deleting workspace ${slug} if present…\n`);
      await db.raw.query('DELETE FROM tenants WHERE slug = $1', [slug]);
    });
    const tenant = await createTenant(db.prisma, { slug, name: `Benchmark (${presetName})` });
    const tenantId = tenant.id;

    let gid: (i: number) => number;
    let uid: (i: number) => number;
    if (via === 'import') {
      const ids = await phase('import', () => importPlan(url, slug, tenantId, p, tree, members, roles));
      gid = (i) => ids.groups[i];
      uid = (i) => ids.users[i];
    } else {
      const groupBase = await reserveIds(db, 'groups', p.groups);
      const userBase = await reserveIds(db, 'users', p.users);
      const roleBase = await reserveIds(db, 'roles', p.roles);
      gid = (i: number) => groupBase + i;
      uid = (i: number) => userBase + i;
      const rid = (i: number) => roleBase + i;
      const pathOf = (i: number): string => {
        const ids: number[] = [];
        for (let at = i; at >= 0; at = tree.parent[at]) ids.push(gid(at));
        return `{${ids.reverse().join(',')}}`;
      };

      const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);
      phases.roles = await bulk(
        db,
        'roles',
        p.roles,
        `INSERT INTO roles (id, tenant_id, name) SELECT id, $1, name FROM unnest($2::int[], $3::text[]) AS t(id, name)`,
        (from, to) => [tenantId, range(from, to).map(rid), range(from, to).map((i) => `role-${String(i + 1).padStart(3, '0')}`)],
      );
      // Ids grow with the index and a parent's index is below its children's: chunks go parents first.
      phases.groups = await bulk(
        db,
        'groups',
        p.groups,
        `INSERT INTO groups (id, tenant_id, name, parent_group_id, path)
         SELECT id, $1, name, parent, path::int[] FROM unnest($2::int[], $3::text[], $4::int[], $5::text[]) AS t(id, name, parent, path)`,
        (from, to) => {
          const ids = range(from, to);
          return [
            tenantId,
            ids.map(gid),
            ids.map((i) => `Group ${i + 1} (depth ${tree.depth[i]})`),
            ids.map((i) => (tree.parent[i] < 0 ? null : gid(tree.parent[i]))),
            ids.map(pathOf),
          ];
        },
      );
      const emailOf = (i: number) => `user${i + 1}@${slug}.example`;
      phases.users = await bulk(
        db,
        'users',
        p.users,
        `INSERT INTO users (id, tenant_id, email, user_name, name, emails)
         SELECT id, $1, email, email, name, jsonb_build_array(jsonb_build_object('value', email, 'type', 'work', 'primary', true))
         FROM unnest($2::int[], $3::text[], $4::text[]) AS t(id, email, name)`,
        (from, to) => {
          const ids = range(from, to);
          return [tenantId, ids.map(uid), ids.map(emailOf), ids.map((i) => `User ${i + 1}`)];
        },
      );
      phases.memberships = await bulk(
        db,
        'memberships',
        members.groups.length,
        `INSERT INTO group_members (tenant_id, group_id, user_id) SELECT $1, g, u FROM unnest($2::int[], $3::int[]) AS t(g, u)`,
        (from, to) => [tenantId, Array.from(members.groups.subarray(from, to), gid), Array.from(members.users.subarray(from, to), uid)],
      );
      phases.groupRoles = await bulk(
        db,
        'group roles',
        roles.groupRoles.length,
        `INSERT INTO group_roles (tenant_id, group_id, role_id) SELECT $1, g, r FROM unnest($2::int[], $3::int[]) AS t(g, r)`,
        (from, to) => [tenantId, roles.groupRoles.slice(from, to).map(([g]) => gid(g)), roles.groupRoles.slice(from, to).map(([, r]) => rid(r))],
      );
      phases.userRoles = await bulk(
        db,
        'user roles',
        roles.userRoles.length,
        `INSERT INTO user_roles (tenant_id, user_id, role_id) SELECT $1, u, r FROM unnest($2::int[], $3::int[]) AS t(u, r)`,
        (from, to) => [tenantId, roles.userRoles.slice(from, to).map(([u]) => uid(u)), roles.userRoles.slice(from, to).map(([, r]) => rid(r))],
      );
      await phase('analyze', async () => {
        process.stderr.write('ANALYZE…\n');
        await foldCountDeltas(db.raw, tenantId); // the chunks' count deltas, folded as an import folds its own
        await db.raw.exec('ANALYZE tenants, groups, users, roles, group_members, group_roles, user_roles, api_keys');
      });
    }
    const ctx = fullAccessContext(db.prisma, tenantId, treeLimits());
    const { key } = await createApiKey(ctx, OPERATOR, { name: `bench ${presetName}`, scopes: KEY_SCOPES });

    // Checks of the fixtures against the database, not the plan.
    const check = async (sql: string, params: unknown[]): Promise<number> => Number((await queryOnce<{ n: string }>(url, sql, params))[0].n);
    const crowdDistinct = await check(
      `SELECT count(DISTINCT m.user_id) AS n FROM group_members m JOIN groups g ON g.id = m.group_id
       WHERE g.tenant_id = $1 AND g.path @> ARRAY[$2::int]`,
      [tenantId, gid(tree.crowd)],
    );
    const moverSubtree = await check(`SELECT count(*) AS n FROM groups WHERE tenant_id = $1 AND path @> ARRAY[$2::int]`, [tenantId, gid(tree.mover)]);
    const wideChildren = await check(`SELECT count(*) AS n FROM groups WHERE tenant_id = $1 AND parent_group_id = $2`, [tenantId, gid(tree.wide)]);
    const leafDepth = await check(`SELECT cardinality(path) - 1 AS n FROM groups WHERE id = $1`, [gid(tree.spine[MAX_DEPTH])]);
    const maxDepth = await check(`SELECT max(cardinality(path)) - 1 AS n FROM groups WHERE tenant_id = $1`, [tenantId]);
    if (moverSubtree !== p.moverSubtree || wideChildren !== p.wideChildren || leafDepth !== MAX_DEPTH || crowdDistinct !== p.crowdUsers) {
      throw new Error(`fixtures do not hold: mover ${moverSubtree}, wide ${wideChildren}, leaf depth ${leafDepth}, crowd ${crowdDistinct}`);
    }

    const seconds = (performance.now() - started) / 1000;
    const state: SeedState = {
      preset: presetName,
      seed: seedValue,
      via,
      slug,
      tenantId,
      key,
      fixtures: {
        leaf: gid(tree.spine[MAX_DEPTH]),
        spine: tree.spine.map(gid),
        wide: gid(tree.wide),
        crowd: gid(tree.crowd),
        person: uid(members.person),
        personGroups: members.personGroups.map(gid),
        mover: gid(tree.mover),
        moveA: gid(tree.moveA),
        moveB: gid(tree.moveB),
        memberUser: uid(members.memberUser),
      },
      counts: {
        groups: p.groups,
        users: p.users,
        memberships: members.groups.length,
        roles: p.roles,
        groupRoles: roles.groupRoles.length,
        userRoles: roles.userRoles.length,
        wideChildren,
        crowdSubtreeGroups: tree.crowdSize,
        crowdDistinctUsers: crowdDistinct,
        moverSubtree,
        maxDepth,
      },
      seededAt: new Date().toISOString(),
      seconds: Math.round(seconds * 10) / 10,
    };
    mkdirSync(STATE_DIR, { recursive: true });
    const file = path.join(STATE_DIR, `${presetName}.json`);
    writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    const f1 = (s: number) => `${s.toFixed(1)} s`;
    process.stderr.write(
      `phases: ${Object.entries(phases).map(([name, s]) => `${name} ${f1(s)}`).join(', ')}\n` +
        `seeded ${slug} (seed ${seedValue}, by ${via === 'import' ? 'kauth import' : 'SQL'}) in ${f1(seconds)}: ${p.groups.toLocaleString('en')} groups (max depth ${maxDepth}), ` +
        `${p.users.toLocaleString('en')} users, ${members.groups.length.toLocaleString('en')} memberships, ${p.roles} roles, ` +
        `${roles.groupRoles.length} group roles, ${roles.userRoles.length} user roles; state in ${path.relative(process.cwd(), file)}\n`,
    );
    return state;
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { preset: { type: 'string' }, seed: { type: 'string', default: '1' }, via: { type: 'string', default: 'sql' } },
    strict: true,
  });
  const preset = values.preset;
  if (preset !== 'small' && preset !== 'large' && preset !== 'huge') {
    throw new Error('usage: npm run bench:seed -- --preset small|large|huge [--seed N] [--via sql|import]');
  }
  if (values.via !== 'sql' && values.via !== 'import') throw new Error('--via must be sql or import');
  const seedValue = Number(values.seed);
  if (!Number.isInteger(seedValue) || seedValue < 0) throw new Error('--seed must be a non-negative integer');
  await seed(preset, seedValue, values.via);
}

if (require.main === module) runBench(main);
