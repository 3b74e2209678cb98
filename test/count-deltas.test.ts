// A workspace's counts without a hot row (issue 29): the count triggers insert deltas instead of
// rewriting the workspace's row in tenants, reads add them to the folded part, and a fold (the
// keeper's round, an import) moves them into tenants in one statement. The counts stay right through
// GraphQL, REST and import writes, before and after a fold; two folds at once lose nothing. (The
// doctor's report of a count corrupted by SQL: test/doctor.test.ts.)
import { type Database, foldCountDeltas, keepingRound, openDatabase } from '../src/db';
import { fullAccessContext } from '../src/domain/context';
import { workspaceCounts } from '../src/domain/counts';
import { checkCounts } from '../src/domain/doctor';
import { createGroup } from '../src/domain/groups';
import { importWorkspace, parseWorkspaceFile } from '../src/domain/import';
import { createTenant } from '../src/domain/tenants';
import { Harness, MAX_GROUP_DEPTH, type Workspace, backends, uniqueSlug } from './support/harness';
import { Rest } from './support/rest';
import { describeOnPostgres, postgresUrl } from './support/services';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** What the counts should be: the workspace's rows, counted. */
async function counted(db: Database, tenantId: number) {
  const [row] = await db.raw.query<{ groups: number; users: number }>(
    'SELECT (SELECT count(*)::int FROM groups WHERE tenant_id = $1) AS groups, (SELECT count(*)::int FROM users WHERE tenant_id = $1) AS users',
    [tenantId],
  );
  return row;
}

async function deltaRows(db: Database, tenantId: number): Promise<number> {
  const [{ n }] = await db.raw.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_count_deltas WHERE tenant_id = $1', [tenantId]);
  return n;
}

/** The workspace's row in tenants: its folded counts, and xmin, which changes whenever the row is rewritten. */
async function tenantRow(db: Database, tenantId: number) {
  const [row] = await db.raw.query<{ xmin: string; groups: number; users: number }>(
    'SELECT xmin::text AS xmin, group_count AS groups, user_count AS users FROM tenants WHERE id = $1',
    [tenantId],
  );
  return row;
}

const importFile = parseWorkspaceFile({
  format: 'kauth-workspace',
  version: 1,
  groups: [
    { externalId: 'g-a', name: 'Imported A' },
    { externalId: 'g-b', name: 'Imported B', parent: 'g-a' },
    { externalId: 'g-c', name: 'Imported C', parent: 'g-b' },
  ],
  users: [{ externalId: 'u-a', userName: 'imported-a' }, { externalId: 'u-b', userName: 'imported-b' }],
});

describe.each(backends())('workspace counts by deltas [%s]', (backend) => {
  const h = new Harness(backend, { keepStatistics: false });
  beforeAll(() => h.start(), 120_000);
  afterAll(() => h.stop());

  /** The counts every reader gives, and the counts of rows: all must agree. */
  async function readings(ws: Workspace) {
    const totals = await ws.ok('{ groups(first: 0) { totalCount } users(first: 0) { totalCount } }');
    const rest = await new Rest(ws).get<{ meta: { total: number } }>('/groups?limit=1');
    return {
      domain: await workspaceCounts(h.db.prisma, ws.tenant.id),
      graphql: { groups: totals.groups.totalCount, users: totals.users.totalCount },
      rest: rest.body.meta.total,
    };
  }

  async function expectRightCounts(ws: Workspace) {
    const rows = await counted(h.db, ws.tenant.id);
    expect(await readings(ws)).toEqual({ domain: rows, graphql: rows, rest: rows.groups });
    expect(await checkCounts(h.db.prisma, { slug: ws.tenant.slug })).toEqual([]);
    return rows;
  }

  it('keeps the counts right through GraphQL, REST and import creations and deletions, before and after a fold', async () => {
    const ws = await h.workspace();
    const rest = new Rest(ws);
    const root = await ws.group('Root');
    const kids = [];
    for (const i of range(4)) kids.push(await ws.group(`Kid ${i}`, root));
    for (const i of range(3)) await rest.group(`Rest ${i}`, Number(root));
    for (const i of range(3)) await ws.user(`User ${i}`);
    await ws.ok(`mutation { deleteGroup(id: "${kids[0]}") }`);
    expect((await rest.delete(`/groups/${kids[1]}`)).status).toBe(204);
    await importWorkspace(ws.ctx, ws.tenant.slug, importFile);
    const users = await ws.ok('{ users(first: 1) { nodes { id } } }');
    await ws.ok(`mutation { deleteUser(id: "${users.users.nodes[0].id}") }`);

    expect(await deltaRows(h.db, ws.tenant.id)).toBeGreaterThan(0);
    const rows = await expectRightCounts(ws);
    expect(rows).toEqual({ groups: 1 + 4 + 3 - 2 + 3, users: 3 + 2 - 1 });

    expect(await foldCountDeltas(h.db.raw)).toBeGreaterThanOrEqual(1);
    expect(await deltaRows(h.db, ws.tenant.id)).toBe(0);
    expect(await tenantRow(h.db, ws.tenant.id)).toMatchObject(rows);
    expect(await expectRightCounts(ws)).toEqual(rows);

    // And again after the fold: new deltas on top of the folded counts.
    await ws.group('After the fold');
    await ws.ok(`mutation { deleteGroup(id: "${kids[2]}") }`);
    await ws.user('After the fold');
    expect(await expectRightCounts(ws)).toEqual({ groups: rows.groups, users: rows.users + 1 });
  });

  it('leaves no deltas after an import: it folds its own', async () => {
    const ws = await h.workspace();
    await importWorkspace(ws.ctx, ws.tenant.slug, importFile);
    expect(await deltaRows(h.db, ws.tenant.id)).toBe(0);
    expect(await tenantRow(h.db, ws.tenant.id)).toMatchObject({ groups: 3, users: 2 });
    await expectRightCounts(ws);
  });

  it('does not rewrite the workspace row when groups and users are created or deleted; a fold rewrites it once', async () => {
    const ws = await h.workspace();
    const before = await tenantRow(h.db, ws.tenant.id);
    const ids = [];
    for (const i of range(5)) ids.push(await ws.group(`G${i}`));
    await ws.user('Someone');
    await ws.ok(`mutation { deleteGroup(id: "${ids[0]}") }`);
    expect(await tenantRow(h.db, ws.tenant.id)).toEqual(before);
    expect(await deltaRows(h.db, ws.tenant.id)).toBe(7);
    expect((await workspaceCounts(h.db.prisma, ws.tenant.id)).groups).toBe(4);

    await foldCountDeltas(h.db.raw, ws.tenant.id);
    const folded = await tenantRow(h.db, ws.tenant.id);
    expect(folded.xmin).not.toBe(before.xmin);
    expect(folded).toMatchObject({ groups: 4, users: 1 });
  });

  it("folds in the keeper's round, also where the service does not keep the statistics", async () => {
    const ws = await h.workspace();
    for (const i of range(3)) await ws.group(`G${i}`);
    await keepingRound(h.db.session, { statistics: false });
    expect(await deltaRows(h.db, ws.tenant.id)).toBe(0);
    expect(await tenantRow(h.db, ws.tenant.id)).toMatchObject({ groups: 3 });
  });

  it("folds only the workspace it is given", async () => {
    const [ws, other] = [await h.workspace(), await h.workspace()];
    await ws.group('Mine');
    await other.group('Theirs');
    await foldCountDeltas(h.db.raw, ws.tenant.id);
    expect([await deltaRows(h.db, ws.tenant.id), await deltaRows(h.db, other.tenant.id)]).toEqual([0, 1]);
    await expectRightCounts(other);
  });

  it('deletes a workspace with groups, users and unfolded deltas', async () => {
    const ws = await h.workspace();
    await ws.group('G');
    await ws.user('U');
    await h.db.prisma.tenant.delete({ where: { id: ws.tenant.id } });
    expect(await deltaRows(h.db, ws.tenant.id)).toBe(0);
  });
});

describeOnPostgres('folding count deltas from two processes at once', () => {
  let first: Database;
  let second: Database;
  beforeAll(async () => {
    // Two handles, two pools: as two server processes sharing the database.
    first = await openDatabase({ kind: 'postgres', url: postgresUrl()! }, { keepStatistics: false });
    second = await openDatabase({ kind: 'postgres', url: postgresUrl()! }, { keepStatistics: false, migrate: false });
  }, 120_000);
  afterAll(async () => {
    await first.close();
    await second.close();
  });

  async function workspace(db: Database, prefix: string) {
    const tenant = await createTenant(db.prisma, { slug: uniqueSlug(prefix) });
    return fullAccessContext(db.prisma, tenant.id, { maxGroupDepth: MAX_GROUP_DEPTH });
  }

  it('waits for a fold in progress, then folds only what it left', async () => {
    const ctx = await workspace(first, 'fold-wait');
    for (const i of range(4)) await createGroup(ctx, { name: `G${i}`, parentId: null });
    let secondDone = false;
    const { folding } = await first.raw.transaction(async (tx) => {
      expect(await foldCountDeltas(tx, ctx.tenantId)).toBe(1);
      // Committed while the first fold holds its rows: the second fold must count it once, and only it.
      await createGroup(fullAccessContext(second.prisma, ctx.tenantId, { maxGroupDepth: MAX_GROUP_DEPTH }), { name: 'During', parentId: null });
      const started = foldCountDeltas(second.raw, ctx.tenantId).then((n) => {
        secondDone = true;
        return n;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(secondDone).toBe(false);
      return { folding: started };
    });
    expect(await folding).toBe(1);
    const [row] = await first.raw.query<{ group_count: number; deltas: number; groups: number }>(
      `SELECT group_count, (SELECT count(*)::int FROM tenant_count_deltas WHERE tenant_id = t.id) AS deltas,
              (SELECT count(*)::int FROM groups WHERE tenant_id = t.id) AS groups
       FROM tenants t WHERE id = $1`,
      [ctx.tenantId],
    );
    expect(row).toEqual({ group_count: 5, deltas: 0, groups: 5 });
  });

  it('loses nothing while two processes create groups and fold over and over', async () => {
    const spaces = [await workspace(first, 'fold-a'), await workspace(first, 'fold-b')];
    let writing = true;
    const folds = [0, 0];
    const folder = async (db: Database, n: number) => {
      while (writing) {
        await foldCountDeltas(db.raw);
        folds[n] += 1;
      }
    };
    const writer = async (db: Database, tenantId: number, prefix: string) => {
      const ctx = fullAccessContext(db.prisma, tenantId, { maxGroupDepth: MAX_GROUP_DEPTH });
      for (const i of range(15)) await createGroup(ctx, { name: `${prefix}${i}`, parentId: null });
    };
    const folding = [folder(first, 0), folder(second, 1)];
    await Promise.all([
      writer(first, spaces[0].tenantId, 'a'),
      writer(second, spaces[0].tenantId, 'b'),
      writer(first, spaces[1].tenantId, 'c'),
      writer(second, spaces[1].tenantId, 'd'),
    ]);
    writing = false;
    await Promise.all(folding);
    expect(Math.min(...folds)).toBeGreaterThan(0);
    for (const { tenantId } of spaces) expect((await workspaceCounts(first.prisma, tenantId)).groups).toBe(30);
    await foldCountDeltas(first.raw);
    const rows = await first.raw.query<{ group_count: number }>('SELECT group_count FROM tenants WHERE id = ANY($1::int[]) ORDER BY id', [spaces.map((s) => s.tenantId)]);
    expect(rows).toEqual([{ group_count: 30 }, { group_count: 30 }]);
  });
});
