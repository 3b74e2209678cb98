// Races the tests stage on purpose, on PostgreSQL: a session of the test's own holds a row lock
// to park one request at a chosen statement, and the test watches pg_stat_activity to see
// whether the next request waits for it or runs past it.
import { Client } from 'pg';
import { type Harness, type HarnessOptions, postgresOnly } from './harness';
import { postgresUrl } from './services';
import { PATIENCE_MS, waitFor } from './wait';

/** Declares a suite of races on PostgreSQL; without it, a skipped test says why (see postgresOnly). */
export function racesOnPostgres(name: string, suite: (h: Harness) => void, options: HarnessOptions = {}): void {
  postgresOnly(name, suite, options, 'PGlite runs one statement at a time, so nothing here can race');
}

/**
 * Two connections of the test's own to the run's PostgreSQL database: one holds locks in a
 * transaction, the other watches who waits (outside any transaction, so that pg_stat_activity
 * is read afresh each time rather than from a snapshot kept for the transaction).
 */
export class Session {
  private constructor(
    private readonly holder: Client,
    private readonly observer: Client,
    /** The backend of the connection that holds the locks. */
    readonly pid: number,
  ) {}

  static async open(): Promise<Session> {
    const [holder, observer] = [0, 1].map(() => new Client({ connectionString: postgresUrl()! }));
    await Promise.all([holder.connect(), observer.connect()]);
    const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return new Session(holder, observer, rows[0].pid);
  }

  /** Begins a transaction and takes a lock with `sql` (a SELECT … FOR UPDATE), held until close. */
  async hold(sql: string, params: unknown[]): Promise<void> {
    await this.holder.query('BEGIN');
    await this.holder.query(sql, params);
  }

  /** Runs one more statement in the held transaction (it may wait for a lock). */
  async run(sql: string, params: unknown[] = []): Promise<void> {
    await this.holder.query(sql, params);
  }

  /** Rolls back what it holds and disconnects. */
  async close(): Promise<void> {
    await this.holder.query('ROLLBACK');
    await Promise.all([this.holder.end(), this.observer.end()]);
  }

  /** Sessions waiting for a lock that one of `pids` holds; only those of connections named `applicationName`, if given. */
  async waitingFor(pids: number[], applicationName?: string): Promise<number[]> {
    const { rows } = await this.observer.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE pg_blocking_pids(pid) && $1::int[] AND ($2::text IS NULL OR application_name = $2) ORDER BY pid',
      [pids, applicationName ?? null],
    );
    return rows.map((row) => row.pid);
  }
}

/** Whichever comes first: `request` settles, or `waits()` turns true (polled). */
export async function settlesOrWaits(request: Promise<unknown>, waits: () => Promise<boolean>, ms = PATIENCE_MS): Promise<'settled' | 'waits'> {
  let settled = false;
  void request.finally(() => (settled = true)).catch(() => undefined);
  return waitFor('a request to settle or to wait for a lock', async () => {
    if (settled) return 'settled' as const;
    return (await waits()) ? ('waits' as const) : undefined;
  }, ms);
}
