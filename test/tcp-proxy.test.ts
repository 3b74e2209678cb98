// The loopback proxy the outage tests cut PostgreSQL off with: it forwards, 'reset' fails clients
// fast, 'blackhole' leaves them waiting, restore() lets new clients through again, stop() leaves
// nothing open. Needs PostgreSQL (the run's database from global-setup): see describeOnPostgres.
import { Client, type ClientConfig } from 'pg';
import { describeOnPostgres, postgresUrl } from './support/services';
import { TcpProxy } from './support/tcp-proxy';
import { sleep } from './support/wait';

async function timed<T>(work: Promise<T>): Promise<{ ms: number; value?: T; error?: Error }> {
  const started = Date.now();
  try {
    const value = await work;
    return { ms: Date.now() - started, value };
  } catch (error) {
    return { ms: Date.now() - started, error: error as Error };
  }
}

/** The error `work` fails with (failing the test if it succeeds). */
async function failure(work: Promise<unknown>): Promise<Error> {
  const { error } = await timed(work);
  expect(error).toBeDefined();
  return error!;
}

describeOnPostgres('TcpProxy in front of PostgreSQL', () => {
  const target = new URL(postgresUrl()!);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const clients: Client[] = [];
  let port = 0;

  /** A pg client through the proxy; its 'error' events (a reset connection) are expected. */
  function client(options: Partial<ClientConfig> = {}): Client {
    const url = new URL(postgresUrl()!);
    url.hostname = '127.0.0.1';
    url.port = String(port);
    const c = new Client({ connectionString: url.toString(), connectionTimeoutMillis: 30_000, ...options });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  }

  async function selectOne(c: Client): Promise<number> {
    const { rows } = await c.query<{ one: number }>('SELECT 1 AS one');
    return rows[0].one;
  }

  beforeAll(async () => {
    port = await proxy.start();
  });

  afterEach(async () => {
    proxy.restore();
    // end() of a client whose connection was cut must not hold the test up.
    const ended = (c: Client) => Promise.race([c.end().catch(() => undefined), sleep(2000, { ref: false })]);
    await Promise.all(clients.splice(0).map(ended));
  });

  afterAll(async () => {
    await proxy.stop();
    expect(proxy.connections).toBe(0);
  });

  it('forwards: SELECT 1 through the proxy', async () => {
    const c = client();
    await c.connect();
    expect(await selectOne(c)).toBe(1);
    expect(proxy.connections).toBe(1);
  });

  it("cut('reset') fails an open connection and new ones fast; restore() lets new ones through", async () => {
    const connected = client();
    await connected.connect();
    expect(await selectOne(connected)).toBe(1);

    // Fast: ended by the reset, not by a timeout (the open client has no query timeout, a new one 30 s to connect).
    proxy.cut('reset');
    expect(proxy.connections).toBe(0);
    const query = await failure(selectOne(connected));
    expect(query.message).not.toMatch(/timeout/i);

    const attempt = await failure(client().connect());
    expect(attempt.message).not.toMatch(/timeout/i);
    expect(proxy.connections).toBe(0);

    proxy.restore();
    const again = client();
    await again.connect();
    expect(await selectOne(again)).toBe(1);
  });

  it("cut('blackhole') answers nothing: a query and a connect wait until their own timeouts (500 ms) end them", async () => {
    const connected = client({ query_timeout: 500 });
    await connected.connect();
    expect(await selectOne(connected)).toBe(1);

    proxy.cut('blackhole');
    // The open connection stays open but its query is never answered.
    const query = await timed(selectOne(connected));
    expect(query.error?.message).toMatch(/timeout/i);
    expect(query.ms).toBeGreaterThanOrEqual(400);
    expect(proxy.connections).toBe(1);

    // New connections are accepted, and then nothing.
    const attempt = await timed(client({ connectionTimeoutMillis: 500 }).connect());
    expect(attempt.error?.message).toMatch(/timeout/i);
    expect(attempt.ms).toBeGreaterThanOrEqual(400);

    // restore(): the blackholed connection is reset; new connections work.
    proxy.restore();
    expect(proxy.connections).toBe(0);
    const again = client();
    await again.connect();
    expect(await selectOne(again)).toBe(1);
  });
});
