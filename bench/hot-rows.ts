// Benchmark: what each group creation rewrites besides its own row (issue 29's hot rows). The
// kept counts (prisma/migrations/20261201000000_scale) add one to every ancestor's subtree_size and
// the parent's child_count in groups, in the creating transaction; the workspace's count is a row
// inserted in tenant_count_deltas (20261207000000_count_deltas), folded into tenants.group_count later. Creates CREATIONS (1200) groups through the domain (createGroup, as every transport
// does) under random parents, depth at most DEPTH, with 1 writer, then 4 writers on one workspace,
// then 4 writers each on a workspace of its own, and reports for each: creations/s, and the rows
// updated (n_tup_upd, of which HOT) and left dead (n_dead_tup) in tenants and groups per creation,
// the rows inserted in tenant_count_deltas per creation, and what folding them then takes.
// The service's statistics keeper is off during a run, so dead rows are what a run leaves; then
// what one round of the keeper (VACUUM, ANALYZE) does, and a list before/after.
// Each configuration runs with the tables' fillfactor at each of FILLFACTORS (default 100, the
// default, then 80), set on the scratch database with VACUUM FULL before the run. Last, what reading
// the workspace count costs in a 100,000-group workspace: the folded count alone, folded + deltas
// (what the service reads) with a few hundred unfolded deltas and after a fold, and counting when read.
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/kauth_bench_hot npm run bench:hot-rows
import { Client } from 'pg';
import { databaseConfig, treeLimits } from '../src/config';
import { type Database, foldCountDeltas, keepStatistics, openDatabase } from '../src/db';
import { fullAccessContext } from '../src/domain/context';
import { createGroup } from '../src/domain/groups';
import { listGroups } from '../src/domain/reads/groups';
import { createTenant } from '../src/domain/tenants';
import { ensureDatabase } from './seed';
import { runBench } from './support';

const URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/kauth_bench_hot';
const GROUPS = Number(process.env.CREATIONS ?? 1200); // not GROUPS: bash keeps that name for itself
const DEPTH = Number(process.env.DEPTH ?? 5);
/** Each run's groups and tenants fillfactor: room left in each page lets a rewrite stay on its page (HOT). */
const FILLFACTORS = (process.env.FILLFACTORS ?? '100,80').split(',').map(Number);

interface TableCounts {
  ins: number;
  upd: number;
  hot: number;
  dead: number;
}

/** The admin client as the fold's RawSql. */
const rawOf = (admin: Client) => ({ query: async <T>(sql: string, params?: unknown[]) => (await admin.query(sql, params)).rows as T[] });

type Table = 'tenants' | 'groups' | 'tenant_count_deltas';

/** pg_stat_user_tables for tenants, groups and the deltas, as the server has them (the pool's sessions have ended). */
async function counts(admin: Client): Promise<Record<Table, TableCounts>> {
  await admin.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await admin.query<TableCounts & { name: Table }>(
    `SELECT relname AS name, n_tup_ins::float8 AS ins, n_tup_upd::float8 AS upd, n_tup_hot_upd::float8 AS hot, n_dead_tup::float8 AS dead
     FROM pg_stat_user_tables WHERE relname IN ('tenants', 'groups', 'tenant_count_deltas')`,
  );
  return Object.fromEntries(rows.map(({ name, ...row }) => [name, row])) as Record<Table, TableCounts>;
}

/** One writer: creates `count` groups in `ctx`'s workspace, each under a random group of depth < DEPTH (or a root). */
async function writer(db: Database, tenantId: number, count: number, made: { id: number; depth: number }[]): Promise<void> {
  const ctx = fullAccessContext(db.prisma, tenantId, treeLimits());
  for (let i = 0; i < count; i += 1) {
    const parents = made.filter((g) => g.depth < DEPTH - 1);
    const parent = made.length < 5 ? null : parents[Math.floor(Math.random() * parents.length)];
    const group = await createGroup(ctx, { name: `g${made.length}-${Math.random().toString(36).slice(2, 8)}`, parentId: parent?.id ?? null });
    made.push({ id: group.id, depth: (parent?.depth ?? -1) + 1 });
  }
}

async function run(admin: Client, label: string, writers: number, workspaces: number, fillfactor: number): Promise<void> {
  await admin.query(`ALTER TABLE groups SET (fillfactor = ${fillfactor}); ALTER TABLE tenants SET (fillfactor = ${fillfactor})`);
  await admin.query('VACUUM FULL groups, tenants, tenant_count_deltas');
  // The numbers are this run's, from an analyzed, vacuumed start.
  await admin.query('VACUUM ANALYZE');
  const before = await counts(admin);
  const db = await openDatabase(databaseConfig({ DATABASE_URL: URL }), { keepStatistics: false });
  const tenants: { id: number }[] = [];
  for (let w = 0; w < workspaces; w += 1) tenants.push(await createTenant(db.prisma, { slug: `hot-${Date.now().toString(36)}-${w}` }));
  const trees = tenants.map(() => [] as { id: number; depth: number }[]);
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(db, tenants[w % workspaces].id, GROUPS / writers, trees[w % workspaces])));
  const seconds = (performance.now() - started) / 1000;
  await db.close(); // the pool's sessions report their counts as they end
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const after = await counts(admin);
  const per = (table: Table, key: keyof TableCounts) => ((after[table][key] - before[table][key]) / GROUPS).toFixed(2);
  // What the keeper's next round would do first: fold the run's deltas, one UPDATE per workspace.
  const folding = performance.now();
  const folded = await foldCountDeltas(rawOf(admin));
  const foldMs = performance.now() - folding;
  console.log(
    `${`${label}, fillfactor ${fillfactor}`.padEnd(40)} ${(GROUPS / seconds).toFixed(0).padStart(5)} creations/s` +
      ` | tenants: ${per('tenants', 'upd')} updated (${per('tenants', 'hot')} HOT), ${per('tenants', 'dead')} dead` +
      ` | groups: ${per('groups', 'upd')} updated (${per('groups', 'hot')} HOT), ${per('groups', 'dead')} dead` +
      ` | deltas: ${per('tenant_count_deltas', 'ins')} inserted  (per creation)` +
      ` | fold: ${folded} workspace(s) in ${foldMs.toFixed(1)} ms`,
  );
}

/** A REST list of the biggest workspace's groups, timed (median of 20), before and after one keeper round. */
async function listBeforeAndAfterKeeping(admin: Client): Promise<void> {
  const db = await openDatabase(databaseConfig({ DATABASE_URL: URL }), { keepStatistics: false });
  const [{ id: tenantId }] = await db.raw.query<{ id: number }>('SELECT tenant_id AS id FROM groups GROUP BY 1 ORDER BY count(*) DESC LIMIT 1');
  const ctx = fullAccessContext(db.prisma, tenantId, treeLimits());
  const time = async () => {
    const ms: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const t = performance.now();
      await listGroups(ctx, { offset: 0, limit: 50 });
      ms.push(performance.now() - t);
    }
    return ms.sort((a, b) => a - b)[10].toFixed(1);
  };
  const dead = await counts(admin);
  const before = await time();
  const round = await keepStatistics(db.session);
  const after = await time();
  console.log(
    `keeper round: vacuumed ${round.vacuumed.join(', ') || 'nothing'}; analyzed ${round.analyzed.join(', ') || 'nothing'}` +
      ` (dead rows before: tenants ${dead.tenants.dead}, groups ${dead.groups.dead}, tenant_count_deltas ${dead.tenant_count_deltas.dead}); REST list of 50 groups (median): ${before} ms before, ${after} ms after`,
  );
  await db.close();
}

/** The median ms of 20 runs of `sql`. */
async function medianMs(admin: Client, sql: string, params: unknown[]): Promise<string> {
  const ms: number[] = [];
  for (let i = 0; i < 20; i += 1) {
    const t = performance.now();
    await admin.query(sql, params);
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b)[10].toFixed(2);
}

/** What the service reads for a workspace's counts (src/domain/counts.ts, workspaceCounts). */
const COUNTS_READ = `
  SELECT t.group_count + coalesce(sum(d.groups), 0)::int AS groups, t.user_count + coalesce(sum(d.users), 0)::int AS users
  FROM tenants t LEFT JOIN tenant_count_deltas d ON d.tenant_id = t.id WHERE t.id = $1 GROUP BY t.id`;

/**
 * Reading the workspace count, on a workspace of COUNTED groups made by one INSERT: the folded
 * count alone (what the service read before the deltas), folded + deltas with UNFOLDED deltas (one
 * INSERT of a group each) and after a fold; and counting the workspace's groups when read (what
 * `totalCount` and REST `meta.total` would cost without kept counts), before VACUUM (the visibility
 * map unset: the index-only scan visits the heap) and after.
 */
async function countAtRead(admin: Client): Promise<void> {
  const size = Number(process.env.COUNTED ?? 100_000);
  const { rows: [{ id }] } = await admin.query<{ id: number }>(`INSERT INTO tenants (slug, name) VALUES ($1, 'count at read') RETURNING id`, [`count-${Date.now().toString(36)}`]);
  await admin.query(
    `INSERT INTO groups (id, tenant_id, name, path)
     SELECT n, $1, 'c' || n, ARRAY[n] FROM (SELECT nextval(pg_get_serial_sequence('groups', 'id'))::int AS n FROM generate_series(1, $2::int)) s`,
    [id, size],
  );
  await foldCountDeltas(rawOf(admin), id);
  const unfolded = Number(process.env.UNFOLDED ?? 300);
  for (let i = 0; i < unfolded; i += 1) {
    await admin.query(
      `INSERT INTO groups (id, tenant_id, name, path)
       SELECT n, $1, 'd' || n, ARRAY[n] FROM (SELECT nextval(pg_get_serial_sequence('groups', 'id'))::int AS n) s`,
      [id],
    );
  }
  await admin.query('ANALYZE groups, tenant_count_deltas');
  const kept = await medianMs(admin, 'SELECT group_count FROM tenants WHERE id = $1', [id]);
  const withDeltas = await medianMs(admin, COUNTS_READ, [id]);
  await foldCountDeltas(rawOf(admin), id);
  const folded = await medianMs(admin, COUNTS_READ, [id]);
  console.log(
    `workspace count read: folded count alone ${kept} ms; folded + deltas ${withDeltas} ms with ${unfolded} unfolded deltas, ${folded} ms after a fold (medians of 20)`,
  );
  const counted = await medianMs(admin, 'SELECT count(*) FROM groups WHERE tenant_id = $1', [id]);
  await admin.query('VACUUM groups');
  const countedVacuumed = await medianMs(admin, 'SELECT count(*) FROM groups WHERE tenant_id = $1', [id]);
  console.log(`workspace of ${size + unfolded} groups: counted at read in ${counted} ms before VACUUM, ${countedVacuumed} ms after (medians of 20)`);
  await admin.query('DELETE FROM tenants WHERE id = $1', [id]);
}

runBench(async () => {
  await ensureDatabase(URL);
  const admin = new Client({ connectionString: URL });
  await admin.connect();
  try {
    const [{ autovacuum }] = (await admin.query<{ autovacuum: string }>('SHOW autovacuum')).rows;
    console.log(`${GROUPS} creations per run, depth ≤ ${DEPTH}, autovacuum ${autovacuum}`);
    await (await openDatabase(databaseConfig({ DATABASE_URL: URL }), { keepStatistics: false })).close(); // migrated
    for (const fillfactor of FILLFACTORS) {
      await run(admin, '1 writer, 1 workspace', 1, 1, fillfactor);
      await run(admin, '4 writers, 1 workspace', 4, 1, fillfactor);
      await run(admin, '4 writers, 4 workspaces', 4, 4, fillfactor);
    }
    await listBeforeAndAfterKeeping(admin);
    await countAtRead(admin);
  } finally {
    await admin.end();
  }
});
