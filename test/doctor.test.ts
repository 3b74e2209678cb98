// `kauth doctor`'s check: trees corrupted on purpose with raw SQL, and a group id forced below its
// workspace's id floor, are reported exactly, group by group, and a tree the domain built reports
// nothing. Each backend gets a database of its own, so the corruption never reaches the suites that
// check their trees after every test. Its statistics part: who keeps them, and the tables with more
// dead rows than autovacuum's threshold, made by updates. Its counts part: a workspace's kept counts
// (folded and deltas) against count(*) of its rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Database, foldCountDeltas, keepStatistics, openDatabase, statisticsReport } from '../src/db';
import { runCommand } from '../src/control/commands';
import { fullAccessContext } from '../src/domain/context';
import { checkCounts, checkTree } from '../src/domain/doctor';
import { NotFoundError } from '../src/domain/errors';
import { deleteGroup, updateGroup } from '../src/domain/groups';
import { createTenant } from '../src/domain/tenants';
import { MAX_GROUP_DEPTH, backends, uniqueSlug } from './support/harness';
import { databaseUrl, withAdmin } from './support/postgres';
import { waitFor } from './support/wait';
import { buildTree, numericIds } from './support/tree-fixture';

const NO_SUCH_GROUP = 2_147_483_000;

/** Opens a fresh, migrated database on `backend`; the returned function closes and removes it. */
async function privateDatabase(backend: string): Promise<[Database, () => Promise<void>]> {
  if (backend === 'pglite') {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'kauth-doctor-'));
    const db = await openDatabase({ kind: 'pglite', dataDir }, { keepStatistics: false });
    return [db, async () => {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    }];
  }
  const name = `${process.env.KAUTH_TEST_POSTGRES_DB}_doctor`;
  await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
  const db = await openDatabase({ kind: 'postgres', url: databaseUrl(name) }, { keepStatistics: false });
  return [db, async () => {
    await db.close();
    await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  }];
}

describe.each(backends())('kauth doctor [%s]', (backend) => {
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    [db, drop] = await privateDatabase(backend);
  }, 120_000);
  afterAll(() => drop());

  async function workspace(slugPrefix = 't') {
    const tenant = await createTenant(db.prisma, { slug: uniqueSlug(slugPrefix) });
    return { slug: tenant.slug, ctx: fullAccessContext(db.prisma, tenant.id, { maxGroupDepth: MAX_GROUP_DEPTH }) };
  }

  /** Runs `sql` with foreign keys unchecked (as a bad restore or a hand edit could leave the table). */
  async function corrupt(sql: string, params: unknown[]): Promise<void> {
    await db.raw.transaction(async (tx) => {
      await tx.exec('SET LOCAL session_replication_role = replica');
      await tx.query(sql, params);
    });
  }

  const setParent = (id: number, parent: number, path: number[]) =>
    corrupt('UPDATE groups SET parent_group_id = $2, path = $3::int[] WHERE id = $1', [id, parent, path]);
  const setPath = (id: number, path: number[]) => corrupt('UPDATE groups SET path = $2::int[] WHERE id = $1', [id, path]);

  it('reports nothing for a tree built, moved and pruned through the domain', async () => {
    const ws = await workspace();
    const t = numericIds(await buildTree(ws, { groups: { R: { A: { A1: { A11: {} } }, B: {} }, S: {} } }));
    await updateGroup(ws.ctx, t.A, { parentId: t.S });
    await deleteGroup(ws.ctx, t.A1);
    expect(await checkTree(db.prisma, { slug: ws.slug })).toEqual([]);
  });

  it('reports a stored path that names the wrong ancestors, expected against actual', async () => {
    const ws = await workspace();
    const t = numericIds(await buildTree(ws, { groups: { R: { A: { A1: {} } }, S: {} } }));
    await setPath(t.A1, [t.S, t.A, t.A1]);
    expect(await checkTree(db.prisma, { slug: ws.slug })).toEqual([
      { tenant: ws.slug, groupId: t.A1, parentGroupId: t.A, kind: 'path_mismatch', expected: [t.R, t.A, t.A1], actual: [t.S, t.A, t.A1] },
    ]);
  });

  it('reports a stored path of the wrong length as a path and a depth mismatch', async () => {
    const ws = await workspace();
    const t = numericIds(await buildTree(ws, { groups: { R: { A: { A1: {} } } } }));
    await setPath(t.A1, [t.A, t.A1]);
    expect(await checkTree(db.prisma, { slug: ws.slug })).toEqual([
      { tenant: ws.slug, groupId: t.A1, parentGroupId: t.A, kind: 'path_mismatch', expected: [t.R, t.A, t.A1], actual: [t.A, t.A1] },
      { tenant: ws.slug, groupId: t.A1, parentGroupId: t.A, kind: 'depth_mismatch', expected: 2, actual: 1 },
    ]);
  });

  it('reports each group of a cycle with the cycle as it meets it, and the groups below as broken', async () => {
    const ws = await workspace();
    const t = numericIds(await buildTree(ws, { groups: { X: { Z: {} }, Y: {} } }));
    await corrupt(
      `UPDATE groups SET parent_group_id = CASE id WHEN $1 THEN $2 ELSE $1 END,
                         path = CASE id WHEN $1 THEN ARRAY[$2::int, $1::int] ELSE ARRAY[$1::int, $2::int] END
       WHERE id IN ($1, $2)`,
      [t.X, t.Y],
    );
    expect(await checkTree(db.prisma, { slug: ws.slug })).toEqual([
      { tenant: ws.slug, groupId: t.X, parentGroupId: t.Y, kind: 'cycle', expected: null, actual: [t.X, t.Y] },
      { tenant: ws.slug, groupId: t.Y, parentGroupId: t.X, kind: 'cycle', expected: null, actual: [t.Y, t.X] },
      { tenant: ws.slug, groupId: t.Z, parentGroupId: t.X, kind: 'broken_ancestor', expected: null, actual: t.X },
    ]);
  });

  it("reports a parent in another workspace by both slugs, and nothing in the other workspace", async () => {
    const [ws, other] = [await workspace(), await workspace()];
    const t = numericIds(await buildTree(ws, { groups: { G: { H: {} } } }));
    const o = numericIds(await buildTree(other, { groups: { P: {} } }));
    await setParent(t.G, o.P, [o.P, t.G]);
    expect(await checkTree(db.prisma, { slug: ws.slug })).toEqual([
      { tenant: ws.slug, groupId: t.G, parentGroupId: o.P, kind: 'cross_tenant_parent', expected: ws.slug, actual: other.slug },
      { tenant: ws.slug, groupId: t.H, parentGroupId: t.G, kind: 'broken_ancestor', expected: null, actual: t.G },
    ]);
    expect(await checkTree(db.prisma, { slug: other.slug })).toEqual([]);
  });

  it('reports a parent id that names no group, and the groups below it as broken', async () => {
    const ws = await workspace();
    const t = numericIds(await buildTree(ws, { groups: { R: { G: { H: {} } } } }));
    await setParent(t.G, NO_SUCH_GROUP, [NO_SUCH_GROUP, t.G]);
    expect(await checkTree(db.prisma, { slug: ws.slug })).toEqual([
      { tenant: ws.slug, groupId: t.G, parentGroupId: NO_SUCH_GROUP, kind: 'dangling_parent', expected: null, actual: NO_SUCH_GROUP },
      { tenant: ws.slug, groupId: t.H, parentGroupId: t.G, kind: 'broken_ancestor', expected: null, actual: t.G },
    ]);
  });

  it("reports a group whose id is not above its workspace's id floor, the floor against the id, and exits 1", async () => {
    const ws = await workspace();
    const t = numericIds(await buildTree(ws, { groups: { R: { A: {} }, S: {} } }));
    const [{ floor }] = await db.raw.query<{ floor: number }>('SELECT group_id_floor AS floor FROM tenants WHERE slug = $1', [ws.slug]);
    const low = -t.S; // an id no sequence gave, below any floor
    await corrupt('UPDATE groups SET id = $2, path = ARRAY[$2::int] WHERE id = $1', [t.S, low]);
    expect(await checkTree(db.prisma, { slug: ws.slug })).toEqual([
      { tenant: ws.slug, groupId: low, parentGroupId: null, kind: 'id_below_floor', expected: floor, actual: low },
    ]);
    const io = { stdout: () => undefined, stderr: () => undefined, signal: new AbortController().signal };
    expect(await runCommand(db, ['doctor', ws.slug], io)).toBe(1);
  });

  it('checks every workspace without a slug, ordered by slug then group, and refuses an unknown slug', async () => {
    const [first, second] = [await workspace('a'), await workspace('b')];
    const a = numericIds(await buildTree(first, { groups: { R: { A: { A1: {} } } } }));
    const b = numericIds(await buildTree(second, { groups: { R: { A: { A1: {} } } } }));
    await setPath(a.A1, [b.R, a.A, a.A1]);
    await setPath(b.A1, [a.R, b.A, b.A1]);
    const findings = (await checkTree(db.prisma)).filter((f) => [first.slug, second.slug].includes(f.tenant));
    expect(findings).toEqual([
      { tenant: first.slug, groupId: a.A1, parentGroupId: a.A, kind: 'path_mismatch', expected: [a.R, a.A, a.A1], actual: [b.R, a.A, a.A1] },
      { tenant: second.slug, groupId: b.A1, parentGroupId: b.A, kind: 'path_mismatch', expected: [b.R, b.A, b.A1], actual: [a.R, b.A, b.A1] },
    ]);
    await expect(checkTree(db.prisma, { slug: 'no-such-workspace' })).rejects.toBeInstanceOf(NotFoundError);
  });

  describe('counts', () => {
    const io = () => {
      const out = { stdout: '' };
      return { out, io: { stdout: (text: string) => void (out.stdout += text), stderr: () => undefined, signal: new AbortController().signal } };
    };

    it('reports nothing for counts kept through the domain, folded or not', async () => {
      const ws = await workspace();
      const t = numericIds(await buildTree(ws, { groups: { R: { A: {}, B: {} } } }));
      await deleteGroup(ws.ctx, t.B);
      expect(await checkCounts(db.prisma, { slug: ws.slug })).toEqual([]);
      await foldCountDeltas(db.raw);
      expect(await checkCounts(db.prisma, { slug: ws.slug })).toEqual([]);
    });

    it('reports a count corrupted in the folded part or in the deltas, count(*) against the kept count, and exits 1', async () => {
      const [ws, sound] = [await workspace('counts'), await workspace('counts')];
      const { id } = (await db.prisma.tenant.findUnique({ where: { slug: ws.slug } }))!;
      await buildTree(ws, { groups: { R: { A: {}, B: {} } } });
      await buildTree(sound, { groups: { R: {} } });
      await db.raw.query('UPDATE tenants SET group_count = group_count + 2 WHERE id = $1', [id]);
      await db.raw.query('INSERT INTO tenant_count_deltas (tenant_id, users) VALUES ($1, -1)', [id]);
      const expected = [
        { tenant: ws.slug, kind: 'group_count_mismatch', expected: 3, actual: 5 },
        { tenant: ws.slug, kind: 'user_count_mismatch', expected: 0, actual: -1 },
      ];
      expect(await checkCounts(db.prisma, { slug: ws.slug })).toEqual(expected);
      expect((await checkCounts(db.prisma)).filter((f) => [ws.slug, sound.slug].includes(f.tenant))).toEqual(expected);
      await foldCountDeltas(db.raw); // the error moves into tenants; it is still one
      expect(await checkCounts(db.prisma, { slug: ws.slug })).toEqual(expected);

      const { out, io: cli } = io();
      expect(await runCommand(db, ['doctor', ws.slug], cli)).toBe(1);
      expect(JSON.parse(out.stdout)).toMatchObject({ findings: [], counts: expected });
      const clean = io();
      expect(await runCommand(db, ['doctor', sound.slug], clean.io)).toBe(0);
      expect(JSON.parse(clean.out.stdout)).toMatchObject({ findings: [], counts: [] });
    });
  });

  describe('statistics', () => {
    /** A workspace of `count` users, each then renamed once: `count` dead rows in users. */
    async function deadUsers(count: number): Promise<void> {
      const tenant = await createTenant(db.prisma, { slug: uniqueSlug('dead') });
      await db.raw.query(`INSERT INTO users (tenant_id, user_name) SELECT $1, 'u' || i FROM generate_series(1, $2::int) AS i`, [tenant.id, count]);
      await db.raw.query(`UPDATE users SET user_name = user_name || '-renamed' WHERE tenant_id = $1`, [tenant.id]);
    }
    const usersReported = async () => (await statisticsReport(db.raw, db.statistics)).deadRows.find((row) => row.table === 'public.users');

    it('says who keeps them, and reports a table whose dead rows pass 50 + 20% of its live rows, with the numbers', async () => {
      await keepStatistics(db.session);
      await db.raw.exec('TRUNCATE users CASCADE');
      await deadUsers(40); // 40 dead rows: below 50 + 20% of 40
      const report = await statisticsReport(db.raw, db.statistics);
      expect(report).toMatchObject({ keptBy: db.statistics.keeper, reason: db.statistics.reason });
      expect(report.deadRows.map((row) => row.table)).not.toContain('public.users');

      await deadUsers(1000); // 1,040 live, 1,040 dead: past 50 + 208
      const row = await waitFor('the counts of 1,000 renames', async () => {
        const reported = await usersReported();
        return reported?.live === 1040 && reported.dead === 1040 && reported;
      });
      expect(row).toMatchObject({ table: 'public.users', live: 1040, dead: 1040, threshold: 258 });
    });

    it('prints them under statistics with a sound tree and still exits 0: dead rows are not a fault of the tree', async () => {
      await waitFor('the dead rows', usersReported);
      let stdout = '';
      const io = { stdout: (text: string) => void (stdout += text), stderr: () => undefined, signal: new AbortController().signal };
      expect(await runCommand(db, ['doctor', (await workspace()).slug], io)).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({
        findings: [],
        statistics: { keptBy: db.statistics.keeper, deadRows: expect.arrayContaining([expect.objectContaining({ table: 'public.users' })]) },
      });
    });

    it('reports it no more once it is vacuumed', async () => {
      await waitFor('the dead rows', usersReported);
      expect((await keepStatistics(db.session)).vacuumed).toContain('public.users');
      expect(await usersReported()).toBeUndefined();
    });
  });

  // After the statistics part, which counts the users table's rows exactly.
  describe('user id floor', () => {
    it("reports a user whose id is not above its workspace's user id floor, the floor against the id", async () => {
      const ws = await workspace('userfloor');
      const { id, userIdFloor } = (await db.prisma.tenant.findUnique({ where: { slug: ws.slug } }))!;
      const [{ user }] = await db.raw.query<{ user: number }>("INSERT INTO users (tenant_id, user_name) VALUES ($1, 'low') RETURNING id AS user", [id]);
      expect(await checkCounts(db.prisma, { slug: ws.slug })).toEqual([]);
      const low = -user; // an id no sequence gave, below any floor
      await db.raw.query('UPDATE users SET id = $2 WHERE id = $1', [user, low]);
      expect(await checkCounts(db.prisma, { slug: ws.slug })).toEqual([{ tenant: ws.slug, kind: 'user_id_below_floor', expected: userIdFloor, actual: low }]);
    });
  });
});
