// Fair share between clients: points per credential, requests per address, requests in flight.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CredentialGate } from '../src/edge/traffic';
import { RateLimitedError } from '../src/edge/errors';
import { openDatabase } from '../src/db';
import { OPERATOR, createApiKey } from '../src/domain/apikeys';
import { fullAccessContext } from '../src/domain/context';
import { createTenant } from '../src/domain/tenants';
import { type Harness, codes, eachBackend, postgresOnly, uniqueSlug } from './support/harness';
import { Session } from './support/races';
import { GENEROUS_SERVER_ENV, SERVER_START_MS, freePort, startServer } from './support/servers';
import { describeNeeding, postgresUrl, redisUrl } from './support/services';
import { waitFor } from './support/wait';

// Over the harness's generous limits (deadline, concurrency): a budget of 10 points, in a window
// no test outlasts, however slow the machine.
const TRAFFIC = { pointsPerWindow: 10, windowSeconds: 3600 };

const rest = (h: Harness, slug: string, key: string) =>
  h.request('GET', `/t/${slug}/api/v1/groups`, { headers: { authorization: `Bearer ${key}` } });

eachBackend('points per credential', (h) => {
  it('spends a GraphQL request by its cost and a REST request by one point, then answers 429 with Retry-After', async () => {
    const ws = await h.workspace();
    const first = await ws.gql('{ viewer { scopes } }');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe('10');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('9');
    expect(first.headers.get('x-ratelimit-used')).toBe('1');
    expect(Number(first.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(first.body.extensions!.rateLimit).toMatchObject({ cost: 1, queryCost: 1, limit: 10, remaining: 9 });

    // 100 groups × (1 + children: 1 + 100 × 1) + 1 = 10,201: 1 + floor(10,201 / 1000) = 11 points, more than the 9 left.
    const heavy = await ws.gql('{ groups(first: 100) { nodes { id children(first: 100) { nodes { id } } } } }');
    expect(heavy.status).toBe(429);
    expect(codes(heavy.body)).toEqual(['RATE_LIMITED']);
    expect(Number(heavy.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const other = await h.workspace(); // another credential still has its whole budget
    expect((await other.gql('{ viewer { scopes } }')).status).toBe(200);

    let status = 0;
    for (let i = 0; i < 12 && status !== 429; i += 1) status = (await rest(h, ws.tenant.slug, ws.adminKey)).status;
    const refused = await rest(h, ws.tenant.slug, ws.adminKey);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('x-request-id')).toBeTruthy();
  });
}, { traffic: TRAFFIC });

eachBackend('requests per client address', (h) => {
  it('answers 429 before authentication once an address is over its budget, and leaves probes alone', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await h.request('POST', '/graphql', { body: { query: '{ viewer { scopes } }' } })).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const over = await h.request('GET', '/t/any/api/v1/groups');
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('rate_limited');
    expect((await h.request('GET', '/healthz')).status).toBe(200);
    expect((await h.request('GET', '/readyz')).status).toBe(200);
  });
}, { traffic: { ...TRAFFIC, requestsPerAddress: 3 } });

describe('requests in flight per credential', () => {
  it('lets at most N run, makes the next wait, and refuses it with RATE_LIMITED when no slot frees in time', async () => {
    const gate = new CredentialGate(2, 50);
    const a = await gate.enter('k');
    await gate.enter('k');
    expect(gate.inFlight('k')).toBe(2);
    await expect(gate.enter('k')).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { reason: 'concurrency' } });
    const waiting = gate.enter('k');
    a();
    a(); // freeing twice frees once
    await waiting;
    expect(gate.inFlight('k')).toBe(2);
    expect(gate.inFlight('other')).toBe(0);
    await expect(gate.enter('other')).resolves.toBeInstanceOf(Function);
  });

  it('hands a freed slot to the longest waiter, not to a newcomer', async () => {
    const gate = new CredentialGate(1, 1000);
    const first = await gate.enter('k');
    const order: string[] = [];
    const waiter = gate.enter('k').then((free) => {
      order.push('waiter');
      return free;
    });
    first();
    const newcomer = gate.enter('k').then((free) => {
      order.push('newcomer');
      return free;
    });
    (await waiter)();
    (await newcomer)();
    expect(order).toEqual(['waiter', 'newcomer']);
    expect(gate.inFlight('k')).toBe(0);
    expect(new RateLimitedError('x', 1)).toBeInstanceOf(Error);
  });
});

const IN_FLIGHT = 'kauth-test-in-flight';

postgresOnly('requests in flight per credential, over HTTP', (h) => {
  it('refuses a second concurrent request of one key with 429 while another key is served', async () => {
    const ws = await h.workspace();
    const other = await h.workspace();
    // A session of the test's own locks `groups`: a request reading groups waits, holding its key's one slot.
    const lock = await Session.open();
    try {
      await lock.hold('LOCK TABLE groups IN ACCESS EXCLUSIVE MODE', []);
      let settled = false;
      const held = ws.gql('{ groups { nodes { id } } }').finally(() => (settled = true));
      await waitFor('the first request to wait for the lock', async () => (await lock.waitingFor([lock.pid], IN_FLIGHT)).length > 0);
      const second = await ws.gql('{ viewer { scopes } }');
      expect(second.status).toBe(429);
      expect(second.body.errors![0].extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'concurrency', maxConcurrent: 1 });
      // The same key however its header is spelled: one credential, not one per spelling (they were four).
      for (const spelling of ['bearer', 'BEARER', 'Bearer ', 'bEaReR\t']) {
        const res = await h.request('POST', '/graphql', { headers: { authorization: `${spelling} ${ws.adminKey} ` }, body: { query: '{ viewer { scopes } }' } });
        expect([spelling, res.status]).toEqual([spelling, 429]);
      }
      // Another key's requests have slots of their own: served while the first one still waits.
      expect((await other.gql('{ viewer { scopes } }')).status).toBe(200);
      expect(settled).toBe(false);
      await lock.close();
      expect((await held).status).toBe(200);
    } finally {
      await lock.close().catch(() => undefined);
    }
  });
}, { applicationName: IN_FLIGHT, traffic: { ...TRAFFIC, pointsPerWindow: 1e9, concurrentPerCredential: 1, concurrencyWaitMs: 200 } });

// Two server processes on one PostgreSQL and one Redis spend from one budget.
describeNeeding(['PostgreSQL', 'Redis'], 'one budget across two server processes (PostgreSQL and Redis)', () => {
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((child) => child.kill('SIGTERM')));

  it('answers 429 after the shared budget is spent, whichever process serves', async () => {
    const url = postgresUrl()!;
    const db = await openDatabase({ kind: 'postgres', url });
    const tenant = await createTenant(db.prisma, { slug: uniqueSlug('rl') });
    const ctx = fullAccessContext(db.prisma, tenant.id, { maxGroupDepth: 8 });
    const { key } = await createApiKey(ctx, OPERATOR, { name: 'shared', scopes: ['groups:read'] });
    await db.close();

    // A window no run outlasts: the 40 requests spend from one budget however slow the machine.
    const env = { ...GENEROUS_SERVER_ENV, DATABASE_URL: url, REDIS_URL: redisUrl()!, REDIS_KEY_PREFIX: `kauth-test-${randomBytes(4).toString('hex')}`, RATE_LIMIT_POINTS: '30', RATE_LIMIT_WINDOW_SECONDS: '3600' };
    const ports = [await freePort(), await freePort()];
    const servers = await Promise.all(ports.map((port) => startServer({ ...env, PORT: String(port) })));
    children.push(...servers.map((s) => s.child));
    await Promise.all(servers.map((s) => s.ready));

    const statuses: number[] = [];
    const remaining: string[] = [];
    for (let i = 0; i < 40; i += 1) {
      const res = await fetch(`http://127.0.0.1:${ports[i % 2]}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ viewer { scopes } }' }),
      });
      statuses.push(res.status);
      remaining.push(res.headers.get('x-ratelimit-remaining') ?? '');
      await res.text();
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(30);
    expect(statuses.slice(30)).toEqual(Array(10).fill(429));
    expect(remaining.slice(0, 3)).toEqual(['29', '28', '27']); // counted together, alternating processes
  }, 2 * SERVER_START_MS);
});
