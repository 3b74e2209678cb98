// PGlite has no autovacuum. Without it, table statistics stay as they were when the tables were
// small, and so do the plans PostgreSQL keeps for the session (the embedded database has one, for
// the server's whole life), foreign-key checks among them: adding 10,000 members to a group took
// 16 s instead of 0.5 s once the users had arrived after the first memberships. This is
// autovacuum's analyze step: tables changed by more than 50 rows + 10% since their last ANALYZE
// are analyzed, which also makes PostgreSQL plan the statements that read them anew.
import type { RawSql } from './raw';

/** How often the embedded database looks for tables to analyze (autovacuum's default naptime). */
export const ANALYZE_EVERY_MS = 60_000;

/** Analyzes each table changed past autovacuum's threshold; returns their names. */
export async function analyzeStaleTables(raw: RawSql): Promise<string[]> {
  // This session's counts reach pg_stat_user_tables once it is idle; the flush is asked for first.
  await raw.query('SELECT pg_stat_force_next_flush()');
  const stale = await raw.query<{ name: string }>(
    `SELECT format('%I.%I', schemaname, relname) AS name FROM pg_stat_user_tables
     WHERE n_mod_since_analyze > 50 + 0.1 * n_live_tup ORDER BY relname`,
  );
  for (const { name } of stale) await raw.exec(`ANALYZE ${name}`);
  return stale.map(({ name }) => name);
}

/** Runs analyzeStaleTables every `everyMs` until stopped; the returned function waits for a run in progress. */
export function analyzeInBackground(raw: RawSql, everyMs = ANALYZE_EVERY_MS): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    // A failed run (the database closing, say) changes nothing; the next one tries again.
    running = analyzeStaleTables(raw).catch(() => undefined);
  }, everyMs).unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
