// The WebSocket transport's own refusals: documents it will not run, and how many subscriptions
// one connection may hold.
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { trafficLimits } from '../../src/config';
import { type Harness, type Workspace, eachBackend } from '../support/harness';
import { untilSeen, waitFor } from '../support/wait';

const MAX_SUBSCRIPTIONS_PER_CONNECTION = trafficLimits({}).subscriptionsPerConnection;

type Errors = { message: string; extensions?: Record<string, unknown> }[];

function connect(h: Harness, key: string): Client {
  return createClient({
    url: `${h.baseUrl.replace('http', 'ws')}/graphql/ws`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
  });
}

interface Attempt {
  /** What it was handed so far. */
  data: unknown[];
  /** The errors it was refused with, once it was. */
  errors?: Errors;
  /** Resolves with the errors it is refused with (waiting for them). */
  refused(): Promise<Errors>;
  stop(): void;
}

function attempt(client: Client, query: string): Attempt {
  const sub: Attempt = {
    data: [],
    refused: () => waitFor('the subscription to be refused', () => sub.errors),
    stop: () => undefined,
  };
  sub.stop = client.subscribe(
    { query },
    {
      next: (value) => sub.data.push(value),
      error: (errors) => {
        sub.errors = errors as Errors;
      },
      complete: () => undefined,
    },
  );
  return sub;
}

/**
 * Changes a group until each of `subs` has been handed a change made since this was called: each
 * was accepted and is registered. (A subscription is registered some time after it is sent, and
 * changes before that are not delivered to it: hence more changes, with growing patience.)
 */
async function live(ws: Workspace, subs: Attempt[]): Promise<void> {
  const before = subs.map((sub) => sub.data.length);
  const group = await ws.group('poked');
  await untilSeen('every subscription to be handed a change', async (round, patienceMs) => {
    await ws.ok('mutation($id: ID!, $name: String!) { updateGroup(id: $id, input: { name: $name }) { id } }', { id: group, name: `poke ${group} ${round}` });
    const handed = () => subs.every((sub, i) => sub.data.length > before[i]);
    await waitFor('a change on each subscription', () => handed() || subs.some((sub) => sub.errors), patienceMs).catch(() => undefined);
    const refused = subs.filter((sub) => sub.errors);
    if (refused.length > 0) throw new Error(`refused: ${JSON.stringify(refused.map((sub) => sub.errors))}`);
    return handed();
  });
}

eachBackend('the WebSocket transport', (h) => {
  let clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    clients = [];
  });

  it('answers a document that does not validate with its message and GRAPHQL_VALIDATION_FAILED, and a syntax error with GRAPHQL_PARSE_FAILED', async () => {
    const ws = await h.workspace();
    const client = connect(h, ws.adminKey);
    clients.push(client);
    const invalid = await attempt(client, 'subscription { groupChanges { nope } }').refused();
    expect(invalid).toEqual([
      expect.objectContaining({ message: 'Cannot query field "nope" on type "GroupChange".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
    ]);
    const broken = await attempt(client, 'subscription { groupChanges {').refused();
    expect(broken.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_PARSE_FAILED']);
  });

  it('refuses a subscription nested deeper than the query depth limit, as over HTTP', async () => {
    const ws = await h.workspace();
    const client = connect(h, ws.adminKey);
    clients.push(client);
    const deep = `subscription { groupChanges { group { ${'parent { '.repeat(20)}id${' }'.repeat(20)} } } }`;
    const errors = await attempt(client, deep).refused();
    expect(errors.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_DEEP']);
  });

  it(`holds at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions on one connection, and another once one ends`, async () => {
    const ws = await h.workspace();
    const client = connect(h, ws.adminKey);
    clients.push(client);
    const query = 'subscription { groupChanges { action } }';
    const held = Array.from({ length: MAX_SUBSCRIPTIONS_PER_CONNECTION }, () => attempt(client, query));
    await live(ws, held); // every one accepted: each is handed changes
    const over = await attempt(client, query).refused();
    expect(over).toEqual([
      expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', maximum: MAX_SUBSCRIPTIONS_PER_CONNECTION } }),
    ]);
    // The client says one has ended before it asks for the next, on the same socket: the server hears it first.
    held[1].stop();
    const next = attempt(client, query);
    await live(ws, [next]);
    expect(held.every((sub) => sub.errors === undefined)).toBe(true);
  });
});
