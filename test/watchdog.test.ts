// The pool's watchdog (src/db/watchdog.ts) destroys the connections in use when PostgreSQL stops
// answering, and only then. A probe that timed out because this process's event loop was blocked
// (a busy machine, a long synchronous task) says nothing about the database: before, it destroyed
// a healthy connection in the middle of a statement, and the request on it was answered 503.
import { Pool } from 'pg';
import { watchPool } from '../src/db/watchdog';
import { ADMIN_URL } from './support/postgres';
import { describeOnPostgres } from './support/services';
import { TcpProxy } from './support/tcp-proxy';
import { sleep } from './support/wait';

/** Blocks the event loop for `ms`, over and over with a 1 ms breath between, until `until` settles. */
async function blockRepeatedly(ms: number, until: Promise<unknown>): Promise<void> {
  let settled = false;
  void until.finally(() => (settled = true)).catch(() => undefined);
  while (!settled) {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      /* the event loop stands still */
    }
    await sleep(1);
  }
}

describeOnPostgres('the connection watchdog', () => {
  let pool: Pool | undefined;
  let stop: (() => void) | undefined;
  const proxy = new TcpProxy('127.0.0.1', Number(new URL(ADMIN_URL).port || 5432));
  afterEach(async () => {
    stop?.();
    await pool?.end().catch(() => undefined);
    pool = undefined;
  });
  afterAll(() => proxy.stop());

  it('leaves a statement alone while the event loop, not the database, is slow', async () => {
    pool = new Pool({ connectionString: ADMIN_URL, max: 2 });
    // A probe may take 1 s: a busy machine's PostgreSQL answers well within that.
    stop = watchPool(pool, { url: ADMIN_URL, suspectAfterMs: 200, probeTimeoutMs: 1000 });
    const client = await pool.connect();
    client.on('error', () => undefined); // a destroyed socket fails the statement below, which is what is checked
    try {
      // Out of the pool for 4 s: the watchdog probes more than once, each probe's timer firing
      // late because the loop was blocked for 1.5 s (longer than the probe may take).
      const statement = client.query('SELECT pg_sleep(4)');
      await blockRepeatedly(1500, statement);
      await expect(statement).resolves.toMatchObject({ rowCount: 1 });
    } finally {
      client.release();
    }
  }, 60_000);

  it('destroys the connections in use when the database stops answering', async () => {
    const port = await proxy.start();
    const url = new URL(ADMIN_URL);
    url.host = `127.0.0.1:${port}`;
    pool = new Pool({ connectionString: url.toString(), max: 2 });
    pool.on('error', () => undefined);
    stop = watchPool(pool, { url: url.toString(), suspectAfterMs: 200, probeTimeoutMs: 300 });
    const client = await pool.connect();
    client.on('error', () => undefined);
    try {
      await client.query('SELECT 1');
      proxy.cut('blackhole');
      // Without the watchdog this statement would wait for ever on a link that says nothing.
      await expect(client.query('SELECT 1')).rejects.toThrow(/stopped answering/);
    } finally {
      client.release(true);
      proxy.restore();
    }
  }, 60_000);
});
