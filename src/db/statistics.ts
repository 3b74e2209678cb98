// Who keeps the tables' statistics fresh and their dead rows vacuumed: the database's autovacuum,
// or the service (src/db/analyze.ts). Decided once at start from the database's settings: the
// service does not count on the operator's autovacuum for its plans.
import { DEAD_ROWS_RULE, type TableNames } from './analyze';
import type { RawSql } from './raw';

/** `nobody`: track_counts is off, so neither autovacuum nor the service can tell which tables changed. */
export type StatisticsKeeper = 'database' | 'service' | 'nobody';

export interface AutovacuumSettings {
  autovacuum: boolean;
  trackCounts: boolean;
  /** The service's tables with the reloption autovacuum_enabled = false, `schema.table`. */
  tablesOff: string[];
}

export interface StatisticsPlan {
  keeper: StatisticsKeeper;
  reason: string;
  /** The tables the service keeps (null: all of its schema's); empty when the database keeps them all. */
  only: TableNames;
}

/** The settings autovacuum works by, read from the database (the server's and each table's). */
export async function readAutovacuumSettings(raw: RawSql): Promise<AutovacuumSettings> {
  const [settings] = await raw.query<{ autovacuum: boolean; trackCounts: boolean }>(
    `SELECT current_setting('autovacuum')::boolean AS autovacuum, current_setting('track_counts')::boolean AS "trackCounts"`,
  );
  // A reloption keeps the spelling it was set with: any of PostgreSQL's ways of writing false.
  const off = await raw.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')
       AND EXISTS (SELECT 1 FROM unnest(c.reloptions) AS o(option)
                   WHERE o.option ~* '^autovacuum_enabled=(f|fa|fal|fals|false|n|no|of|off|0)$')
     ORDER BY c.relname`,
  );
  return { ...settings, tablesOff: off.map(({ name }) => name) };
}

/** Who keeps the statistics, given the database's kind and (for PostgreSQL) its settings. */
export function statisticsPlan(kind: 'pglite' | 'postgres', settings: AutovacuumSettings | null): StatisticsPlan {
  if (kind === 'pglite' || !settings) return { keeper: 'service', reason: 'the embedded database has no autovacuum', only: null };
  if (!settings.trackCounts) {
    return { keeper: 'nobody', reason: 'track_counts is off: neither autovacuum nor the service can tell which tables changed; set track_counts = on', only: [] };
  }
  if (!settings.autovacuum) return { keeper: 'service', reason: 'autovacuum is off', only: null };
  if (settings.tablesOff.length > 0) {
    return { keeper: 'service', reason: `autovacuum_enabled = false on ${settings.tablesOff.join(', ')}`, only: settings.tablesOff };
  }
  return { keeper: 'database', reason: 'autovacuum is on', only: [] };
}

/** The line logged at start. */
export function statisticsLine(plan: StatisticsPlan): string {
  if (plan.keeper === 'database') return 'statistics: database autovacuum';
  if (plan.keeper === 'service') return `statistics: kept by the service (${plan.reason})`;
  return `statistics: kept by nobody (${plan.reason})`;
}

/** A table with more dead rows than autovacuum's threshold (50 + 20% of its live rows). */
export interface DeadRows {
  table: string;
  live: number;
  dead: number;
  threshold: number;
  /** The last VACUUM, by hand, by the service or by autovacuum; null: never since the counts were reset. */
  lastVacuum: Date | null;
}

/** What `kauth doctor` says of statistics: who keeps them, and the tables past the dead-rows threshold. */
export interface StatisticsReport {
  keptBy: StatisticsKeeper;
  reason: string;
  deadRows: DeadRows[];
}

export async function statisticsReport(raw: RawSql, plan: StatisticsPlan): Promise<StatisticsReport> {
  await raw.query('SELECT pg_stat_force_next_flush()').catch(() => undefined); // the embedded session's own counts
  const deadRows = await raw.query<DeadRows>(
    `SELECT format('%I.%I', schemaname, relname) AS "table", n_live_tup::float8 AS live, n_dead_tup::float8 AS dead,
            floor(${DEAD_ROWS_RULE})::float8 AS threshold, greatest(last_vacuum, last_autovacuum) AS "lastVacuum"
     FROM pg_stat_user_tables
     WHERE schemaname = current_schema() AND n_dead_tup > ${DEAD_ROWS_RULE}
     ORDER BY n_dead_tup DESC, relname`,
  );
  return { keptBy: plan.keeper, reason: plan.reason, deadRows };
}
