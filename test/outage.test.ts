// PostgreSQL cut off behind a loopback TCP proxy, for real: the service answers 503 with
// Retry-After (REST, GraphQL and SCIM each in its own error shape), rather than waiting for the
// request's deadline, stays live, says it is not ready, loses no write half-way, and recovers by
// itself once the database is back. (The embedded database cannot be cut off.) How long the 503
// takes (the README: within DB_CONNECT_TIMEOUT_MS) is measured by bench/outage.ts.
import { DEFAULT_POOL, type Database, openDatabase } from '../src/db';
import { type Harness, postgresOnly } from './support/harness';
import { postgresUrl } from './support/services';
import { TcpProxy } from './support/tcp-proxy';
import { waitFor } from './support/wait';

const proxy = new TcpProxy('127.0.0.1', 5432);

/** The test database's URL with the proxy's port in place of PostgreSQL's. */
function proxiedUrl(port: number): string {
  const url = new URL(postgresUrl()!);
  url.port = String(port);
  return url.toString();
}

let proxied: Database | undefined;

postgresOnly('PostgreSQL unreachable', (h: Harness) => {
  afterAll(async () => {
    await proxied?.close();
    await proxy.stop();
  });

  for (const mode of ['reset', 'blackhole'] as const) {
    it(`answers 503 with Retry-After while the connection is cut (${mode}), then recovers by itself`, async () => {
      const ws = await h.workspace();
      const auth = { authorization: `Bearer ${ws.adminKey}` };
      const groups = `/t/${ws.tenant.slug}/api/v1/groups`;
      // Served before the cut (the pool gives up on a connection after 1 s here: on a busy machine, allow a retry).
      await waitFor('the service to serve', async () => (await h.request('GET', groups, { headers: auth })).status === 200);
      // The workspace's groups, read directly (not through the proxy).
      const names = async () =>
        (await h.db.prisma.group.findMany({ where: { tenantId: ws.tenant.id }, orderBy: { id: 'asc' }, select: { name: true } })).map((group) => group.name);
      const before = await names();

      // Each of these would wait for the request's deadline (60 s, a 504) if the service waited
      // for a database that does not answer.
      proxy.cut(mode);
      const rest = await h.request('GET', groups, { headers: auth });
      expect(rest.status).toBe(503);
      expect(rest.body.error.code).toBe('unavailable');
      expect(Number(rest.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(rest.body)).not.toMatch(/prisma|ECONN|127\.0\.0\.1|postgres/i);

      const gql = await h.gql(ws.adminKey, '{ groups { totalCount } }');
      expect(gql.status).toBe(503);
      expect(gql.body.errors![0].extensions.code).toBe('UNAVAILABLE');

      const scim = await h.request('GET', `/t/${ws.tenant.slug}/scim/v2/Users`, { headers: auth });
      expect(scim.status).toBe(503);
      expect(scim.body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503', detail: expect.any(String) });
      expect(Number(scim.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

      const write = await h.request('POST', groups, { headers: auth, body: { name: 'written during the outage' } });
      expect(write.status).toBe(503);

      expect((await h.request('GET', '/healthz')).status).toBe(200);
      const ready = await h.request('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.status).toBe('unavailable');

      proxy.restore();
      await waitFor('the service to serve again', async () => (await h.request('GET', groups, { headers: auth })).status === 200);
      await waitFor('the service to say it is ready again', async () => (await h.request('GET', '/readyz')).status === 200);
      // The refused write left nothing behind, and was not replayed: a write once the service is back is the only one there.
      expect((await h.request('POST', groups, { headers: auth, body: { name: 'written after the outage' } })).status).toBe(201);
      expect(await names()).toEqual([...before, 'written after the outage']);
    }, 120_000);
  }
}, {
  async setup() {
    const port = await proxy.start();
    proxied = await openDatabase({ kind: 'postgres', url: proxiedUrl(port) }, { pool: { ...DEFAULT_POOL, connectTimeoutMs: 1000 } });
    return { db: proxied.prisma, readiness: () => proxied!.readiness(1000), poolStats: () => proxied!.poolStats() };
  },
});
