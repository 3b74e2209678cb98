// The service's stand-in for autovacuum, where the database has none at work (src/db/statistics.ts
// decides): PGlite never has one, and a PostgreSQL may run with it off. Without it, table
// statistics stay as they were when the tables were small, and so do the plans PostgreSQL keeps
// for a session (the embedded database has one, for the server's whole life), foreign-key checks
// among them: adding 10,000 members to a group took 16 s instead of 0.5 s once the users had
// arrived after the first memberships. Dead rows pile up too: kept counts rewrite rows on every
// write, and a list read 9.1 ms before VACUUM ANALYZE, 3.1 ms after. These are autovacuum's own
// rules with its default settings: a table changed by more than 50 rows + 10% since its last
// ANALYZE is analyzed; one with more than 50 + 20% of its live rows dead, or with more than
// 1,000 + 20% rows inserted since its last VACUUM, is vacuumed (plain VACUUM: no exclusive lock,
// reads and writes go on). The second is autovacuum's rule for tables that only grow (memberships,
// users, the audit trail): until VACUUM marks their pages all-visible, an index-only scan of them
// reads the table too (a sampled user's memberships at 1,000,000 groups: 410 heap fetches).
import { foldCountDeltas } from './count-deltas';
import type { RawSql } from './raw';

/** How often the service looks for tables to analyze and vacuum (autovacuum's default naptime). */
export const ANALYZE_EVERY_MS = 60_000;

/** Only one process of those sharing a database keeps its statistics at a time (pg_try_advisory_lock). */
export const STATISTICS_LOCK: readonly [number, number] = [7_263_002, 0];

/** Tables of the service's schema, `schema.table`; null: all of them. */
export type TableNames = readonly string[] | null;

/** The dead rows past which autovacuum (and the service) vacuums a table: 50 + 20% of its live rows. */
export const DEAD_ROWS_RULE = '50 + 0.2 * n_live_tup';
const CHANGED_ROWS_RULE = '50 + 0.1 * n_live_tup';
/** autovacuum_vacuum_insert_threshold + autovacuum_vacuum_insert_scale_factor (PostgreSQL 13 and later). */
const INSERTED_ROWS_RULE = '1000 + 0.2 * n_live_tup';

/**
 * Runs `fn` on one connection of its own, outside any transaction (VACUUM refuses to run in one),
 * without the pool's statement timeout (a VACUUM of a big table takes longer).
 */
export type Session = <T>(fn: (conn: RawSql) => Promise<T>) => Promise<T>;

async function tablesPast(raw: RawSql, rule: string, column: string, only: TableNames): Promise<string[]> {
  const rows = await raw.query<{ name: string }>(
    `SELECT format('%I.%I', schemaname, relname) AS name FROM pg_stat_user_tables
     WHERE schemaname = current_schema() AND ${column} > ${rule}
       AND ($1::text[] IS NULL OR format('%I.%I', schemaname, relname) = ANY($1::text[]))
     ORDER BY relname`,
    [only],
  );
  return rows.map(({ name }) => name);
}

/** Analyzes each table (of `only`, or all) changed past autovacuum's threshold; returns their names. */
export async function analyzeStaleTables(raw: RawSql, only: TableNames = null): Promise<string[]> {
  // This session's counts reach pg_stat_user_tables once it is idle; the flush is asked for first
  // (the embedded database's one session did the writes). PostgreSQL before 15 has no such function.
  await raw.query('SELECT pg_stat_force_next_flush()').catch(() => undefined);
  const stale = await tablesPast(raw, CHANGED_ROWS_RULE, 'n_mod_since_analyze', only);
  for (const name of stale) await raw.exec(`ANALYZE ${name}`);
  return stale;
}

/**
 * Vacuums (plain VACUUM) each table (of `only`, or all) whose dead rows, or rows inserted since its
 * last VACUUM, are past autovacuum's thresholds.
 */
export async function vacuumDeadTables(raw: RawSql, only: TableNames = null): Promise<string[]> {
  const dead = await tablesPast(raw, DEAD_ROWS_RULE, 'n_dead_tup', only);
  const grown = await tablesPast(raw, INSERTED_ROWS_RULE, 'n_ins_since_vacuum', only);
  const names = [...new Set([...dead, ...grown])].sort();
  for (const name of names) await raw.exec(`VACUUM ${name}`);
  return names;
}

/** What one round did; `skipped`: another process held the lock, so this one did nothing. */
export interface KeepingRound {
  skipped: boolean;
  vacuumed: string[];
  analyzed: string[];
}

/** One round: vacuums, then analyzes, under the lock that keeps other processes' rounds out. */
export async function keepStatistics(session: Session, only: TableNames = null): Promise<KeepingRound> {
  return session(async (conn) => {
    const [{ locked }] = await conn.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [...STATISTICS_LOCK]);
    if (!locked) return { skipped: true, vacuumed: [], analyzed: [] };
    try {
      const vacuumed = await vacuumDeadTables(conn, only);
      const analyzed = await analyzeStaleTables(conn, only);
      return { skipped: false, vacuumed, analyzed };
    } finally {
      await conn.query('SELECT pg_advisory_unlock($1, $2)', [...STATISTICS_LOCK]);
    }
  });
}

/**
 * One round of the background keeper: folds the workspaces' count deltas (in every process, whoever
 * keeps the statistics: nothing else folds them), then, where the service keeps statistics
 * (`statistics`), one keepStatistics round, so a VACUUM that follows sees the deltas' dead rows.
 */
export async function keepingRound(session: Session, options: { statistics: boolean; only?: TableNames }): Promise<void> {
  await session((conn) => foldCountDeltas(conn));
  if (options.statistics) await keepStatistics(session, options.only ?? null);
}

/** Runs keepingRound every `everyMs` until stopped; the returned function waits for a round in progress. */
export function keepInBackground(
  session: Session,
  options: { statistics: boolean; only?: TableNames; everyMs?: number },
): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    // A failed round (the database closing, say) changes nothing; the next one tries again.
    running = keepingRound(session, options).catch(() => undefined);
  }, options.everyMs ?? ANALYZE_EVERY_MS).unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** A table a bulk write (an import) changed, and whether the service vacuums it (it keeps that table's statistics). */
export interface BulkWrittenTable {
  name: string;
  vacuum: boolean;
}

/**
 * Brings the statistics of tables a bulk write just changed up to date at once, instead of after
 * the next round (up to ANALYZE_EVERY_MS later, or autovacuum's naptime): until then PostgreSQL
 * plans the tables as they were (a workspace imported into an empty database is planned as empty,
 * and a group looked up by id scans the workspace: 48 ms instead of 1 at 100,000 groups,
 * `npm run bench:write-profile`). Each table is analyzed; where the service keeps statistics, it is
 * vacuumed first: of the dead rows the kept counts leave (they rewrite rows as they are inserted),
 * and so that index-only scans of the rows just inserted need not read the table (autovacuum's
 * insert rule, above).
 * Run after the write commits, outside any transaction. The bulk write's own counts may not have
 * reached pg_stat_user_tables yet (another connection made them), so thresholds are not consulted.
 */
export async function settleAfterBulkWrite(session: Session, keeper: 'database' | 'service' | 'nobody', tables: readonly BulkWrittenTable[]): Promise<void> {
  if (tables.length === 0) return;
  await session(async (conn) => {
    for (const table of tables) {
      if (keeper === 'service' && table.vacuum) await conn.exec(`VACUUM ${table.name}`);
      await conn.exec(`ANALYZE ${table.name}`);
    }
  });
}
