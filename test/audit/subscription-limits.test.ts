// Subscriptions are held to what queries are, and more: priced at subscribe, capped per
// connection and per credential (across processes sharing Redis), each event held to the
// response size cap, suggestions masked, the address budget spent by upgrades and failed
// connection_inits, and the connection closed (4403) once its credential dies, on every process.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { queryLimits } from '../../src/config';
import { ManualClock } from '../support/clock';
import { type Harness, type Workspace, anotherApp, eachBackend, postgresOnly, uniqueSlug } from '../support/harness';
import { Session } from '../support/races';
import { REDIS_URL } from '../support/redis';
import { describeNeeding } from '../support/services';
import { untilSeen, waitFor } from '../support/wait';

type Errors = { message: string; extensions?: Record<string, any> }[];

interface Connection {
  client: Client;
  acknowledged: boolean;
  closes: { code: number; reason: string }[];
}

interface Sub {
  results: { data?: any; errors?: Errors }[];
  errors?: Errors;
  done: boolean;
  stop(): void;
}

const open: Client[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.dispose()));
});

function connect(h: Harness, key: string): Connection {
  const connection: Connection = { closes: [], acknowledged: false, client: undefined as unknown as Client };
  connection.client = createClient({
    url: `${h.baseUrl.replace('http', 'ws')}/graphql/ws`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
    on: {
      connected: () => (connection.acknowledged = true),
      closed: (event) => connection.closes.push({ code: (event as { code: number; reason: string }).code, reason: (event as { code: number; reason: string }).reason }),
    },
    onNonLazyError: () => undefined,
  });
  open.push(connection.client);
  return connection;
}

function subscribe(connection: Connection, query: string, variables?: Record<string, unknown>): Sub {
  const sub: Sub = { results: [], done: false, stop: () => undefined };
  sub.stop = connection.client.subscribe(
    { query, variables },
    {
      next: (value) => sub.results.push(value as Sub['results'][number]),
      error: (error) => {
        sub.errors = Array.isArray(error) ? (error as Errors) : [{ message: String((error as { code: number }).code ?? error) }];
      },
      complete: () => {
        sub.done = true;
      },
    },
  );
  return sub;
}

const refused = (sub: Sub) => waitFor('the subscription to be refused', () => sub.errors);
const rename = (ws: Workspace, id: string, name: string) =>
  ws.ok('mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id } }', { id, input: { name } });

/** Renames `group` until every sub has been handed a change: from then on, they are registered. */
async function live(ws: Workspace, group: string, subs: Sub[]): Promise<void> {
  await untilSeen('the subscriptions to go live', async (i, patienceMs) => {
    const before = subs.map((sub) => sub.results.length);
    await rename(ws, group, `poke ${i}`);
    return waitFor('a change on each', () => subs.every((sub, j) => sub.results.length > before[j] || sub.errors), patienceMs)
      .then(() => true)
      .catch(() => false);
  });
  const failed = subs.filter((sub) => sub.errors);
  if (failed.length > 0) throw new Error(`refused: ${JSON.stringify(failed.map((sub) => sub.errors))}`);
}

const HEAVY = 'subscription { groupChanges { group { descendants(first: 100) { nodes { ancestors { descendants(first: 100) { nodes { id } } } } } } } }';

eachBackend('subscriptions are priced and capped', (h) => {
  it('refuses at subscribe a selection priced past the subscription maximum (it was accepted, and took 2.8 GB on the next write)', async () => {
    const ws = await h.workspace();
    const connection = connect(h, ws.adminKey);
    const errors = await refused(subscribe(connection, HEAVY));
    expect(errors.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(errors[0].extensions).toMatchObject({ maximum: queryLimits({}).maxSubscriptionCost });
    expect(errors[0].extensions!.cost).toBeGreaterThan(50_000); // 100 × 7 ancestors × 100, and more
    // Pricing's own refusals, as over HTTP.
    const negative = await refused(subscribe(connection, 'subscription { groupChanges { group { children(first: -5) { nodes { id } } } } }'));
    expect(negative.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    const defaulted = await refused(subscribe(connection, 'subscription($n: Int! = 2) { groupChanges { group { children(first: $n) { nodes { id } } } } }', { n: null }));
    expect(defaulted.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    // What a frontend subscribes to is accepted, on the same connection.
    const group = await ws.group('watched');
    const fine = subscribe(connection, 'subscription { groupChanges { action group { name parent { name } } } }');
    await live(ws, group, [fine]);
  });

  it('caps the subscriptions one credential holds across its connections, and frees a slot when one ends', async () => {
    const ws = await h.workspace();
    const group = await ws.group('watched');
    const query = 'subscription { groupChanges { action } }';
    const [one, two] = [connect(h, ws.adminKey), connect(h, ws.adminKey)];
    const held = [subscribe(one, query), subscribe(one, query), subscribe(two, query)];
    await live(ws, group, held);
    const over = await refused(subscribe(two, query));
    expect(over[0].extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'subscriptions', maximum: 3 });
    // Another credential of the workspace is not affected.
    const other = subscribe(connect(h, await ws.key(['groups:read'])), query);
    held[0].stop();
    await waitFor('the slot to be given back', async () => {
      const next = subscribe(two, query);
      await live(ws, group, [other]);
      const ok = await waitFor('an answer', () => next.errors ?? (next.results.length > 0 ? 'live' : undefined)).catch(() => undefined);
      if (ok !== 'live') next.stop();
      return ok === 'live';
    });
  });

  it('holds each event to the response size cap: a larger event is RESPONSE_TOO_LARGE, and the next small one is delivered', async () => {
    const ws = await h.workspace();
    const group = await ws.group('watched');
    const connection = connect(h, ws.adminKey);
    const sub = subscribe(connection, 'subscription { groupChanges { action group { name description } } }');
    await live(ws, group, [sub]);
    const before = sub.results.length;
    await ws.ok('mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id } }', { id: group, input: { description: 'x'.repeat(1500) } });
    await waitFor('the large event', () => sub.results.length > before);
    expect(sub.results[before]).toEqual({
      data: null,
      errors: [expect.objectContaining({ extensions: { code: 'RESPONSE_TOO_LARGE', maximum: 1024 } })],
    });
    await ws.ok('mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id } }', { id: group, input: { name: 'small', description: null } });
    await waitFor('the next event', () => sub.results.length > before + 1);
    expect(sub.results[before + 1].data.groupChanges.group.name).toBe('small');
    expect(sub.errors).toBeUndefined();
  });
}, { traffic: { subscriptionsPerCredential: 3 }, app: { query: { ...queryLimits({}), maxResponseBytes: 1024 } } });

eachBackend('subscriptions in production', (h) => {
  it('gives no field suggestions over the socket', async () => {
    const ws = await h.workspace();
    const errors = await refused(subscribe(connect(h, ws.adminKey), 'subscription { groupChanges { actio } }'));
    expect(errors.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(errors[0].message).toBe('Cannot query field "actio" on type "GroupChange".');
  });
}, { app: { query: { ...queryLimits({ NODE_ENV: 'production' }) } } });

/** Opens a raw WebSocket: resolves with the HTTP status of a refused upgrade, or 101. */
function upgrade(h: Harness): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${h.baseUrl.replace('http', 'ws')}/graphql/ws`, 'graphql-transport-ws');
    socket.on('open', () => {
      socket.close();
      resolve(101);
    });
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.on('error', reject);
  });
}

eachBackend('the address budget on the socket', (h) => {
  it('spends the address budget with every upgrade and every failed connection_init', async () => {
    await h.workspace();
    // 2 requests: one upgrade and one failed connection_init each.
    for (let i = 0; i < 2; i += 1) {
      const bad = connect(h, 'kauth_nope_nope');
      await waitFor('the bad key to be refused', () => bad.closes[0]);
      expect(bad.closes[0].code).toBe(4403);
    }
    expect(await upgrade(h)).toBe(101); // the fifth request
    expect(await upgrade(h)).toBe(429);
  });
}, { traffic: { requestsPerAddress: 5, windowSeconds: 3600 } });

const clock = new ManualClock();
eachBackend('a dead credential on an open connection', (h) => {
  it('closes the connection with 4403 once the key expires, with the subscription ended UNAUTHENTICATED first', async () => {
    const ws = await h.workspace();
    const group = await ws.group('watched');
    const key = await ws.key(['groups:read'], { expiresAt: new Date(clock.now().getTime() + 3600_000) });
    const connection = connect(h, key);
    const sub = subscribe(connection, 'subscription { groupChanges { action } }');
    await live(ws, group, [sub]);
    clock.advance(2 * 3600_000);
    await waitFor('the connection to be closed', () => connection.closes[0]);
    expect(connection.closes[0]).toEqual({ code: 4403, reason: 'Forbidden: the credential expired' });
    expect(sub.errors).toEqual([{ message: 'the credential expired', extensions: { code: 'UNAUTHENTICATED' } }]);
  });
}, { app: { clock } });

postgresOnly('subscriptions across two processes', (h) => {
  const prefix = uniqueSlug('subs');
  // Two more processes sharing one Redis: the cap counts on both.
  const other = anotherApp({ traffic: { subscriptionsPerCredential: 2 }, app: { redisUrl: REDIS_URL, redisPrefix: prefix } });
  const third = anotherApp({ traffic: { subscriptionsPerCredential: 2 }, app: { redisUrl: REDIS_URL, redisPrefix: prefix } });

  it('closes on process B, within the check interval, a connection whose key was revoked through process A, subscriptions or none', async () => {
    const ws = await h.workspace();
    const group = await ws.group('watched');
    const key = await ws.key(['groups:read']);
    const keyId = (await ws.gql('{ viewer { apiKey { id } } }', undefined, key)).body.data.viewer.apiKey.id;
    const onB = ws.through(other);
    const idle = connect(other, key);
    const busy = connect(other, key);
    const sub = subscribe(busy, 'subscription { groupChanges { action } }');
    await live(onB, group, [sub]);
    await waitFor('the idle connection to be acknowledged', () => idle.acknowledged);
    await ws.ok('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: keyId });
    await waitFor('both connections to be closed', () => idle.closes[0] && busy.closes[0]);
    expect(idle.closes[0].code).toBe(4403);
    expect(busy.closes[0].code).toBe(4403);
    expect(sub.errors).toEqual([{ message: 'the API key was revoked', extensions: { code: 'UNAUTHENTICATED' } }]);
  });

  describeNeeding(['Redis'], 'sharing one Redis', () => {
    it('counts one credential\'s subscriptions on both processes against one cap (Redis)', async () => {
      const ws = await h.workspace();
      const group = await ws.group('watched');
      const key = await ws.key(['groups:read']);
      const onA = connect(third, key);
      const onB = connect(other, key);
      const query = 'subscription { groupChanges { action } }';
      const held = [subscribe(onA, query), subscribe(onB, query)];
      await live(ws, group, held);
      const over = await refused(subscribe(onB, query));
      expect(over[0].extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'subscriptions', maximum: 2 });
      // A's connection closes: its slot is free for B.
      await onA.client.dispose();
      await waitFor('the slot to be given back', async () => {
        const next = subscribe(onB, query);
        const answer = await waitFor('an answer', async () => {
          await rename(ws, group, `poke ${Date.now()}`);
          return next.errors ? 'refused' : next.results.length > 0 ? 'live' : undefined;
        }).catch(() => undefined);
        if (answer !== 'live') next.stop();
        return answer === 'live';
      });
    });
  });
});

const TURNS = 'kauth-test-subscription-turns';

postgresOnly('subscription events take turns with their credential\'s requests', (h) => {
  it('resolves an event only once the credential has a free slot (CONCURRENCY_PER_CREDENTIAL), so its subscriptions cannot take the pool', async () => {
    const ws = await h.workspace();
    const group = await ws.group('watched');
    const key = await ws.key(['groups:read', 'roles:read']);
    const query = 'subscription { groupChanges { cursor action } }';
    const sub = subscribe(connect(h, key), query);
    // The same events to the admin key, whose slot is free: what it has been handed, the hub has handed out to both.
    const witness = subscribe(connect(h, ws.adminKey), query);
    await live(ws, group, [sub, witness]);
    const before = sub.results.length;
    const handed = witness.results.length;
    // The key's one slot is held by a request parked on a lock the test holds.
    const lock = await Session.open();
    try {
      await lock.hold('LOCK TABLE roles IN ACCESS EXCLUSIVE MODE', []);
      const parked = ws.gql('{ roles(first: 1) { nodes { id } } }', undefined, key);
      await waitFor('the request to wait for the lock', async () => (await lock.waitingFor([lock.pid], TURNS)).length > 0);
      // Two events, the second written once the witness has had the first (the admin key's writes have a slot of their own).
      for (const name of ['while the slot is taken', 'and again']) {
        const seen = witness.results.length;
        await rename(ws, group, name);
        await waitFor(`the witness to be handed "${name}"`, () => witness.results.length > seen);
      }
      expect(sub.results.length).toBe(before); // its events wait for the slot
      await lock.close();
      expect((await parked).status).toBe(200);
      await waitFor('the events, once the slot is free', () => sub.results.length >= before + 2);
      const events = witness.results.slice(handed);
      expect(events.map((result) => result.data.groupChanges.action)).toEqual(['GROUP_RENAMED', 'GROUP_RENAMED']);
      expect(sub.results.slice(before)).toEqual(events);
    } finally {
      await lock.close().catch(() => undefined);
    }
  });
}, { applicationName: TURNS, traffic: { concurrentPerCredential: 1, concurrencyWaitMs: 60_000 } });
