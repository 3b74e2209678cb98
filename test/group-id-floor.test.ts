// A workspace's group id floor (issue 29): the groups sequence's value when the workspace is made,
// so every group of it has a higher id; set by migration for workspaces made before it. Scans of a
// workspace's groups in id order start above it: on PostgreSQL, the first page of a workspace made
// after a large one no longer reads and throws away the large one's rows (its plan, as sent). The
// same for users (the user id floor): GraphQL `users` here; the walk of a big subtree's inherited
// members too, which plans this way only with many memberships (BENCHMARKS.md, "A million groups").
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Database, migrate, openDatabase } from '../src/db';
import { readMigrations } from '../src/db/migrator';
import { fullAccessContext } from '../src/domain/context';
import { createGroup } from '../src/domain/groups';
import { createTenant } from '../src/domain/tenants';
import { MAX_GROUP_DEPTH, type Harness, type Workspace, backends, eachBackend, postgresOnly, uniqueSlug } from './support/harness';
import { ManualClock } from './support/clock';
import { Rest } from './support/rest';
import { databaseUrl, withAdmin } from './support/postgres';

const MIGRATION = '20261207000001_group_id_floor';

/** A fresh database on `backend`, migrated up to (not including) the floor's migration, or fully. */
async function privateDatabase(backend: string, name: string, options: { beforeFloor: boolean }): Promise<[Database, () => Promise<void>]> {
  let db: Database;
  let drop: () => Promise<void>;
  if (backend === 'pglite') {
    const dataDir = mkdtempSync(path.join(tmpdir(), `kauth-${name}-`));
    db = await openDatabase({ kind: 'pglite', dataDir }, { migrate: false });
    drop = async () => rmSync(dataDir, { recursive: true, force: true });
  } else {
    const database = `${process.env.KAUTH_TEST_POSTGRES_DB}_${name}`;
    await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
    await withAdmin((client) => client.query(`CREATE DATABASE "${database}"`));
    db = await openDatabase({ kind: 'postgres', url: databaseUrl(database) }, { migrate: false });
    drop = () => withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)).then(() => undefined);
  }
  await migrate(db.raw, readMigrations().filter((m) => !options.beforeFloor || m.name < MIGRATION));
  return [db, async () => {
    await db.close();
    await drop();
  }];
}

const floorOf = async (db: Database, tenantId: number) =>
  (await db.raw.query<{ floor: number }>('SELECT group_id_floor AS floor FROM tenants WHERE id = $1', [tenantId]))[0].floor;

describe.each(backends())('group id floor migration [%s]', (backend) => {
  const dbs: [Database, () => Promise<void>][] = [];
  afterAll(() => Promise.all(dbs.map(([, drop]) => drop())));
  const open = async (name: string, beforeFloor: boolean) => {
    dbs.push(await privateDatabase(backend, name, { beforeFloor }));
    return dbs[dbs.length - 1][0];
  };

  it("sets an existing workspace's floor just below its first group, or at the sequence's value when it has none", async () => {
    const db = await open('floormig', true);
    const tenant = async (slug: string) => (await db.raw.query<{ id: number }>('INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id', [slug]))[0].id;
    const groups = async (tenantId: number, names: string[]) =>
      (await db.raw.query<{ id: number }>(
        `INSERT INTO groups (id, tenant_id, name, path)
         SELECT n, $1::int, name, ARRAY[n] FROM (SELECT nextval(pg_get_serial_sequence('groups', 'id'))::int AS n, name FROM unnest($2::text[]) AS name) s
         RETURNING id`,
        [tenantId, names],
      )).map((row) => row.id).sort((a, b) => a - b);
    const early = await tenant('early');
    const older = await tenant('older');
    const newer = await tenant('newer');
    const olderIds = await groups(older, ['a', 'b']);
    const newerIds = await groups(newer, ['c', 'd', 'e']);
    await groups(older, ['f']);

    const [{ last }] = await db.raw.query<{ last: number }>('SELECT max(id) AS last FROM groups'); // the last id the sequence gave

    await migrate(db.raw);
    expect(await floorOf(db, older)).toBe(olderIds[0] - 1);
    expect(await floorOf(db, newer)).toBe(newerIds[0] - 1);
    expect(await floorOf(db, early)).toBe(last);
    // And a workspace made now through Prisma, which names no floor: the sequence's value too.
    const made = await createTenant(db.prisma, { slug: 'made-after' });
    expect(made.groupIdFloor).toBe(last);
  }, 120_000);

  it("gives the first workspace of a new database the floor 0, below the sequence's first id", async () => {
    const db = await open('floornew', false);
    const tenant = await createTenant(db.prisma, { slug: 'first' });
    expect(tenant.groupIdFloor).toBe(0);
    const group = await createGroup(fullAccessContext(db.prisma, tenant.id, { maxGroupDepth: MAX_GROUP_DEPTH }), { name: 'g' });
    expect(group.id).toBe(1);
    expect(await floorOf(db, tenant.id)).toBe(0);
  }, 120_000);
});

eachBackend('group id floor', (h) => {
  it('is above every group of the workspaces made before it and below the first group of its own', async () => {
    const before = await h.workspace();
    await before.group(uniqueSlug('g'));
    await before.group(uniqueSlug('g'));
    const ws = await h.workspace();
    const [{ last }] = await h.db.raw.query<{ last: number }>('SELECT max(id) AS last FROM groups');
    expect(ws.tenant.groupIdFloor).toBeGreaterThanOrEqual(last);
    const first = Number(await ws.group('first'));
    expect(first).toBeGreaterThan(ws.tenant.groupIdFloor);
    expect(await floorOf(h.db, ws.tenant.id)).toBe(ws.tenant.groupIdFloor);
  });
});

eachBackend('user id floor', (h) => {
  it('is above every user of the workspaces made before it and below the first user of its own', async () => {
    const before = await h.workspace();
    await before.user('one');
    await before.user('two');
    const ws = await h.workspace();
    const [{ last }] = await h.db.raw.query<{ last: number }>('SELECT max(id) AS last FROM users');
    expect(ws.tenant.userIdFloor).toBeGreaterThanOrEqual(last);
    const first = Number(await ws.user('first'));
    expect(first).toBeGreaterThan(ws.tenant.userIdFloor);
    const [{ floor }] = await h.db.raw.query<{ floor: number }>('SELECT user_id_floor AS floor FROM tenants WHERE id = $1', [ws.tenant.id]);
    expect(floor).toBe(ws.tenant.userIdFloor);
  });
});

/** Makes `count` users of a workspace in one statement, ids from the sequence. */
async function bulkUsers(h: Harness, ws: Workspace, count: number): Promise<number[]> {
  const rows = await h.db.raw.query<{ id: number }>(
    `INSERT INTO users (tenant_id, user_name) SELECT $1::int, 'bulk-' || n FROM generate_series(1, $2::int) AS n RETURNING id`,
    [ws.tenant.id, count],
  );
  return rows.map((row) => row.id).sort((a, b) => a - b);
}

/** Makes `count` root groups of a workspace in one statement, ids from the sequence (as bench/seed.ts does, in bulk). */
async function bulkGroups(h: Harness, ws: Workspace, count: number): Promise<void> {
  await h.db.raw.query(
    `INSERT INTO groups (id, tenant_id, name, path)
     SELECT n, $1::int, 'bulk-' || n, ARRAY[n] FROM (SELECT nextval(pg_get_serial_sequence('groups', 'id'))::int AS n FROM generate_series(1, $2::int)) s`,
    [ws.tenant.id, count],
  );
}

interface PlanNode {
  'Node Type': string;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

const rowsRemoved = (node: PlanNode): number => (node['Rows Removed by Filter'] ?? 0) + (node.Plans ?? []).reduce((sum, child) => sum + rowsRemoved(child), 0);

type Sent = { sql: string; params: readonly unknown[] };

/** The statements `request` sends that match `pattern`, as sent, with their parameters. */
async function statementsOf(h: Harness, request: () => Promise<unknown>, pattern: RegExp): Promise<Sent[]> {
  const sent: Sent[] = [];
  h.db.statements.trace = (sql, _ms, params) => void sent.push({ sql, params });
  try {
    await request();
  } finally {
    h.db.statements.trace = null;
  }
  return sent.filter(({ sql }) => pattern.test(sql));
}

/** Rows the plan of `statement` reads and throws away, run as EXPLAIN ANALYZE with its own parameters. */
async function removedBy(h: Harness, statement: Sent): Promise<number> {
  const [row] = await h.db.raw.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${statement.sql}`, [...statement.params]);
  return rowsRemoved(row['QUERY PLAN'][0].Plan);
}

/** The statements that read the workspace's groups in id order. */
const GROUP_PAGES = /FROM "public"\."groups"[\s\S]*ORDER BY "public"\."groups"\."id" ASC/;

postgresOnly('the first page of a workspace made after a large one', (h) => {
  const OLDER_GROUPS = 5_000;
  let ws: Workspace;
  beforeAll(async () => {
    await bulkGroups(h, await h.workspace(), OLDER_GROUPS);
    ws = await h.workspace();
    await bulkGroups(h, ws, 20_000);
    await h.db.raw.exec('ANALYZE groups');
  }, 60_000);

  it("reads GraphQL groups' first page in id order without throwing away the older workspace's rows", async () => {
    await ws.ok('{ viewer { scopes } }'); // the key is looked up once, then remembered
    let data: { groups: { nodes: { id: string }[] } } | undefined;
    const [page, ...others] = await statementsOf(h, async () => (data = await ws.ok('{ groups(first: 20) { nodes { id } } }')), GROUP_PAGES);
    expect(others).toEqual([]);
    const [{ first }] = await h.db.raw.query<{ first: number }>('SELECT min(id) AS first FROM groups WHERE tenant_id = $1', [ws.tenant.id]);
    expect(data!.groups.nodes.map((node) => Number(node.id))).toEqual(Array.from({ length: 20 }, (_, i) => first + i));
    expect(await removedBy(h, page)).toBeLessThan(OLDER_GROUPS / 10);
  });

  it("reads the REST list's page in one statement without throwing away the older workspace's rows", async () => {
    const api = new Rest(ws);
    expect((await api.get('/groups?offset=10&limit=20')).status).toBe(200); // the key is remembered from here on
    await h.app.settled();
    const before = h.db.statements.total;
    const statements = await statementsOf(h, () => api.get('/groups?offset=10&limit=20'), GROUP_PAGES);
    // The page and the workspace's count: the page no longer asks for the workspace's first id first.
    expect(h.db.statements.total - before).toBe(2);
    expect(statements).toHaveLength(1);
    expect(await removedBy(h, statements[0])).toBeLessThan(OLDER_GROUPS / 10);
  });
  // A clock that stands still: the key stays remembered however long the test takes.
}, { app: { clock: new ManualClock() } });

postgresOnly('the users of a workspace made after one with many', (h) => {
  const OLDER_USERS = 5_000;
  let ws: Workspace;
  let users: number[];
  beforeAll(async () => {
    await bulkUsers(h, await h.workspace(), OLDER_USERS);
    ws = await h.workspace();
    users = await bulkUsers(h, ws, 20_000);
    await h.db.raw.exec('ANALYZE users');
  }, 60_000);

  it("reads GraphQL users' first page in id order without throwing away the older workspace's users", async () => {
    await ws.ok('{ viewer { scopes } }'); // the key is looked up once, then remembered
    let data: { users: { nodes: { id: string }[] } } | undefined;
    const [page, ...others] = await statementsOf(
      h,
      async () => (data = await ws.ok('{ users(first: 20) { nodes { id } } }')),
      /FROM "public"\."users"[\s\S]*ORDER BY "public"\."users"\."id" ASC/,
    );
    expect(others).toEqual([]);
    expect(data!.users.nodes.map((node) => Number(node.id))).toEqual(users.slice(0, 20));
    expect(await removedBy(h, page)).toBeLessThan(OLDER_USERS / 10);
  });

  // A clock that stands still: the key stays remembered however long the test takes.
}, { app: { clock: new ManualClock() } });
