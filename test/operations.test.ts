// A document may carry several operations; the one `operationName` names runs (the GraphQL spec's
// GetOperation), and only it is priced, over HTTP and over the WebSocket alike.
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { queryLimits } from '../src/config';
import { type GraphQLBody, type Harness, type Response, type Workspace, codes, eachBackend } from './support/harness';
import { untilSeen, waitFor } from './support/wait';

const LIMITS = queryLimits({});

// Cheap costs 1 + 10 × 1 = 11; Expensive 1 + 98 × 5,102 + 1 + 3 = 500,001, one over the maximum
// (the arithmetic of test/limits.test.ts). Each spreads a fragment of its own.
const CHEAP_COST = 11;
const DOCUMENT = `
fragment Small on Group { id }
fragment Big on Group { children(first: 100) { nodes { children(first: 49) { nodes { id } } } } }
query Cheap { groups(first: 10) { nodes { ...Small } } }
query Expensive { big: groups(first: 98) { nodes { ...Big } } small: groups(first: 3) { nodes { id } } }
query Viewer { viewer { scopes } }
`;

function run(h: Harness, ws: Workspace, query: string, operationName?: string | null): Promise<Response<GraphQLBody>> {
  return h.request('POST', '/graphql', { headers: { authorization: `Bearer ${ws.adminKey}` }, body: { query, operationName } });
}

function expectRefused(res: Response<GraphQLBody>, code: string): Record<string, any> {
  expect(codes(res.body)).toEqual([code]);
  expect(res.status).toBe(400);
  expect(res.body.data).toBeUndefined();
  return res.body.errors![0].extensions;
}

eachBackend('documents with several operations, over HTTP', (h) => {
  it('runs the operation operationName names, and only it', async () => {
    const ws = await h.workspace();
    await ws.group('root');
    const res = await run(h, ws, DOCUMENT, 'Viewer');
    expect(res.body.errors).toBeUndefined();
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data)).toEqual(['viewer']);
    const cheap = await run(h, ws, DOCUMENT, 'Cheap');
    expect(Object.keys(cheap.body.data)).toEqual(['groups']);
    expect(cheap.body.data.groups.nodes).toEqual([{ id: expect.any(String) }]);
  });

  it('refuses several operations without an operationName (OPERATION_NAME_REQUIRED), naming them', async () => {
    const ws = await h.workspace();
    for (const operationName of [undefined, null]) {
      const extensions = expectRefused(await run(h, ws, DOCUMENT, operationName), 'OPERATION_NAME_REQUIRED');
      expect(extensions.operations).toEqual(['Cheap', 'Expensive', 'Viewer']);
    }
  });

  it('refuses an operationName the document does not have (OPERATION_NOT_FOUND), even with one operation', async () => {
    const ws = await h.workspace();
    const extensions = expectRefused(await run(h, ws, DOCUMENT, 'Missing'), 'OPERATION_NOT_FOUND');
    expect(extensions).toMatchObject({ operationName: 'Missing', operations: ['Cheap', 'Expensive', 'Viewer'] });
    expectRefused(await run(h, ws, 'query Only { viewer { scopes } }', 'Other'), 'OPERATION_NOT_FOUND');
    // One operation and no name runs it, named or not.
    expect((await run(h, ws, 'query Only { viewer { scopes } }')).body.data.viewer.scopes.length).toBeGreaterThan(0);
    expect((await run(h, ws, '{ viewer { scopes } }')).body.data.viewer.scopes.length).toBeGreaterThan(0);
  });

  it('prices only the operation that runs: the cheap one runs beside an over-priced one, which is refused when named', async () => {
    const ws = await h.workspace();
    const cheap = await run(h, ws, DOCUMENT, 'Cheap');
    expect(cheap.status).toBe(200);
    expect(cheap.body.extensions!.rateLimit.queryCost).toBe(CHEAP_COST);
    const expensive = expectRefused(await run(h, ws, DOCUMENT, 'Expensive'), 'QUERY_TOO_COMPLEX');
    expect(expensive).toMatchObject({ cost: LIMITS.maxCost + 1, maximum: LIMITS.maxCost });
  });

  it('keeps a price per operation of the same document: a price cached for one is never reused for another', async () => {
    const ws = await h.workspace();
    // The same text each time (Apollo hands back the same parsed document), in both orders.
    const document = `${DOCUMENT}# cache order test`;
    expectRefused(await run(h, ws, document, 'Expensive'), 'QUERY_TOO_COMPLEX');
    expect((await run(h, ws, document, 'Cheap')).body.extensions!.rateLimit.queryCost).toBe(CHEAP_COST);
    expectRefused(await run(h, ws, document, 'Expensive'), 'QUERY_TOO_COMPLEX');
    expect((await run(h, ws, document, 'Viewer')).body.extensions!.rateLimit.queryCost).toBe(1);
    expect((await run(h, ws, document, 'Cheap')).body.extensions!.rateLimit.queryCost).toBe(CHEAP_COST);
  });

  it('still holds the whole document to the depth limit, whichever operation runs', async () => {
    const ws = await h.workspace();
    const deep = `{ group(id: "1") { ${'parent { '.repeat(LIMITS.maxDepth)}id${' }'.repeat(LIMITS.maxDepth)} } }`;
    expectRefused(await run(h, ws, `query Shallow { viewer { scopes } } query Deep ${deep}`, 'Shallow'), 'QUERY_TOO_DEEP');
  });
});

type Errors = { message: string; extensions?: Record<string, any> }[];

interface Sub {
  results: { data?: any; errors?: Errors }[];
  errors?: Errors;
}

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
});

function subscribe(h: Harness, ws: Workspace, query: string, operationName?: string): Sub {
  const client = createClient({
    url: `${h.baseUrl.replace('http', 'ws')}/graphql/ws`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ws.adminKey}` },
    retryAttempts: 0,
  });
  clients.push(client);
  const sub: Sub = { results: [] };
  client.subscribe(
    { query, operationName },
    {
      next: (value) => sub.results.push(value as Sub['results'][number]),
      error: (error) => (sub.errors = Array.isArray(error) ? (error as Errors) : [{ message: String(error) }]),
      complete: () => undefined,
    },
  );
  return sub;
}

const refusedWith = async (sub: Sub) => (await waitFor('the subscription to be refused', () => sub.errors)).map((e) => e.extensions?.code);

const SUBSCRIPTIONS = `
query Now { viewer { scopes } }
subscription Light { groupChanges { action } }
subscription Heavy { groupChanges { group { descendants(first: 100) { nodes { ancestors { descendants(first: 100) { nodes { id } } } } } } } }
`;

eachBackend('documents with several operations, over the WebSocket', (h) => {
  it('subscribes to the operation operationName names, prices only it, and refuses as HTTP does', async () => {
    const ws = await h.workspace();
    expect(await refusedWith(subscribe(h, ws, SUBSCRIPTIONS))).toEqual(['OPERATION_NAME_REQUIRED']);
    expect(await refusedWith(subscribe(h, ws, SUBSCRIPTIONS, 'Missing'))).toEqual(['OPERATION_NOT_FOUND']);
    expect(await refusedWith(subscribe(h, ws, SUBSCRIPTIONS, 'Heavy'))).toEqual(['QUERY_TOO_COMPLEX']);
    expect(await refusedWith(subscribe(h, ws, SUBSCRIPTIONS, 'Now'))).toEqual(['BAD_REQUEST']);

    const light = subscribe(h, ws, SUBSCRIPTIONS, 'Light');
    const group = await ws.group('watched');
    await untilSeen('a change on the Light subscription', async (i, patienceMs) => {
      await ws.ok('mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id } }', { id: group, input: { name: `poke ${i}` } });
      return waitFor('an event', () => light.results.length > 0 || light.errors, patienceMs).then(
        () => true,
        () => false,
      );
    });
    expect(light.errors).toBeUndefined();
    // Light's selection only: the event carries the action and nothing of Heavy's.
    expect(light.results[0]).toEqual({ data: { groupChanges: { action: expect.stringMatching(/^GROUP_(CREATED|RENAMED)$/) } } });
  });
});
