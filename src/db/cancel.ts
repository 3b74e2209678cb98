// A stopped request's running statement is cancelled, not waited for. Once a request's work is
// stopped (its client gone, its deadline passed), no further statement starts (work-scope.ts);
// this cuts the one that is running: PostgreSQL is sent a cancel request for the connection's
// backend, and the connection is closed so it never goes back to the pool with a cancel in
// flight that could hit the next request's statement. The pool opens a fresh one when needed.
// PostgreSQL only: embedded PGlite runs one statement at a time in this process.
import { AsyncResource } from 'node:async_hooks';
import pg, { type Pool, type PoolClient } from 'pg';
import { workScope } from './work-scope';

type Query = PoolClient['query'];

interface CancelConnection {
  on(event: 'connect' | 'error', listener: () => void): void;
  connect(portOrPath: number | string, host?: string): void;
  cancel(processID: number, secretKey: number): void;
  end(): void;
}

/** Sends PostgreSQL's CancelRequest for the client's backend on a connection of its own. */
function sendCancel(client: PoolClient): void {
  const { processID, secretKey, host, port } = client as unknown as { processID: number; secretKey: number; host: string; port: number };
  if (!processID) return;
  // pg's protocol connection: its typings leave out the two calls a cancel request needs.
  const connection = new pg.Connection() as unknown as CancelConnection;
  connection.on('error', () => undefined);
  connection.on('connect', () => {
    connection.cancel(processID, secretKey);
    connection.end();
  });
  if (host?.startsWith('/')) connection.connect(`${host}/.s.PGSQL.${port}`);
  else connection.connect(port, host);
}

function cut(client: PoolClient): void {
  sendCancel(client);
  (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
}

/** Makes every statement sent on `pool` on behalf of a unit of work stop when that work is stopped. */
export function cancelStatementsOnStop(pool: Pool): void {
  // pg-pool may hand a waiting caller a connection from inside another caller's release: bound to
  // the caller's async context, the statement is attributed to the right request.
  const connect = pool.connect.bind(pool) as (callback?: (...args: unknown[]) => void) => unknown;
  (pool as unknown as { connect: typeof connect }).connect = (callback) => (callback ? connect(AsyncResource.bind(callback)) : connect());
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      const signal = workScope.getStore()?.signal;
      if (!signal) return query(...args);
      const onStop = () => cut(client);
      signal.addEventListener('abort', onStop, { once: true });
      const done = () => signal.removeEventListener('abort', onStop);
      const last = args.length - 1;
      if (typeof args[last] === 'function') {
        const callback = args[last] as (...results: unknown[]) => void;
        args[last] = (...results: unknown[]) => {
          done();
          callback(...results);
        };
        return query(...args);
      }
      const result = query(...args) as Promise<unknown>;
      result.then(done, done);
      return result;
    }) as Query;
  });
}
