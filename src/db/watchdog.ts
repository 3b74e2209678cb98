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

async function probe(url: string, timeoutMs: number): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
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
        if (await probe(options.url, options.probeTimeoutMs)) {
          quietUntil = Date.now() + 2000;
          return;
        }
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
