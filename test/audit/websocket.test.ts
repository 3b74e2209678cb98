// The WebSocket transport's own refusals: documents it will not run, and how many subscriptions
// one connection may hold.
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { MAX_SUBSCRIPTIONS_PER_CONNECTION } from '../../src/graphql/websocket';
import { type Harness, eachBackend } from '../support/harness';

interface Outcome {
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  data?: unknown[];
}

function connect(h: Harness, key: string): Client {
  return createClient({
    url: `${h.baseUrl.replace('http', 'ws')}/graphql/ws`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    lazy: false,
  });
}

/** Subscribes; resolves with the first error (or after `settleMs` with what arrived so far). */
function attempt(client: Client, query: string, settleMs = 1500): { outcome: Promise<Outcome>; stop: () => void } {
  const data: unknown[] = [];
  let stop = () => undefined as void;
  const outcome = new Promise<Outcome>((resolve) => {
    const timer = setTimeout(() => resolve({ data }), settleMs);
    stop = client.subscribe(
      { query },
      {
        next: (value) => data.push(value),
        error: (errors) => {
          clearTimeout(timer);
          resolve({ errors: errors as Outcome['errors'] });
        },
        complete: () => undefined,
      },
    );
  });
  return { outcome, stop: () => stop() };
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
    const invalid = await attempt(client, 'subscription { groupChanges { nope } }').outcome;
    expect(invalid.errors).toEqual([
      expect.objectContaining({ message: 'Cannot query field "nope" on type "GroupChange".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
    ]);
    const broken = await attempt(client, 'subscription { groupChanges {').outcome;
    expect(broken.errors?.map((e) => e.extensions?.code)).toEqual(['GRAPHQL_PARSE_FAILED']);
  });

  it('refuses a subscription nested deeper than the query depth limit, as over HTTP', async () => {
    const ws = await h.workspace();
    const client = connect(h, ws.adminKey);
    clients.push(client);
    const deep = `subscription { groupChanges { group { ${'parent { '.repeat(20)}id${' }'.repeat(20)} } } }`;
    const { errors } = await attempt(client, deep).outcome;
    expect(errors?.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_DEEP']);
  });

  it(`holds at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions on one connection, and another once one ends`, async () => {
    const ws = await h.workspace();
    const client = connect(h, ws.adminKey);
    clients.push(client);
    const query = 'subscription { groupChanges { action } }';
    const held = Array.from({ length: MAX_SUBSCRIPTIONS_PER_CONNECTION }, () => attempt(client, query));
    const one = await held[0].outcome;
    expect(one).toEqual({ data: [] }); // accepted: no error within the settle time
    const over = await attempt(client, query).outcome;
    expect(over.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', maximum: MAX_SUBSCRIPTIONS_PER_CONNECTION } }),
    ]);
    held[1].stop();
    await new Promise((r) => setTimeout(r, 300));
    expect(await attempt(client, query).outcome).toEqual({ data: [] });
  });
});
