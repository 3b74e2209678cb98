// Notices a PostgreSQL that stopped answering without closing its connections (a network
// partition, a hung proxy): a pooled connection's socket then waits forever, and so would the
// request on it. When a connection has been out of the pool for a while, a fresh connection is
// tried; if that fails too, the sockets of the connections in use are destroyed, so their
// statements fail at once (and are answered 503) instead of hanging until the deadline.
import { Client, type Pool, type PoolClient } from 'pg';

export interface WatchdogOptions {
  url: string;
  /** A connection out of the pool longer than this makes the watchdog look. */
  suspectAfterMs: number;
  /** How long the probe's fresh connection and `SELECT 1` may take. */
  probeTimeoutMs: number;
}

/**
 * A fresh connection and `SELECT 1`: 'up', 'down' (refused, reset, or no answer in time), or
 * 'unknown' when the time ran out while this process's event loop was blocked: the timer fired
 * late, so the database may well have answered in time and not been read. Destroying healthy
 * connections on that evidence turned a busy machine into 503s.
 */
async function probe(url: string, timeoutMs: number): Promise<'up' | 'down' | 'unknown'> {
  // pg's own timeouts are a backstop; the verdict on time is this timer's, whose lateness is known.
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2 * timeoutMs, query_timeout: 2 * timeoutMs });
  client.on('error', () => undefined);
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'down' | 'unknown'>((resolve) => {
    timer = setTimeout(() => {
      const lateByMs = performance.now() - started - timeoutMs;
      resolve(lateByMs > Math.max(50, timeoutMs / 4) ? 'unknown' : 'down');
    }, timeoutMs);
  });
  const answered = (async () => {
    await client.connect();
    await client.query('SELECT 1');
    return 'up' as const;
  })().catch(() => 'down' as const);
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
    void client.end().catch(() => undefined);
  }
}

/** The socket under a pg client: pg has no public way to abort a statement stuck on a dead link. */
function destroySocket(client: PoolClient): void {
  (client as unknown as { connection?: { stream?: { destroy(error?: Error): void } } }).connection?.stream?.destroy(
    new Error('Connection terminated: the database stopped answering'),
  );
}

/** Starts watching `pool`; returns the function that stops it. */
export function watchPool(pool: Pool, options: WatchdogOptions): () => void {
  const outSince = new Map<PoolClient, number>();
  pool.on('acquire', (client) => outSince.set(client, Date.now()));
  pool.on('release', (_error, client) => outSince.delete(client));
  pool.on('remove', (client) => outSince.delete(client));
  let probing = false;
  let quietUntil = 0; // after a probe that worked, a slow statement is just slow: look again later
  const timer = setInterval(
    async () => {
      const now = Date.now();
      if (probing || now < quietUntil) return;
      const suspects = [...outSince].filter(([, since]) => now - since > options.suspectAfterMs).map(([client]) => client);
      if (suspects.length === 0) return;
      probing = true;
      try {
        const verdict = await probe(options.url, options.probeTimeoutMs);
        if (verdict === 'up') {
          quietUntil = Date.now() + 2000;
          return;
        }
        if (verdict === 'unknown') return; // probed again on the next tick
        for (const client of suspects) {
          outSince.delete(client);
          destroySocket(client);
        }
      } finally {
        probing = false;
      }
    },
    Math.max(50, Math.floor(options.suspectAfterMs / 2)),
  );
  timer.unref();
  return () => clearInterval(timer);
}
