// PostgreSQL cut off behind a loopback TCP proxy, for real: the service answers 503 with
// Retry-After within 2 s (REST, GraphQL and SCIM each in its own error shape), stays live, says it
// is not ready, loses no write half-way, and recovers by itself once the database is back. (The
// embedded database cannot be cut off.)
import { DEFAULT_POOL, type Database, openDatabase } from '../src/db';
import { type Harness, postgresOnly } from './support/harness';
import { TcpProxy } from './support/tcp-proxy';

const proxy = new TcpProxy('127.0.0.1', 5432);

/** The test database's URL with the proxy's port in place of PostgreSQL's. */
function proxiedUrl(port: number): string {
  const url = new URL(process.env.KAUTH_TEST_POSTGRES_URL!);
  url.port = String(port);
  return url.toString();
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work;
  return { value, ms: Date.now() - started };
}

async function waitUntil(predicate: () => Promise<boolean>, ms: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await predicate()) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not recovered within ${ms} ms`);
}

let proxied: Database | undefined;

postgresOnly('PostgreSQL unreachable', (h: Harness) => {
  afterAll(async () => {
    await proxied?.close();
    await proxy.stop();
  });

  for (const mode of ['reset', 'blackhole'] as const) {
    it(`answers 503 with Retry-After within 2 s while the connection is cut (${mode}), then recovers by itself`, async () => {
      const ws = await h.workspace();
      const auth = { authorization: `Bearer ${ws.adminKey}` };
      const groups = `/t/${ws.tenant.slug}/api/v1/groups`;
      expect((await h.request('GET', groups, { headers: auth })).status).toBe(200);
      const before = await h.db.prisma.group.count({ where: { tenantId: ws.tenant.id } });

      proxy.cut(mode);
      const rest = await timed(h.request('GET', groups, { headers: auth }));
      expect(rest.value.status).toBe(503);
      expect(rest.value.body.error.code).toBe('unavailable');
      expect(Number(rest.value.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(rest.ms).toBeLessThan(2000);
      expect(JSON.stringify(rest.value.body)).not.toMatch(/prisma|ECONN|127\.0\.0\.1|postgres/i);

      const gql = await timed(h.gql(ws.adminKey, '{ groups { totalCount } }'));
      expect(gql.value.status).toBe(503);
      expect(gql.value.body.errors![0].extensions.code).toBe('UNAVAILABLE');
      expect(gql.ms).toBeLessThan(2000);

      const scim = await timed(h.request('GET', `/t/${ws.tenant.slug}/scim/v2/Users`, { headers: auth }));
      expect(scim.value.status).toBe(503);
      expect(scim.value.body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503', detail: expect.any(String) });
      expect(Number(scim.value.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(scim.ms).toBeLessThan(2000);

      const write = await timed(h.request('POST', groups, { headers: auth, body: { name: 'written during the outage' } }));
      expect(write.value.status).toBe(503);
      expect(write.ms).toBeLessThan(2000);

      expect((await h.request('GET', '/healthz')).status).toBe(200);
      const ready = await timed(h.request('GET', '/readyz'));
      expect(ready.value.status).toBe(503);
      expect(ready.value.body.status).toBe('unavailable');
      expect(ready.ms).toBeLessThan(2000);

      proxy.restore();
      const recoveredIn = await waitUntil(async () => (await h.request('GET', groups, { headers: auth })).status === 200, 10_000);
      expect(recoveredIn).toBeLessThan(10_000);
      expect((await h.request('GET', '/readyz')).status).toBe(200);
      // The refused write left nothing behind (counted directly, not through the proxy).
      expect(await h.db.prisma.group.count({ where: { tenantId: ws.tenant.id } })).toBe(before);
    }, 60_000);
  }
}, {
  async setup() {
    const port = await proxy.start();
    proxied = await openDatabase({ kind: 'postgres', url: proxiedUrl(port) }, { pool: { ...DEFAULT_POOL, connectTimeoutMs: 1000 } });
    return { db: proxied.prisma, readiness: () => proxied!.readiness(1000), poolStats: () => proxied!.poolStats() };
  },
});
