// Who keeps table statistics (src/db/statistics.ts), and the service's keeping them where the
// database does not (src/db/analyze.ts): on a PostgreSQL database of its own, with autovacuum
// off as on these machines' server, or with a table's autovacuum_enabled = false.
import { Client } from 'pg';
import {
  type AutovacuumSettings, type Database, STATISTICS_LOCK, keepStatistics, openDatabase, readAutovacuumSettings, statisticsLine,
  statisticsPlan,
} from '../src/db';
import { fullAccessContext } from '../src/domain/context';
import { importWorkspace, readImportFile } from '../src/domain/import';
import { createTenant } from '../src/domain/tenants';
import { uniqueSlug } from './support/harness';
import { databaseUrl, withAdmin } from './support/postgres';
import { describeOnPostgres } from './support/services';
import { waitFor } from './support/wait';

const ON: AutovacuumSettings = { autovacuum: true, trackCounts: true, tablesOff: [] };

describe('who keeps table statistics', () => {
  it('is the database where autovacuum is on and no table of ours turns it off', () => {
    const plan = statisticsPlan('postgres', ON);
    expect(plan).toEqual({ keeper: 'database', reason: 'autovacuum is on', only: [] });
    expect(statisticsLine(plan)).toBe('statistics: database autovacuum');
  });

  it('is the service, for every table, where autovacuum is off or the database is the embedded one', () => {
    const off = statisticsPlan('postgres', { ...ON, autovacuum: false });
    expect(off).toEqual({ keeper: 'service', reason: 'autovacuum is off', only: null });
    expect(statisticsLine(off)).toBe('statistics: kept by the service (autovacuum is off)');
    expect(statisticsPlan('pglite', null)).toMatchObject({ keeper: 'service', only: null });
  });

  it('is the service, for those tables only, where tables of ours have autovacuum_enabled = false', () => {
    expect(statisticsPlan('postgres', { ...ON, tablesOff: ['public.groups'] })).toEqual({
      keeper: 'service',
      reason: 'autovacuum_enabled = false on public.groups',
      only: ['public.groups'],
    });
  });

  it('is nobody where track_counts is off: no one can tell which tables changed', () => {
    const plan = statisticsPlan('postgres', { ...ON, autovacuum: false, trackCounts: false });
    expect(plan).toMatchObject({ keeper: 'nobody', only: [] });
    expect(statisticsLine(plan)).toMatch(/^statistics: kept by nobody \(track_counts is off/);
  });
});

describeOnPostgres('keeping statistics on PostgreSQL [postgres]', () => {
  const name = `${process.env.KAUTH_TEST_POSTGRES_DB}_stats`;
  let db: Database;
  let writer: Client;
  beforeAll(async () => {
    await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
    db = await openDatabase({ kind: 'postgres', url: databaseUrl(name) }, { keepStatistics: false });
    writer = new Client({ connectionString: databaseUrl(name) });
    await writer.connect();
  }, 120_000);
  afterAll(async () => {
    await writer?.end();
    await db?.close();
    await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  });

  // Each test counts from an empty users table: the threshold grows with the live rows.
  beforeEach(() => write('TRUNCATE users CASCADE'));

  interface TableStats {
    live: number;
    dead: number;
    analyzedAt: Date | null;
    vacuumedAt: Date | null;
  }
  const statsOf = async (table: string): Promise<TableStats> =>
    (await db.raw.query<TableStats>(
      `SELECT n_live_tup::float8 AS live, n_dead_tup::float8 AS dead, last_analyze AS "analyzedAt", last_vacuum AS "vacuumedAt"
       FROM pg_stat_user_tables WHERE relname = $1`,
      [table],
    ))[0];

  /** Runs `sql` on a connection of its own and makes its counts reach pg_stat_user_tables at once. */
  async function write(sql: string, params: unknown[] = []): Promise<void> {
    await writer.query(sql, params);
    await writer.query('SELECT pg_stat_force_next_flush()');
  }

  /** A workspace with `count` users, each then renamed once: `count` dead rows in users. */
  async function deadUsers(count: number): Promise<void> {
    const tenant = await createTenant(db.prisma, { slug: uniqueSlug('stats') });
    await write(`INSERT INTO users (tenant_id, user_name) SELECT $1, 'u' || i FROM generate_series(1, $2::int) AS i`, [tenant.id, count]);
    await write(`UPDATE users SET user_name = user_name || '-renamed' WHERE tenant_id = $1`, [tenant.id]);
  }

  it('reads the server settings, and a table whose autovacuum_enabled is false whatever its spelling', async () => {
    const [{ autovacuum }] = await db.raw.query<{ autovacuum: string }>('SHOW autovacuum');
    expect(await readAutovacuumSettings(db.raw)).toEqual({ autovacuum: autovacuum === 'on', trackCounts: true, tablesOff: [] });
    await db.raw.exec('ALTER TABLE groups SET (autovacuum_enabled = off); ALTER TABLE users SET (autovacuum_enabled = false, fillfactor = 90)');
    try {
      const settings = await readAutovacuumSettings(db.raw);
      expect(settings.tablesOff).toEqual(['public.groups', 'public.users']);
      expect(statisticsPlan('postgres', { ...settings, autovacuum: true })).toMatchObject({ keeper: 'service', only: ['public.groups', 'public.users'] });
    } finally {
      await db.raw.exec('ALTER TABLE groups RESET (autovacuum_enabled); ALTER TABLE users RESET (autovacuum_enabled, fillfactor)');
    }
    expect((await readAutovacuumSettings(db.raw)).tablesOff).toEqual([]);
  });

  it('vacuums a table whose dead rows pass 50 + 20% of its live rows, and analyzes it, then leaves it alone', async () => {
    await keepStatistics(db.session); // whatever the migrations left
    await deadUsers(30); // 30 dead rows: below the threshold
    await waitFor('the counts of 30 renames', async () => (await statsOf('users')).dead >= 30);
    expect((await keepStatistics(db.session)).vacuumed).not.toContain('public.users');

    await deadUsers(2000);
    await waitFor('the counts of 2,000 renames', async () => (await statsOf('users')).dead >= 2000);
    const round = await keepStatistics(db.session);
    expect(round).toMatchObject({ skipped: false, vacuumed: expect.arrayContaining(['public.users']), analyzed: expect.arrayContaining(['public.users']) });
    const after = await waitFor('the vacuum to reach the counts', async () => {
      const stats = await statsOf('users');
      return stats.dead < 50 && stats;
    });
    expect(after.vacuumedAt).toBeInstanceOf(Date);
    expect(after.analyzedAt).toBeInstanceOf(Date);
    expect(await keepStatistics(db.session)).toEqual({ skipped: false, vacuumed: [], analyzed: [] });
  });

  it('vacuums a table that only grew, past 1,000 + 20% of its live rows inserted since its last VACUUM, so its pages become all-visible', async () => {
    await keepStatistics(db.session); // whatever the migrations left
    const tenant = await createTenant(db.prisma, { slug: uniqueSlug('grown') });
    const insertUsers = (from: number, to: number) =>
      write(`INSERT INTO users (tenant_id, user_name) SELECT $1, 'g' || i FROM generate_series($2::int, $3::int) AS i`, [tenant.id, from, to]);
    await insertUsers(1, 800); // under 1,000: left alone
    await waitFor('the counts of 800 inserts', async () => (await statsOf('users')).live >= 800);
    expect((await keepStatistics(db.session)).vacuumed).not.toContain('public.users');
    await insertUsers(801, 3000);
    await waitFor('the counts of 3,000 inserts', async () => (await statsOf('users')).live >= 3000);
    expect((await statsOf('users')).dead).toBe(0);
    expect((await keepStatistics(db.session)).vacuumed).toContain('public.users');
    const [{ visible, pages }] = await db.raw.query<{ visible: number; pages: number }>(
      "SELECT relallvisible::int AS visible, relpages::int AS pages FROM pg_class WHERE relname = 'users'",
    );
    expect(pages).toBeGreaterThan(0);
    expect(visible).toBe(pages);
  });

  it('keeps only the tables it is given (those whose own autovacuum is off)', async () => {
    await deadUsers(1000);
    await waitFor('the counts of 1,000 renames', async () => (await statsOf('users')).dead >= 1000);
    expect(await keepStatistics(db.session, ['public.groups'])).toEqual({ skipped: false, vacuumed: [], analyzed: [] });
    expect((await keepStatistics(db.session, ['public.users'])).vacuumed).toEqual(['public.users']);
  });

  it('does nothing while another process keeps them (the advisory lock), and its turn comes once that one is done', async () => {
    await deadUsers(1000);
    await waitFor('the counts of 1,000 renames', async () => (await statsOf('users')).dead >= 1000);
    const other = new Client({ connectionString: databaseUrl(name) });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1, $2)', [...STATISTICS_LOCK]);
      expect(await keepStatistics(db.session)).toEqual({ skipped: true, vacuumed: [], analyzed: [] });
      expect((await statsOf('users')).dead).toBeGreaterThanOrEqual(1000);
      await other.query('SELECT pg_advisory_unlock($1, $2)', [...STATISTICS_LOCK]);
    } finally {
      await other.end();
    }
    expect((await keepStatistics(db.session)).vacuumed).toContain('public.users');
  });

  it('runs one round at a time when two processes try at once, and releases the lock after each', async () => {
    await deadUsers(1000);
    await waitFor('the counts of 1,000 renames', async () => (await statsOf('users')).dead >= 1000);
    const rounds = await Promise.all([keepStatistics(db.session), keepStatistics(db.session)]);
    // The second either found the lock taken or came after the first had vacuumed: never both vacuumed.
    expect(rounds.filter((round) => round.vacuumed.includes('public.users'))).toHaveLength(1);
    const [{ held }] = await db.raw.query<{ held: number }>(
      "SELECT count(*)::int AS held FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2",
      [...STATISTICS_LOCK],
    );
    expect(held).toBe(0);
  });

  it('closes without waiting for a round held up behind a lock: its connection is ended', async () => {
    await deadUsers(1000);
    await waitFor('the counts of 1,000 renames', async () => (await statsOf('users')).dead >= 1000);
    const other = await openDatabase({ kind: 'postgres', url: databaseUrl(name) }, { keepStatistics: false });
    const blocker = new Client({ connectionString: databaseUrl(name) });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE users IN SHARE UPDATE EXCLUSIVE MODE'); // what VACUUM takes
      const round = keepStatistics(other.session);
      await waitFor('the VACUUM to wait for the lock', async () =>
        (await db.raw.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'kauth statistics' AND wait_event_type = 'Lock'")).length > 0);
      await other.close();
      await expect(round).rejects.toThrow();
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
  });

  it('brings the tables an import wrote in bulk up to date before the import returns; a small import waits for the round', async () => {
    const analyzedAt = async (table: string) => (await statsOf(table)).analyzedAt?.getTime() ?? 0;
    const tenant = await createTenant(db.prisma, { slug: uniqueSlug('bulk') });
    const ctx = fullAccessContext(db.prisma, tenant.id, { maxGroupDepth: 10 });
    const file = (groups: number, prefix: string) =>
      readImportFile(JSON.stringify({
        format: 'kauth-workspace',
        version: 1,
        groups: Array.from({ length: groups }, (_, i) => ({ externalId: `${prefix}${i}`, name: `${prefix} ${i}`, parent: i < 10 ? null : `${prefix}${i % 10}` })),
        users: [{ externalId: `${prefix}-u`, userName: `${prefix}-u` }],
      }), 'kauth').file;
    const before = { groups: await analyzedAt('groups'), users: await analyzedAt('users') };
    await importWorkspace(ctx, tenant.slug, file(20, 'small'));
    expect(await analyzedAt('groups')).toBe(before.groups);

    await importWorkspace(ctx, tenant.slug, file(600, 'bulk'));
    const groups = await statsOf('groups');
    expect(groups.analyzedAt!.getTime()).toBeGreaterThan(before.groups);
    // The kept counts rewrote the rows inserted: vacuumed too, the service keeping statistics here.
    if (db.statistics.keeper === 'service') expect(groups.vacuumedAt).toBeInstanceOf(Date);
    const [{ reltuples }] = await db.raw.query<{ reltuples: number }>("SELECT reltuples::float8 AS reltuples FROM pg_class WHERE relname = 'groups'");
    expect(reltuples).toBeGreaterThanOrEqual(620);
    // One user: not a bulk write of users.
    expect(await analyzedAt('users')).toBe(before.users);

    // 600 users with a membership each: inserted only, vacuumed all the same where the service keeps
    // statistics, so that index-only scans of them need not read the table.
    await importWorkspace(ctx, tenant.slug, readImportFile(JSON.stringify({
      format: 'kauth-workspace',
      version: 1,
      users: Array.from({ length: 600 }, (_, i) => ({ externalId: `m${i}`, userName: `m${i}` })),
      memberships: Array.from({ length: 600 }, (_, i) => ({ group: `bulk${i}`, user: `m${i}` })),
    }), 'kauth').file);
    for (const table of ['users', 'group_members']) {
      const stats = await statsOf(table);
      expect({ table, analyzed: stats.analyzedAt !== null }).toEqual({ table, analyzed: true });
      if (db.statistics.keeper === 'service') expect({ table, vacuumed: stats.vacuumedAt !== null }).toEqual({ table, vacuumed: true });
    }
  });
});

