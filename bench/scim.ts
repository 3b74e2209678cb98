// SCIM provisioning on PostgreSQL (/t/{slug}/scim/v2: README, "SCIM provisioning").
//
//   1. Microsoft Entra ID's provisioning cycle replayed over real HTTP against a server process
//      (src/main.ts, as in production): for each user GET /Users?filter=userName eq "…" (not
//      found) then POST /Users; for each group GET /Groups?filter=displayName eq "…"&
//      excludedAttributes=members then POST /Groups with members: []; PATCH Add members, 10 per
//      request (each user in 1–3 groups); then a delta cycle: PATCH active "False" for 50 users,
//      PATCH rename 10 groups, PATCH Remove members (50 users taken out of all their groups).
//      Requests, wall time, requests/s and p50/p99 latency per phase, with 1 sequential client
//      (Entra provisions one workspace with one client), 4 concurrent clients sharing one
//      workspace's work, and 4 workspaces provisioned at once (one client each). Entra asks for
//      at least 25 requests/s per workspace.
//   2. One PATCH adding 10,000 members to an empty group (users inserted in bulk with SQL
//      beforehand), then one PATCH removing them: time (median of 3) and SQL statements per PATCH.
//   3. One PATCH adding one member to a group of 50,000 members and to a group of 5 (median of
//      20; the member is removed again between runs): the statement count should not depend on
//      the group's size. Also Entra's group lookup (filter + excludedAttributes=members) on both,
//      and GET /Groups/{id} with its members (fewer runs).
// Before 2 and 3: each kind of request of the cycle, time and statements, in a small workspace and
// again once the bulk users are in (the user lookup by userName should not grow with them).
// Parts 2 and 3 run the app in this process, listening on a port, so that its statements are
// counted (src/db/statement-counter.ts; authentication included, the once-a-minute lastUsedAt
// write kept out with a fixed clock). Nothing under bench/ writes result files: it prints.
//
//   npm run bench:scim        # postgres://postgres@127.0.0.1:5432/kauth_bench unless DATABASE_URL (created if missing)
//   SCIM_USERS=500 SCIM_GROUPS=50 MEMBERS_BULK=10000 BIG_GROUP=50000 PARTS=1,2,3 npm run bench:scim
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { trafficLimits } from '../src/config';
import { OPERATOR, createApiKey } from '../src/domain/apikeys';
import { fullAccessContext } from '../src/domain/context';
import { createTenant } from '../src/domain/tenants';
import { buildApp } from '../src/http/app';
import { type ServerProcess, startServer, stopServer } from '../test/support/servers';
import { type BenchWorkspace, openBenchWorkspace, percentile, runBench } from './support';
import { ensureDatabase, prng } from './seed';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/kauth_bench';
const USERS = Number(process.env.SCIM_USERS ?? 500);
const GROUPS = Number(process.env.SCIM_GROUPS ?? 50);
const MEMBERS_PER_PATCH = 10;
const DEACTIVATE = Math.min(50, USERS);
const RENAME = Math.min(10, GROUPS);
const TAKE_OUT = Math.min(50, USERS);
const ENTRA_MIN_RPS = 25;
const MEMBERS_BULK = Number(process.env.MEMBERS_BULK ?? 10_000);
const BULK_RUNS = 3;
const BIG_GROUP = Number(process.env.BIG_GROUP ?? 50_000);
const SMALL_GROUP = 5;
const ONE_RUNS = 20;
const FULL_RUNS = 5;
/** PARTS=2,3 skips the replay (2 and 3 always run together). */
const PARTS = new Set((process.env.PARTS ?? '1,2,3').split(','));
const KEY_SCOPES = ['users:write', 'groups:write'];

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const AD_GROUP_SCHEMA = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

// ---------------------------------------------------------------------------------------------
// The database, workspaces and keys


interface Workspace {
  slug: string;
  key: string;
}

/** One more workspace (deleted by `bench.close()`'s caller through `extraTenants`) with an Entra-like key. */
async function newWorkspace(bench: BenchWorkspace, extraTenants: number[], label: string): Promise<Workspace> {
  const tenant = await createTenant(bench.db.prisma, { slug: `scim-${label}-${Date.now().toString(36)}` });
  extraTenants.push(tenant.id);
  const ctx = fullAccessContext(bench.db.prisma, tenant.id, bench.limits);
  const { key } = await createApiKey(ctx, OPERATOR, { name: 'scim bench (Entra)', scopes: KEY_SCOPES });
  return { slug: tenant.slug, key };
}

// ---------------------------------------------------------------------------------------------
// HTTP

interface Sample {
  phase: string;
  ms: number;
}

class ScimClient {
  constructor(
    readonly base: string,
    readonly key: string,
    readonly samples: Sample[] = [],
  ) {}

  /** One request; throws unless the status is one of `ok`. Returns the parsed JSON answer (or null). */
  async send(phase: string, method: string, path: string, body: unknown, ok: number[]): Promise<any> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (body !== undefined) headers['content-type'] = 'application/scim+json';
    const started = performance.now();
    const res = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    this.samples.push({ phase, ms: performance.now() - started });
    if (!ok.includes(res.status)) throw new Error(`${method} ${path.slice(0, 120)} answered ${res.status}: ${text.slice(0, 400)}`);
    return text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : null;
  }
}

/** `filter=…` as Entra encodes it (spaces as +, quotes escaped). */
const filter = (expression: string) => `filter=${encodeURIComponent(expression).replace(/%20/g, '+')}`;
const patchOp = (...Operations: Record<string, unknown>[]) => ({ schemas: [PATCH_SCHEMA], Operations });
const memberValues = (ids: readonly (string | number)[]) => ids.map((id) => ({ value: String(id) }));

/** The service as its own process (src/main.ts), on the bench database, with rate limits out of the way. */
async function startBenchServer(url: string): Promise<ServerProcess> {
  const server = await startServer({ DATABASE_URL: url, RATE_LIMIT_POINTS: '1000000000', RATE_LIMIT_ADDRESS_REQUESTS: '1000000000' });
  await server.ready;
  return server;
}

// ---------------------------------------------------------------------------------------------
// Part 1: Entra's provisioning cycle


interface PlannedUser {
  userName: string;
  id: string | null;
  groups: number[];
}

interface PlannedGroup {
  displayName: string;
  id: string | null;
  members: number[];
}

interface Plan {
  users: PlannedUser[];
  groups: PlannedGroup[];
}

function makePlan(tag: string, seed: number, userCount = USERS, groupCount = GROUPS): Plan {
  const next = prng(seed);
  const groups: PlannedGroup[] = Array.from({ length: groupCount }, (_, i) => ({ displayName: `${tag} Group ${i}`, id: null, members: [] }));
  const users: PlannedUser[] = Array.from({ length: userCount }, (_, i) => {
    const count = 1 + Math.floor(next() * 3);
    const mine = new Set<number>();
    while (mine.size < Math.min(count, groupCount)) mine.add(Math.floor(next() * groupCount));
    return { userName: `${tag}.user${i}@bench.example`, id: null, groups: [...mine].sort((a, b) => a - b) };
  });
  users.forEach((user, i) => user.groups.forEach((g) => groups[g].members.push(i)));
  return { users, groups };
}

/** Entra's create-user request (Microsoft's example: the enterprise extension and unstored attributes included). */
function entraUser(user: PlannedUser, i: number) {
  return {
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    externalId: `ext-${user.userName}`,
    userName: user.userName,
    active: true,
    displayName: `Bench User ${i}`,
    emails: [{ primary: true, type: 'work', value: user.userName }],
    meta: { resourceType: 'User' },
    name: { formatted: `Bench User ${i}`, familyName: `User ${i}`, givenName: 'Bench' },
    roles: [],
    title: 'Engineer',
    [ENTERPRISE_USER_SCHEMA]: { employeeNumber: String(100000 + i), department: 'Bench' },
  };
}

function entraGroup(group: PlannedGroup) {
  return {
    schemas: [GROUP_SCHEMA, AD_GROUP_SCHEMA],
    externalId: `ext-${group.displayName}`,
    displayName: group.displayName,
    members: [],
    meta: { resourceType: 'Group' },
  };
}

const chunks = <T>(values: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(values.length / size) }, (_, i) => values.slice(i * size, (i + 1) * size));

/** A unit of work one client does in order (one user's lookup and creation, one group's member PATCHes…). */
type Task = (client: ScimClient) => Promise<void>;

interface Phase {
  name: string;
  /** What the summary calls it. */
  short: string;
  tasks(plan: Plan, name: string): Task[];
}

const PHASES: Phase[] = [
  {
    name: 'users: GET filter userName + POST',
    short: 'users',
    tasks: (plan, name) =>
      plan.users.map((user, i) => async (client) => {
        const found = await client.send(name, 'GET', `/Users?${filter(`userName eq "${user.userName}"`)}`, undefined, [200]);
        if (found.totalResults !== 0) throw new Error(`user ${user.userName} already there`);
        user.id = (await client.send(name, 'POST', '/Users', entraUser(user, i), [201])).id;
      }),
  },
  {
    name: 'groups: GET filter displayName (excl. members) + POST',
    short: 'groups',
    tasks: (plan, name) =>
      plan.groups.map((group) => async (client) => {
        const query = `/Groups?excludedAttributes=members&${filter(`displayName eq "${group.displayName}"`)}`;
        const found = await client.send(name, 'GET', query, undefined, [200]);
        if (found.totalResults !== 0) throw new Error(`group ${group.displayName} already there`);
        group.id = (await client.send(name, 'POST', '/Groups', entraGroup(group), [201])).id;
      }),
  },
  {
    name: `members: PATCH Add (≤ ${MEMBERS_PER_PATCH} per request)`,
    short: 'members Add',
    // One task per group: a group's PATCHes in order, by one client, as Entra does.
    tasks: (plan, name) =>
      plan.groups.map((group) => async (client) => {
        for (const part of chunks(group.members, MEMBERS_PER_PATCH)) {
          const value = memberValues(part.map((u) => plan.users[u].id!));
          await client.send(name, 'PATCH', `/Groups/${group.id}`, patchOp({ op: 'Add', path: 'members', value }), [200, 204]);
        }
      }),
  },
  {
    name: `delta: PATCH active "False" (${DEACTIVATE} users)`,
    short: 'deactivate',
    tasks: (plan, name) =>
      plan.users.slice(0, DEACTIVATE).map((user) => async (client) => {
        const res = await client.send(name, 'PATCH', `/Users/${user.id}`, patchOp({ op: 'Replace', path: 'active', value: 'False' }), [200]);
        if (res?.active !== false) throw new Error(`PATCH active False answered active ${JSON.stringify(res?.active)}`);
      }),
  },
  {
    name: `delta: PATCH rename (${RENAME} groups)`,
    short: 'rename',
    tasks: (plan, name) =>
      plan.groups.slice(0, RENAME).map((group) => async (client) => {
        const displayName = `${group.displayName} (renamed)`;
        await client.send(name, 'PATCH', `/Groups/${group.id}`, patchOp({ op: 'Replace', path: 'displayName', value: displayName }), [200, 204]);
        group.displayName = displayName;
      }),
  },
  {
    name: `delta: PATCH Remove members (${TAKE_OUT} users out of their groups)`,
    short: 'members Remove',
    tasks: (plan, name) => {
      const first = plan.users.length - Math.min(TAKE_OUT, plan.users.length);
      const leaving = new Set(plan.users.slice(first).map((_, i) => first + i));
      return plan.groups
        .map((group) => ({ group, out: group.members.filter((u) => leaving.has(u)) }))
        .filter(({ out }) => out.length > 0)
        .map(({ group, out }) => async (client) => {
          for (const part of chunks(out, MEMBERS_PER_PATCH)) {
            const value = memberValues(part.map((u) => plan.users[u].id!));
            await client.send(name, 'PATCH', `/Groups/${group.id}`, patchOp({ op: 'Remove', path: 'members', value }), [200, 204]);
          }
        });
    },
  },
];

/** One client's part: its client, the plan it works on, and which of the plan's tasks are its own. */
interface Lane {
  client: ScimClient;
  plan: Plan;
  share: number;
  of: number;
}

interface PhaseResult {
  phase: string;
  short: string;
  requests: number;
  wallMs: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

interface ReplayResult {
  mode: string;
  clients: number;
  workspaces: number;
  requests: number;
  wallMs: number;
  rps: number;
  /** Requests per second of the slowest workspace over the whole replay. */
  perWorkspaceRps: number;
  p50Ms: number;
  p99Ms: number;
  entraMet: boolean;
  phases: PhaseResult[];
}

const stats = (phase: string, short: string, samples: Sample[], wallMs: number): PhaseResult => {
  const ms = samples.map((s) => s.ms);
  return { phase, short, requests: ms.length, wallMs, rps: ms.length / (wallMs / 1000), p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) };
};

/** Runs every phase over the lanes (concurrently between lanes, in order within one); all lanes end a phase before the next starts. */
async function replay(mode: string, lanes: Lane[], workspaces: number): Promise<ReplayResult> {
  const phases: PhaseResult[] = [];
  const started = performance.now();
  for (const phase of PHASES) {
    const tasksByPlan = new Map<Plan, Task[]>();
    for (const lane of lanes) if (!tasksByPlan.has(lane.plan)) tasksByPlan.set(lane.plan, phase.tasks(lane.plan, phase.name));
    const phaseStarted = performance.now();
    await Promise.all(
      lanes.map(async (lane) => {
        const tasks = tasksByPlan.get(lane.plan)!.filter((_, i) => i % lane.of === lane.share);
        for (const task of tasks) await task(lane.client);
      }),
    );
    const wallMs = performance.now() - phaseStarted;
    phases.push(stats(phase.name, phase.short, lanes.flatMap((lane) => lane.client.samples.filter((s) => s.phase === phase.name)), wallMs));
  }
  const wallMs = performance.now() - started;
  const total = stats('total', 'total', lanes.flatMap((lane) => lane.client.samples), wallMs);
  const perWorkspaceRps = Math.min(
    ...[...new Set(lanes.map((lane) => lane.plan))].map(
      (plan) => lanes.filter((lane) => lane.plan === plan).reduce((n, lane) => n + lane.client.samples.length, 0) / (wallMs / 1000),
    ),
  );
  return {
    mode,
    clients: lanes.length,
    workspaces,
    requests: total.requests,
    wallMs,
    rps: total.rps,
    perWorkspaceRps,
    p50Ms: total.p50Ms,
    p99Ms: total.p99Ms,
    entraMet: perWorkspaceRps >= ENTRA_MIN_RPS,
    phases,
  };
}

/** A small cycle first (60 users, 6 groups), so that the server process has loaded and compiled what the replay uses. */
async function warmUp(base: string, ws: Workspace): Promise<void> {
  const client = new ScimClient(`${base}/t/${ws.slug}/scim/v2`, ws.key);
  await replay('warm-up', [{ client, plan: makePlan('warm', 3, 60, 6), share: 0, of: 1 }], 1);
}

async function partOne(bench: BenchWorkspace, extraTenants: number[], url: string): Promise<ReplayResult[]> {
  const server = await startBenchServer(url);
  const scimBase = (ws: Workspace) => `${server.baseUrl}/t/${ws.slug}/scim/v2`;
  const results: ReplayResult[] = [];
  try {
    await warmUp(server.baseUrl, await newWorkspace(bench, extraTenants, 'warm'));

    const one = await newWorkspace(bench, extraTenants, 'seq');
    results.push(await replay('1 client (sequential)', [{ client: new ScimClient(scimBase(one), one.key), plan: makePlan('seq', 1), share: 0, of: 1 }], 1));

    const shared = await newWorkspace(bench, extraTenants, 'shared');
    const sharedPlan = makePlan('shared', 1);
    results.push(
      await replay(
        '4 clients, one workspace',
        [0, 1, 2, 3].map((share) => ({ client: new ScimClient(scimBase(shared), shared.key), plan: sharedPlan, share, of: 4 })),
        1,
      ),
    );

    const four: Lane[] = [];
    for (let i = 0; i < 4; i += 1) {
      const ws = await newWorkspace(bench, extraTenants, `ws${i}`);
      four.push({ client: new ScimClient(scimBase(ws), ws.key), plan: makePlan(`ws${i}`, 1), share: 0, of: 1 });
    }
    results.push(await replay('4 clients, 4 workspaces (1 each)', four, 4));
  } catch (error) {
    console.error(`server output (last lines):\n${server.output().split('\n').slice(-40).join('\n')}`);
    throw error;
  } finally {
    await stopServer(server);
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Parts 2 and 3: big member changes, in process (statements counted)

interface Measured {
  ms: number;
  statements: number;
}

interface CostRow {
  request: string;
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Distinct statement counts seen over the runs. */
  statements: number[];
}

const costRow = (request: string, runs: Measured[]): CostRow => {
  const ms = runs.map((r) => r.ms);
  return {
    request,
    runs: runs.length,
    medianMs: percentile(ms, 50),
    minMs: Math.min(...ms),
    maxMs: Math.max(...ms),
    statements: [...new Set(runs.map((r) => r.statements))].sort((a, b) => a - b),
  };
};

interface BigResults {
  /** Each request of the cycle in a small workspace, then after the bulk set-up's users (user counts at the end of each). */
  perRequest: { small: CostRow[]; large: CostRow[]; smallUsers: number; largeUsers: number };
  bulk: CostRow[];
  oneMember: { small: CostRow[]; big: CostRow[]; sameStatements: boolean };
}

async function partsTwoAndThree(bench: BenchWorkspace): Promise<BigResults> {
  const { db, ctx, tenant, limits } = bench;
  const { key } = await createApiKey(ctx, OPERATOR, { name: 'scim bench (Entra)', scopes: KEY_SCOPES });
  const fixed = new Date();
  const app = await buildApp({
    db: db.prisma,
    maxGroupDepth: limits.maxGroupDepth,
    jwt: null,
    traffic: { ...trafficLimits(), pointsPerWindow: 1e9, requestsPerAddress: 1e9 },
    listen: db.listen,
    clock: { now: () => fixed }, // lastUsedAt is written on the first request only, not once a minute into a measurement
  });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const client = new ScimClient(`http://127.0.0.1:${port}/t/${tenant.slug}/scim/v2`, key);
    /** One request, timed, with the statements it made (the answer's body beside). */
    const measure = async (method: string, path: string, body: unknown, ok: number[]): Promise<Measured & { answer: any }> => {
      await app.settled();
      const before = db.statements.total;
      const started = performance.now();
      const answer = await client.send('measured', method, path, body, ok);
      const ms = performance.now() - started;
      await app.settled();
      return { ms, statements: db.statements.total - before, answer };
    };
    const memberCount = async (groupId: string) =>
      Number((await db.raw.query<{ n: string }>('SELECT count(*) AS n FROM group_members WHERE group_id = $1', [Number(groupId)]))[0].n);

    // What each request of the Entra cycle costs, statements counted (5 rounds of: 10 users, a
    // group, its 10 members added, one user deactivated, the group renamed, the members removed).
    const requestKinds = async (tag: string): Promise<CostRow[]> => {
      const kinds = new Map<string, Measured[]>();
      const record = (kind: string, m: Measured) => kinds.set(kind, [...(kinds.get(kind) ?? []), m]);
      const kindPlan = makePlan(tag, 2);
      for (let round = 0; round < 5; round += 1) {
        const userIds: string[] = [];
        for (let i = round * 10; i < round * 10 + 10; i += 1) {
          const user = kindPlan.users[i];
          record('GET /Users?filter=userName eq … (none)', await measure('GET', `/Users?${filter(`userName eq "${user.userName}"`)}`, undefined, [200]));
          const created = await measure('POST', '/Users', entraUser(user, i), [201]);
          record('POST /Users', created);
          userIds.push(created.answer.id);
        }
        const plannedGroup = kindPlan.groups[round];
        const lookup = `/Groups?excludedAttributes=members&${filter(`displayName eq "${plannedGroup.displayName}"`)}`;
        record('GET /Groups?filter=displayName eq …&excludedAttributes=members (none)', await measure('GET', lookup, undefined, [200]));
        const created = await measure('POST', '/Groups', entraGroup(plannedGroup), [201]);
        record('POST /Groups (members: [])', created);
        const groupId = created.answer.id as string;
        const value = memberValues(userIds);
        record('PATCH /Groups Add 10 members', await measure('PATCH', `/Groups/${groupId}`, patchOp({ op: 'Add', path: 'members', value }), [200, 204]));
        record('PATCH /Users active "False"', await measure('PATCH', `/Users/${userIds[0]}`, patchOp({ op: 'Replace', path: 'active', value: 'False' }), [200]));
        record('PATCH /Groups rename', await measure('PATCH', `/Groups/${groupId}`, patchOp({ op: 'Replace', path: 'displayName', value: `${plannedGroup.displayName} (renamed)` }), [200, 204]));
        record('PATCH /Groups Remove 10 members', await measure('PATCH', `/Groups/${groupId}`, patchOp({ op: 'Remove', path: 'members', value }), [200, 204]));
      }
      return [...kinds].map(([kind, runs]) => costRow(kind, runs));
    };
    await client.send('warm-up', 'GET', `/Users?${filter('userName eq "warm-up"')}`, undefined, [200]); // the key's first use writes lastUsedAt
    await app.settled();
    await requestKinds('kinds-warm-up'); // the first requests of a process are slower (code loaded and compiled): not measured
    const usersNow = async () => Number((await db.raw.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE tenant_id = $1', [tenant.id]))[0].n);
    const smallWorkspace = await requestKinds('kinds-small');
    const smallCount = await usersNow();

    // Users in bulk: MEMBERS_BULK for part 2, BIG_GROUP + SMALL_GROUP for part 3, one to add and remove.
    const total = MEMBERS_BULK + BIG_GROUP + SMALL_GROUP + 1;
    const bulkStarted = performance.now();
    const ids = (
      await db.raw.query<{ id: number }>(
        `INSERT INTO users (tenant_id, user_name, email, emails)
         SELECT $1::int, 'bulk-' || g || '@bench.example', NULL, '[]'::jsonb FROM generate_series(1, $2::int) AS g
         RETURNING id`,
        [tenant.id, total],
      )
    )
      .map((row) => row.id)
      .sort((a, b) => a - b);
    await db.raw.exec('ANALYZE users');
    const largeWorkspace = await requestKinds('kinds-large');
    const largeUsers = await usersNow();
    const bulkUsers = ids.slice(0, MEMBERS_BULK);
    const bigUsers = ids.slice(MEMBERS_BULK, MEMBERS_BULK + BIG_GROUP);
    const smallUsers = ids.slice(MEMBERS_BULK + BIG_GROUP, MEMBERS_BULK + BIG_GROUP + SMALL_GROUP);
    const extra = ids[ids.length - 1];


    // Part 2
    const group = (await client.send('setup', 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'bulk target', members: [] }, [201])).id as string;
    const adds: Measured[] = [];
    const removes: Measured[] = [];
    const addBody = patchOp({ op: 'Add', path: 'members', value: memberValues(bulkUsers) });
    const removeBody = patchOp({ op: 'Remove', path: 'members', value: memberValues(bulkUsers) });
    console.log(`\n(set-up: ${total} users inserted with SQL in ${((performance.now() - bulkStarted) / 1000).toFixed(1)} s; PATCH body of ${MEMBERS_BULK} members: ${(JSON.stringify(addBody).length / 1024).toFixed(0)} KiB)`);
    for (let i = 0; i < BULK_RUNS; i += 1) {
      adds.push(await measure('PATCH', `/Groups/${group}`, addBody, [200, 204]));
      if ((await memberCount(group)) !== MEMBERS_BULK) throw new Error(`after the Add PATCH the group has ${await memberCount(group)} members, not ${MEMBERS_BULK}`);
      removes.push(await measure('PATCH', `/Groups/${group}`, removeBody, [200, 204]));
      if ((await memberCount(group)) !== 0) throw new Error(`after the Remove PATCH the group has ${await memberCount(group)} members, not 0`);
    }
    const bulk = [costRow(`PATCH Add ${MEMBERS_BULK.toLocaleString('en')} members (empty group)`, adds), costRow(`PATCH Remove those ${MEMBERS_BULK.toLocaleString('en')}`, removes)];

    // Part 3: a group of BIG_GROUP (members inserted with SQL) and one of SMALL_GROUP (POSTed with its members).
    const big = (await client.send('setup', 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'big group', members: [] }, [201])).id as string;
    await db.raw.query(
      'INSERT INTO group_members (tenant_id, group_id, user_id) SELECT $1::int, $2::int, u FROM unnest($3::int[]) AS u',
      [tenant.id, Number(big), bigUsers],
    );
    const small = (
      await client.send('setup', 'POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'small group', members: memberValues(smallUsers) }, [201])
    ).id as string;
    await db.raw.exec('ANALYZE users; ANALYZE groups; ANALYZE group_members');
    if ((await memberCount(big)) !== BIG_GROUP || (await memberCount(small)) !== SMALL_GROUP) throw new Error('part 3 set-up: wrong member counts');

    const oneMember = async (groupId: string, displayName: string): Promise<CostRow[]> => {
      const add = patchOp({ op: 'Add', path: 'members', value: memberValues([extra]) });
      const remove = patchOp({ op: 'Remove', path: 'members', value: memberValues([extra]) });
      const lookup = `/Groups?excludedAttributes=members&${filter(`displayName eq "${displayName}"`)}`;
      for (let i = 0; i < 3; i += 1) {
        await measure('PATCH', `/Groups/${groupId}`, add, [200, 204]);
        await measure('PATCH', `/Groups/${groupId}`, remove, [200, 204]);
        await measure('GET', lookup, undefined, [200]);
      }
      const adds: Measured[] = [];
      const removes: Measured[] = [];
      const lookups: Measured[] = [];
      for (let i = 0; i < ONE_RUNS; i += 1) {
        adds.push(await measure('PATCH', `/Groups/${groupId}`, add, [200, 204]));
        removes.push(await measure('PATCH', `/Groups/${groupId}`, remove, [200, 204]));
        lookups.push(await measure('GET', lookup, undefined, [200]));
      }
      // The whole group, members included (what a client gets without excludedAttributes): fewer runs.
      const full: Measured[] = [];
      for (let i = 0; i < FULL_RUNS; i += 1) full.push(await measure('GET', `/Groups/${groupId}`, undefined, [200]));
      return [
        costRow('PATCH Add 1 member', adds),
        costRow('PATCH Remove that member', removes),
        costRow('GET /Groups?filter=displayName eq …&excludedAttributes=members', lookups),
        costRow(`GET /Groups/{id} (members included; ${FULL_RUNS} runs)`, full),
      ];
    };
    const smallRows = await oneMember(small, 'small group');
    const bigRows = await oneMember(big, 'big group');
    const same = (a: CostRow, b: CostRow) => a.statements.join('/') === b.statements.join('/');
    return { perRequest: { small: smallWorkspace, large: largeWorkspace, smallUsers: smallCount, largeUsers }, bulk, oneMember: { small: smallRows, big: bigRows, sameStatements: same(smallRows[0], bigRows[0]) } };
  } finally {
    await app.close();
  }
}

// ---------------------------------------------------------------------------------------------

const f0 = (n: number) => n.toFixed(0);
const f1 = (n: number) => n.toFixed(1);

function printReplay(results: ReplayResult[]): void {
  console.log(`\n## 1. Entra ID provisioning cycle over HTTP (server process; ${USERS} users, ${GROUPS} groups per workspace)\n`);
  for (const r of results) {
    console.log(`### ${r.mode}\n`);
    console.log('| phase | requests | wall s | req/s | p50 ms | p99 ms |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const p of r.phases) console.log(`| ${p.phase} | ${p.requests} | ${(p.wallMs / 1000).toFixed(2)} | ${f0(p.rps)} | ${f1(p.p50Ms)} | ${f1(p.p99Ms)} |`);
    console.log(`| **total** | ${r.requests} | ${(r.wallMs / 1000).toFixed(2)} | ${f0(r.rps)} | ${f1(r.p50Ms)} | ${f1(r.p99Ms)} |\n`);
  }
  console.log(`### Summary (Entra needs ≥ ${ENTRA_MIN_RPS} req/s per workspace)\n`);
  console.log('| mode | requests | wall s | req/s overall | req/s per workspace (slowest) | slowest phase req/s | p50 ms | p99 ms | ≥ 25 req/s per workspace |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of results) {
    const slowest = r.phases.reduce((a, b) => (b.rps < a.rps ? b : a));
    console.log(
      `| ${r.mode} | ${r.requests} | ${(r.wallMs / 1000).toFixed(2)} | ${f0(r.rps)} | ${f0(r.perWorkspaceRps)} | ${f0(slowest.rps / r.workspaces)} (${slowest.short}) | ${f1(r.p50Ms)} | ${f1(r.p99Ms)} | ${r.entraMet ? 'yes' : '**no**'} |`,
    );
  }
}

function printBig(results: BigResults): void {
  const statements = (row: CostRow) => row.statements.join(' / ');
  const { small: few, large: many, smallUsers, largeUsers } = results.perRequest;
  console.log(`\n## Each request of the cycle (in process, real HTTP; 5 rounds: 10 users, 1 group, its members, 1 deactivation, 1 rename)\n`);
  console.log(`| request | runs | ${smallUsers} users: median ms | statements | ${largeUsers.toLocaleString('en')} users: median ms | statements |`);
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  few.forEach((row, i) => console.log(`| ${row.request} | ${row.runs} | ${f1(row.medianMs)} | ${statements(row)} | ${f1(many[i].medianMs)} | ${statements(many[i])} |`));
  console.log(`\n## 2. One PATCH of ${MEMBERS_BULK.toLocaleString('en')} members (in process, real HTTP; median of ${BULK_RUNS})\n`);
  console.log('| request | runs | median ms | min–max ms | SQL statements |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const row of results.bulk) console.log(`| ${row.request} | ${row.runs} | ${f0(row.medianMs)} | ${f0(row.minMs)}–${f0(row.maxMs)} | ${statements(row)} |`);
  const { small, big, sameStatements } = results.oneMember;
  console.log(`\n## 3. One member, group of ${SMALL_GROUP} vs group of ${BIG_GROUP.toLocaleString('en')} (in process, real HTTP; median of ${ONE_RUNS})\n`);
  console.log(`| request | group of ${SMALL_GROUP}: median ms | statements | group of ${BIG_GROUP.toLocaleString('en')}: median ms | statements |`);
  console.log('| --- | ---: | ---: | ---: | ---: |');
  small.forEach((row, i) => console.log(`| ${row.request} | ${f1(row.medianMs)} | ${statements(row)} | ${f1(big[i].medianMs)} | ${statements(big[i])} |`));
  console.log(`\nAdding one member: same statement count for both groups: ${sameStatements ? 'yes' : '**no**'}`);
}

runBench(async () => {
  const url = (process.env.DATABASE_URL ||= DEFAULT_URL);
  if (!/^postgres(ql)?:/.test(url)) throw new Error('bench:scim measures PostgreSQL: DATABASE_URL must be a postgres:// URL (a scratch database such as kauth_bench)');
  await ensureDatabase(url);
  const bench = await openBenchWorkspace();
  const extraTenants: number[] = [];
  try {
    const version = (await bench.db.raw.query<{ server_version: string }>('SHOW server_version'))[0].server_version;
    console.log(
      `node ${process.version}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}); PostgreSQL ${version} at ${url.replace(/\/\/[^@/]*@/, '//***@')}`,
    );
    if (PARTS.has('1')) printReplay(await partOne(bench, extraTenants, url));
    if (PARTS.has('2') || PARTS.has('3')) printBig(await partsTwoAndThree(bench));
  } finally {
    for (const id of extraTenants) await bench.db.prisma.tenant.delete({ where: { id } });
    await bench.close();
  }
});
