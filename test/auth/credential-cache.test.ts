// The in-memory credential cache (src/auth/credential-cache.ts) on a PostgreSQL database of this
// file's own: a revoked key stops working at once on the process that revoked it, and within a
// second on every other one, whoever revokes it (another server's GraphQL, the `kauth` CLI), even
// with a listening connection cut; and a known key really is answered without SQL.
//
// "Within a second" is checked without timing the machine: no entry answers longer than 750 ms
// after the lookup that found it (DEFAULT_CREDENTIAL_CACHE.maxAgeMs), so a request sent 750 ms
// after the revocation was answered (it committed before) must be refused, however slow the
// machine, with or without notifications; that a notification alone evicts a key is shown by apps
// whose clock stands still. How fast revocations travel is measured by bench/revocation.ts.
//
// Two kinds of processes: real server processes (src/main.ts, default settings, as deployed), and
// apps built in this process on database handles of their own (own pool, own LISTEN connection)
// with a clock the test holds still, so that nothing but a notification, this process's own
// revocation or a reconnect can explain a refusal, and statement counts are exact.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { queryLimits, trafficLimits } from '../../src/config';
import { type Database, openDatabase } from '../../src/db';
import { CREDENTIALS_CHANNEL, OPERATOR, createApiKey, generateSecret, hashSecret, revokeApiKey } from '../../src/domain/apikeys';
import { fullAccessContext } from '../../src/domain/context';
import { createTenant } from '../../src/domain/tenants';
import type { Tenant } from '../../src/generated/prisma/client';
import { DEFAULT_CREDENTIAL_CACHE } from '../../src/auth/credential-cache';
import { keyBySecretHash } from '../../src/auth/credentials';
import { type AppOptions, buildApp } from '../../src/http/app';
import { ALL_SCOPES } from '../../src/policy/scopes';
import { ManualClock } from '../support/clock';
import { kauth } from '../support/kauth';
import { databaseUrl, withAdmin } from '../support/postgres';
import { GENEROUS_SERVER_ENV, SERVER_START_MS, type ServerProcess, startServer, stopServer } from '../support/servers';
import { describeOnPostgres } from '../support/services';
import { PATIENCE_MS, sleep, waitFor } from '../support/wait';

const VIEWER = '{ viewer { scopes } }';
const REVOKE = 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }';
const POLL_EVERY_MS = 50;
/** How long a server process's cache trusts an entry after the lookup that found it. */
const MAX_AGE_MS = DEFAULT_CREDENTIAL_CACHE.maxAgeMs;
const MAX_GROUP_DEPTH = 8;
const GENEROUS = { ...trafficLimits({}), pointsPerWindow: 1e9, requestsPerAddress: 1e9, concurrentPerCredential: 1000, requestTimeoutMs: 60_000 };

/** What the tests observed (revocation to first refusal, statements), printed at the end. */
const delays: string[] = [];

async function gql(baseUrl: string, key: string, query: string, variables?: Record<string, unknown>) {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: { extensions: { code: string } }[] } };
}

async function expectServed(baseUrl: string, key: string): Promise<void> {
  const res = await gql(baseUrl, key, VIEWER);
  expect({ status: res.status, errors: res.body.errors }).toEqual({ status: 200, errors: undefined });
}

async function expectRefused(baseUrl: string, key: string): Promise<void> {
  const res = await gql(baseUrl, key, VIEWER);
  expect({ status: res.status, code: res.body.errors?.[0]?.extensions.code }).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
}

/** What polling a key showed: when (wall clock, ms) each answered request was sent, and the first refused one (null if none was). */
interface Polled {
  served: number[];
  refusedAt: number | null;
}

/**
 * Asks every 50 ms until the key is refused, for at most `capMs`. May run while the revocation is
 * still being made (the CLI's).
 */
async function firstRefusal(baseUrl: string, key: string, capMs = PATIENCE_MS): Promise<Polled> {
  const until = Date.now() + capMs;
  const served: number[] = [];
  for (;;) {
    const sentAt = Date.now();
    const res = await gql(baseUrl, key, VIEWER);
    if (res.status === 401) return { served, refusedAt: sentAt };
    if (res.status !== 200) throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.body)}`);
    served.push(sentAt);
    if (sentAt > until) return { served, refusedAt: null };
    await sleep(POLL_EVERY_MS);
  }
}

/**
 * Expects the key refused, and no request sent MAX_AGE_MS or more after `answeredAt` (when the
 * revocation had been answered, and so had committed) served: the longest a cache may trust what
 * it found before. Records the delay from `revokedAt` (stamped just before the revoking
 * transaction) to the first refusal for the summary.
 */
function expectRefusedByMaxAge(what: string, revokedAt: number, answeredAt: number, polled: Polled): void {
  delays.push(`${what}: ${polled.refusedAt === null ? 'NOT refused' : `${polled.refusedAt - revokedAt} ms`}`);
  expect(polled.refusedAt).not.toBeNull();
  expect(polled.served.filter((sentAt) => sentAt >= answeredAt + MAX_AGE_MS)).toEqual([]);
}

/** Expects the key refused at some point (by an app whose clock stands still, only a notification can do that), recording the delay. */
function expectRefusedAtAll(what: string, sentAt: number, polled: Polled): void {
  delays.push(`${what}: ${polled.refusedAt === null ? 'NOT refused' : `${polled.refusedAt - sentAt} ms`}`);
  expect(polled.refusedAt).not.toBeNull();
}

/** A database of this file's own, so that every LISTEN on it is one of ours (named so that a later run drops it if this one dies). */
const DB_NAME = `kauth_test_${Date.now()}_credcache_${randomBytes(3).toString('hex')}`;
const DB_URL = databaseUrl(DB_NAME);
const urlAs = (name: string) => `${DB_URL}?application_name=${name}`;

/** The backends that LISTEN for credential revocations on behalf of the connections named `name`. */
async function listenerPids(name: string): Promise<number[]> {
  return withAdmin(async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND query ILIKE 'LISTEN%kauth_credentials%'`,
      [DB_NAME, name],
    );
    return rows.map((row) => row.pid);
  });
}

async function cutListener(name: string): Promise<number> {
  const pids = await listenerPids(name);
  if (pids.length !== 1) throw new Error(`expected one listener for ${name}, found ${pids.length}`);
  await withAdmin((client) => client.query('SELECT pg_terminate_backend($1)', [pids[0]]));
  return pids[0];
}

/** Waits for `name`'s listener to be back on another connection than `gone`. */
async function listenerBack(name: string, gone: number): Promise<void> {
  await waitFor(`the listener for ${name} to come back`, async () => (await listenerPids(name)).some((pid) => pid !== gone));
}

let db: Database;
let tenant: Tenant;
let adminKey: string;

async function newKey(scopes: string[] = ['groups:read']): Promise<{ id: number; key: string }> {
  const ctx = fullAccessContext(db.prisma, tenant.id, { maxGroupDepth: MAX_GROUP_DEPTH });
  const { key, apiKey } = await createApiKey(ctx, OPERATOR, { name: `key ${randomBytes(3).toString('hex')}`, scopes });
  return { id: apiKey.id, key };
}

describeOnPostgres('credential cache on PostgreSQL', () => {
  beforeAll(async () => {
    await withAdmin((client) => client.query(`CREATE DATABASE "${DB_NAME}"`));
    db = await openDatabase({ kind: 'postgres', url: urlAs('kauth-test') });
    tenant = await createTenant(db.prisma, { slug: `cache-${randomBytes(3).toString('hex')}` });
    adminKey = (await newKey(ALL_SCOPES)).key;
  }, 60_000);

  afterAll(async () => {
    await db?.close();
    await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`));
    if (delays.length > 0) console.info(`credential revocation, revokedAt to the first refused request (polled every ${POLL_EVERY_MS} ms; informative: bench/revocation.ts measures it):\n  ${delays.join('\n  ')}`);
  });

  describe('two server processes (src/main.ts, the default cache settings)', () => {
    const servers: ServerProcess[] = [];
    let a: string;
    let b: string;

    beforeAll(async () => {
      const env = (name: string) => ({ ...GENEROUS_SERVER_ENV, DATABASE_URL: urlAs(name) });
      servers.push(...(await Promise.all([startServer(env('kauth-a')), startServer(env('kauth-b'))])));
      await Promise.all(servers.map((server) => server.ready));
      [a, b] = servers.map((server) => server.baseUrl);
    }, SERVER_START_MS + 30_000);

    afterAll(async () => {
      await Promise.all(servers.map((server) => stopServer(server)));
    });

    it("refuses a key revoked through A's GraphQL on A's very next request, and on B within a second", async () => {
      const { id, key } = await newKey();
      await expectServed(a, key);
      await expectServed(b, key);
      await expectServed(a, key); // now from memory on both
      await expectServed(b, key);

      const revoked = await gql(a, adminKey, REVOKE, { id: String(id) });
      const answeredAt = Date.now();
      expect(revoked.body.errors).toBeUndefined();
      await expectRefused(a, key);
      expectRefusedByMaxAge('GraphQL revoke on server A, seen by server B', Date.parse(revoked.body.data.revokeApiKey.revokedAt), answeredAt, await firstRefusal(b, key));
      await expectServed(a, adminKey);
      await expectServed(b, adminKey);
    });

    it('refuses a key revoked with the kauth CLI (a process of its own) on both servers within a second', async () => {
      const { id, key } = await newKey();
      await Promise.all([a, b, a, b].map((server) => expectServed(server, key)));

      let answeredAt = Infinity;
      const [cli, onA, onB] = await Promise.all([
        kauth(['key', 'revoke', tenant.slug, String(id)], { DATABASE_URL: urlAs('kauth-cli') }).finally(() => (answeredAt = Date.now())),
        firstRefusal(a, key),
        firstRefusal(b, key),
      ]);
      expect({ code: cli.code, stderr: cli.code === 0 ? '' : cli.stderr }).toEqual({ code: 0, stderr: '' });
      const revokedAt = Date.parse(JSON.parse(cli.stdout).revokedAt);
      expectRefusedByMaxAge('kauth CLI revoke, seen by server A', revokedAt, answeredAt, onA);
      expectRefusedByMaxAge('kauth CLI revoke, seen by server B', revokedAt, answeredAt, onB);
    }, 120_000);

    it("accepts nothing stale while B's listening connection is cut: revoked through A, refused on B within a second", async () => {
      const { id, key } = await newKey();
      await Promise.all([a, b, a, b].map((server) => expectServed(server, key)));

      const gone = await cutListener('kauth-b');
      const revoked = await gql(a, adminKey, REVOKE, { id: String(id) });
      const answeredAt = Date.now();
      expect(revoked.body.errors).toBeUndefined();
      await expectRefused(a, key);
      expectRefusedByMaxAge("GraphQL revoke on server A while B's listener is cut, seen by B", Date.parse(revoked.body.data.revokeApiKey.revokedAt), answeredAt, await firstRefusal(b, key));

      // Listening again, B hears the next revocation as before.
      await listenerBack('kauth-b', gone);
      const next = await newKey();
      await Promise.all([a, b, a, b].map((server) => expectServed(server, next.key)));
      const nextRevoked = await gql(a, adminKey, REVOKE, { id: String(next.id) });
      const nextAnsweredAt = Date.now();
      expectRefusedByMaxAge("GraphQL revoke on server A after B's listener is back, seen by B", Date.parse(nextRevoked.body.data.revokeApiKey.revokedAt), nextAnsweredAt, await firstRefusal(b, next.key));
    }, 120_000);
  });

  // Apps in this process, each on a database handle of its own: what a second server is, minus
  // the process. The clock stands still, so no entry grows old unless the test moves it.
  describe('apps with their own database handles and a clock that stands still', () => {
    const handles: Database[] = [];
    const apps: FastifyInstance[] = [];

    async function start(name: string, options: Partial<AppOptions> = {}): Promise<{ url: string; handle: Database; app: FastifyInstance; clock: ManualClock }> {
      const handle = await openDatabase({ kind: 'postgres', url: urlAs(name) }, { migrate: false });
      handles.push(handle);
      const clock = new ManualClock();
      const app = await buildApp({
        db: handle.prisma,
        maxGroupDepth: MAX_GROUP_DEPTH,
        jwt: null,
        query: queryLimits({}),
        traffic: GENEROUS,
        listen: handle.listen,
        clock,
        ...options,
      });
      apps.push(app);
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as { port: number };
      return { url: `http://127.0.0.1:${port}`, handle, app, clock };
    }

    afterAll(async () => {
      for (const app of apps) await app.close();
      for (const handle of handles) await handle.close();
    });

    /** Statements `handle` sends while `work` runs. */
    async function statementsOf(handle: Database, work: () => Promise<unknown>): Promise<number> {
      const before = handle.statements.total;
      await work();
      return handle.statements.total - before;
    }

    it('answers a known key from memory: a request sends the key lookup\'s statements fewer than without the cache', async () => {
      const cached = await start('kauth-count-cached');
      const uncached = await start('kauth-count-uncached', { credentialCache: false });
      const { key } = await newKey();
      for (const { url, app } of [cached, uncached]) {
        await expectServed(url, key); // first use: lookup, and lastUsedAt written after the response
        await app.settled();
      }
      const lookup = await statementsOf(cached.handle, () => keyBySecretHash(cached.handle.prisma, hashSecret(key.split('_')[2])));
      const withCache = await statementsOf(cached.handle, () => expectServed(cached.url, key));
      const withoutCache = await statementsOf(uncached.handle, () => expectServed(uncached.url, key));
      const again = await statementsOf(cached.handle, () => expectServed(cached.url, key));
      delays.push(`statements per request with a known key: ${withoutCache} without the cache, ${withCache} with it (the lookup is ${lookup})`);
      expect(lookup).toBeGreaterThanOrEqual(1);
      expect({ withCache, again }).toEqual({ withCache: withoutCache - lookup, again: withoutCache - lookup });
    });

    it('trusts an entry for 750 ms after the lookup that found it, then looks the key up again', async () => {
      const app = await start('kauth-age');
      const { key } = await newKey();
      await expectServed(app.url, key);
      await app.app.settled();
      const hit = await statementsOf(app.handle, () => expectServed(app.url, key));
      app.clock.advance(749);
      expect(await statementsOf(app.handle, () => expectServed(app.url, key))).toBe(hit);
      app.clock.advance(1);
      const looked = await statementsOf(app.handle, () => expectServed(app.url, key));
      expect(looked).toBeGreaterThan(hit);
      expect(await statementsOf(app.handle, () => expectServed(app.url, key))).toBe(hit); // found again, from memory again
    });

    it('keeps at most maxEntries keys, dropping the least recently used', async () => {
      const app = await start('kauth-bounded', { credentialCache: { maxEntries: 2, maxAgeMs: 3_600_000 } });
      const [k1, k2, k3] = [await newKey(), await newKey(), await newKey()].map(({ key }) => key);
      for (const key of [k1, k2, k1, k3]) await expectServed(app.url, key); // k3 pushes out k2, used before k1
      await app.app.settled();
      const counts = [];
      for (const key of [k1, k3, k2]) counts.push(await statementsOf(app.handle, () => expectServed(app.url, key)));
      expect(counts).toEqual([0, 0, 2]); // k2 looked up again (2 statements: the key, its workspace)
    });

    it('judges expiry on every request, a remembered key\'s too', async () => {
      const app = await start('kauth-expiry', { credentialCache: { maxAgeMs: 3_600_000 } });
      const ctx = fullAccessContext(db.prisma, tenant.id, { maxGroupDepth: MAX_GROUP_DEPTH });
      const { key } = await createApiKey(ctx, OPERATOR, { name: 'short', scopes: ['groups:read'], expiresAt: app.clock.in(60_000) });
      await expectServed(app.url, key);
      await app.app.settled();
      app.clock.advance(59_999);
      expect(await statementsOf(app.handle, () => expectServed(app.url, key))).toBe(0); // from memory
      app.clock.advance(1);
      await expectRefused(app.url, key);
    });

    it('never remembers an unknown key: one made right after a refusal works at once', async () => {
      const app = await start('kauth-unknown');
      const secret = generateSecret();
      const key = `kauth_${tenant.slug}_${secret}`;
      await expectRefused(app.url, key);
      await db.prisma.apiKey.create({ data: { tenantId: tenant.id, name: 'late', prefix: secret.slice(0, 8), secretHash: hashSecret(secret), scopes: ['groups:read'] } });
      await expectServed(app.url, key);
    });

    it('refuses a key revoked in its own process on the next request, with its listening connection cut (no NOTIFY can help)', async () => {
      const app = await start('kauth-local', { credentialCache: { maxAgeMs: 3_600_000 } });
      const { id, key } = await newKey();
      await expectServed(app.url, key);
      await expectServed(app.url, key);
      await cutListener('kauth-local');
      const revoked = await gql(app.url, adminKey, REVOKE, { id: String(id) });
      expect(revoked.body.errors).toBeUndefined();
      await expectRefused(app.url, key);
    });

    it("hears another process's revocations only through NOTIFY, GraphQL's and the CLI's alike", async () => {
      // Entries trusted for an hour on a clock that stands still: only a notification can evict them.
      const revoker = await start('kauth-revoker');
      const hearer = await start('kauth-hearer', { credentialCache: { maxAgeMs: 3_600_000 } });
      const viaGraphql = await newKey();
      const viaCli = await newKey();
      for (const { key } of [viaGraphql, viaCli]) {
        await expectServed(hearer.url, key);
        expect(await statementsOf(hearer.handle, () => expectServed(hearer.url, key))).toBe(0); // settled: from memory
      }

      const sent = Date.now(); // the revoking app's clock stands still: timed from the request
      expect((await gql(revoker.url, adminKey, REVOKE, { id: String(viaGraphql.id) })).body.errors).toBeUndefined();
      expectRefusedAtAll('GraphQL revoke in another app, seen through NOTIFY only', sent, await firstRefusal(hearer.url, viaGraphql.key));

      const [cli, polled] = await Promise.all([
        kauth(['key', 'revoke', tenant.slug, String(viaCli.id)], { DATABASE_URL: urlAs('kauth-cli') }),
        firstRefusal(hearer.url, viaCli.key),
      ]);
      expect({ code: cli.code, stderr: cli.code === 0 ? '' : cli.stderr }).toEqual({ code: 0, stderr: '' });
      expectRefusedAtAll('kauth CLI revoke, seen through NOTIFY only', Date.parse(JSON.parse(cli.stdout).revokedAt), polled);
    }, 3 * PATIENCE_MS); // two polls that may each run their course when notifications fail

    it('empties itself once a cut listening connection is re-opened (notifications may have been missed)', async () => {
      const revoker = await start('kauth-revoker-2');
      const hearer = await start('kauth-reconnects', { credentialCache: { maxAgeMs: 3_600_000 } });
      const { id, key } = await newKey();
      await expectServed(hearer.url, key);
      await expectServed(hearer.url, key);
      const gone = await cutListener('kauth-reconnects');
      await gql(revoker.url, adminKey, REVOKE, { id: String(id) }); // its NOTIFY finds no one listening for the hearer
      await listenerBack('kauth-reconnects', gone);
      // The listener is re-opened a second after the cut; what matters is that it empties the cache.
      expect((await firstRefusal(hearer.url, key)).refusedAt).not.toBeNull();
    });
  });
});

describe('credential cache on the embedded database (PGlite)', () => {
  let dataDir: string;
  let embedded: Database;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'kauth-credcache-'));
    embedded = await openDatabase({ kind: 'pglite', dataDir });
    app = await buildApp({
      db: embedded.prisma,
      maxGroupDepth: MAX_GROUP_DEPTH,
      jwt: null,
      query: queryLimits({}),
      traffic: GENEROUS,
      listen: embedded.listen,
      clock: new ManualClock(),
      credentialCache: { maxAgeMs: 3_600_000 },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await embedded?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a key revoked as the kauth CLI does it over the control socket (in this process) on the next request; the NOTIFY arrives too', async () => {
    const local = await createTenant(embedded.prisma, { slug: 'embedded' });
    const ctx = fullAccessContext(embedded.prisma, local.id, { maxGroupDepth: MAX_GROUP_DEPTH });
    const { key, apiKey } = await createApiKey(ctx, OPERATOR, { name: 'k', scopes: ['groups:read'] });
    await expectServed(url, key);
    await app.settled();
    const before = embedded.statements.total;
    await expectServed(url, key);
    expect(embedded.statements.total - before).toBe(0); // `viewer` needs no SQL, and the key came from memory

    const heard: string[] = [];
    const stop = await embedded.listen(CREDENTIALS_CHANNEL, (payload) => heard.push(payload));
    try {
      await revokeApiKey(ctx, OPERATOR, apiKey.id);
      await expectRefused(url, key);
      await expectServed(url, (await createApiKey(ctx, OPERATOR, { name: 'k2', scopes: ['groups:read'] })).key);
      expect(heard).toEqual([`${local.id}:${apiKey.id}`]);
    } finally {
      await stop();
    }
  });
});
