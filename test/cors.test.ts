// Pages of other origins: CORS for the origins of CORS_ORIGINS (preflights, headers on every
// answer, refusals included), none for any other; the WebSocket's Origin rule; the schema's SDL
// at GET /schema.graphql under the rule of introspection, and the introspection refusal itself.
import { createClient } from 'graphql-ws';
import { buildSchema as parseSchema, printSchema } from 'graphql';
import WebSocket from 'ws';
import { ConfigError, DEVELOPMENT_ORIGINS, corsOrigins, queryLimits } from '../src/config';
import { buildSchema } from '../src/graphql/schema';
import { type Harness, MAX_GROUP_DEPTH, eachBackend } from './support/harness';
import { waitFor } from './support/wait';

const LISTED = 'http://app.example.test:5173';
const UNLISTED = 'http://evil.example.test';

/** The access-control-* headers of an answer. */
function corsHeaders(headers: Headers): Record<string, string> {
  return Object.fromEntries([...headers].filter(([name]) => name.startsWith('access-control-')));
}

function exposed(headers: Headers): string[] {
  return (headers.get('access-control-expose-headers') ?? '').split(',').map((name) => name.trim());
}

const preflight = (h: Harness, path: string, origin: string, method: string) =>
  h.request('OPTIONS', path, { headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization,content-type' } });

/** Opens a WebSocket to /graphql/ws with these headers: the upgrade's HTTP status (101 when it opened). */
function upgradeStatus(h: Harness, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${h.baseUrl.replace('http', 'ws')}/graphql/ws`, 'graphql-transport-ws', { headers });
    socket.once('upgrade', (res) => {
      resolve(res.statusCode ?? 0);
      socket.close();
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    socket.once('error', (error) => reject(error));
  });
}

/** The errors a one-off WebSocket operation is answered with. */
async function overWebSocket(h: Harness, key: string, query: string): Promise<{ message: string; extensions?: Record<string, unknown> }[]> {
  const client = createClient({ url: `${h.baseUrl.replace('http', 'ws')}/graphql/ws`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, retryAttempts: 0 });
  let errors: { message: string; extensions?: Record<string, unknown> }[] | undefined;
  client.subscribe({ query }, { next: () => undefined, error: (e) => void (errors = e as typeof errors), complete: () => undefined });
  try {
    return await waitFor('the operation to be refused', () => errors);
  } finally {
    await client.dispose();
  }
}

describe('CORS_ORIGINS', () => {
  it('defaults to the local dev servers, and to none in production', () => {
    expect(corsOrigins({})).toEqual(DEVELOPMENT_ORIGINS);
    expect(DEVELOPMENT_ORIGINS).toEqual(['http://localhost:5173', 'http://127.0.0.1:5173', 'http://localhost:4173', 'http://127.0.0.1:4173']);
    expect(corsOrigins({ NODE_ENV: 'production' })).toEqual([]);
  });

  it('takes exact origins, comma-separated, or none', () => {
    expect(corsOrigins({ NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example.com, http://localhost:3000' })).toEqual(['https://app.example.com', 'http://localhost:3000']);
    expect(corsOrigins({ CORS_ORIGINS: 'none' })).toEqual([]);
  });

  it.each(['https://app.example.com/', 'https://app.example.com/path', 'app.example.com', '*', 'ftp://files.example.com', 'https://App.example.com', 'http://localhost:80', 'https://a.example.com,'])(
    'refuses %p with a message naming the variable',
    (value) => {
      expect(() => corsOrigins({ CORS_ORIGINS: value })).toThrow(ConfigError);
      expect(() => corsOrigins({ CORS_ORIGINS: value })).toThrow(/CORS_ORIGINS: .* is not an origin/);
    },
  );
});

eachBackend('CORS for a listed origin', (h) => {
  it('answers a preflight of /graphql from a listed origin', async () => {
    const res = await preflight(h, '/graphql', LISTED, 'POST');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(LISTED);
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('vary')).toMatch(/origin/i);
  });

  it('answers a preflight of a REST and a SCIM route, for every method they use', async () => {
    const ws = await h.workspace();
    for (const path of [`/t/${ws.tenant.slug}/api/v1/groups/123`, `/t/${ws.tenant.slug}/scim/v2/Groups/123`]) {
      const res = await preflight(h, path, LISTED, 'PATCH');
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(LISTED);
      expect(res.headers.get('access-control-allow-methods')!.split(/,\s*/)).toEqual(expect.arrayContaining(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']));
    }
  });

  it('gives an unlisted origin no CORS header, on a preflight or an answer', async () => {
    const ws = await h.workspace();
    const refused = await preflight(h, '/graphql', UNLISTED, 'POST');
    expect(refused.status).toBe(404);
    expect(corsHeaders(refused.headers)).toEqual({});
    const answered = await h.request('POST', '/graphql', { headers: { origin: UNLISTED, authorization: `Bearer ${ws.adminKey}` }, body: { query: '{ viewer { scopes } }' } });
    expect(answered.status).toBe(200);
    expect(corsHeaders(answered.headers)).toEqual({});
    const noOrigin = await h.request('POST', '/graphql', { headers: { authorization: `Bearer ${ws.adminKey}` }, body: { query: '{ viewer { scopes } }' } });
    expect(corsHeaders(noOrigin.headers)).toEqual({});
  });

  it('marks answers to a listed origin, exposing the request id and the rate-limit headers', async () => {
    const ws = await h.workspace();
    const headers = { origin: LISTED, authorization: `Bearer ${ws.adminKey}` };
    const graphql = await h.request('POST', '/graphql', { headers, body: { query: '{ viewer { scopes } }' } });
    const rest = await h.request('GET', `/t/${ws.tenant.slug}/api/v1/groups`, { headers });
    for (const res of [graphql, rest]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(LISTED);
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(exposed(res.headers)).toEqual(expect.arrayContaining(['x-request-id', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-used', 'x-ratelimit-reset', 'retry-after', 'www-authenticate']));
      // Every header the page is told it may read is one the service sends.
      expect(res.headers.get('x-ratelimit-remaining')).not.toBeNull();
    }
  });

  it('marks a 401 to a listed origin, so its page can read why', async () => {
    const graphql = await h.request('POST', '/graphql', { headers: { origin: LISTED }, body: { query: '{ viewer { scopes } }' } });
    const rest = await h.request('GET', '/t/anywhere/api/v1/groups', { headers: { origin: LISTED } });
    for (const res of [graphql, rest]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('access-control-allow-origin')).toBe(LISTED);
      expect(exposed(res.headers)).toContain('www-authenticate');
    }
  });

  it('lets a WebSocket open without an Origin, from a listed origin or from the service itself, and refuses any other with 403', async () => {
    const host = new URL(h.baseUrl).host;
    expect(await upgradeStatus(h, {})).toBe(101);
    expect(await upgradeStatus(h, { origin: LISTED })).toBe(101);
    expect(await upgradeStatus(h, { origin: h.baseUrl })).toBe(101);
    expect(await upgradeStatus(h, { origin: UNLISTED })).toBe(403);
    expect(await upgradeStatus(h, { origin: 'null' })).toBe(403);
    expect(await upgradeStatus(h, { origin: `http://${host}.evil.test` })).toBe(403);
  });

  it('serves the schema as SDL to any valid credential, and 401 without one', async () => {
    const ws = await h.workspace();
    const narrowKey = await ws.key(['users:read']);
    const res = await h.request('GET', '/schema.graphql', { headers: { authorization: `Bearer ${narrowKey}`, origin: LISTED } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('access-control-allow-origin')).toBe(LISTED);
    expect(res.headers.get('x-ratelimit-remaining')).not.toBeNull();
    expect(res.body).toBe(printSchema(buildSchema(MAX_GROUP_DEPTH)));
    expect(parseSchema(res.body).getQueryType()?.getFields().groups).toBeDefined();
    const anonymous = await h.request('GET', '/schema.graphql');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('answers introspection while it is on', async () => {
    const ws = await h.workspace();
    expect((await ws.gql('{ __schema { queryType { name } } }')).body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });
}, { app: { corsOrigins: [LISTED], query: queryLimits({}) } });

eachBackend(
  'CORS for a listed origin over its address budget',
  (h) => {
    it('marks the 429 to a listed origin and exposes its Retry-After', async () => {
      const headers = { origin: LISTED };
      // The budget of 2 requests a window is spent by the first two.
      await h.request('GET', '/nowhere', { headers });
      await h.request('GET', '/nowhere', { headers });
      for (const path of ['/graphql', '/t/anywhere/api/v1/groups']) {
        const res = await h.request(path === '/graphql' ? 'POST' : 'GET', path, { headers, body: path === '/graphql' ? { query: '{ viewer { scopes } }' } : undefined });
        expect(res.status).toBe(429);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(res.headers.get('access-control-allow-origin')).toBe(LISTED);
        expect(exposed(res.headers)).toContain('retry-after');
      }
      // A preflight is answered before the address's budget is looked at.
      expect((await preflight(h, '/graphql', LISTED, 'POST')).status).toBe(204);
    });
  },
  { app: { corsOrigins: [LISTED] }, traffic: { requestsPerAddress: 2 } },
);

eachBackend('introspection off', (h) => {
  it('answers GET /schema.graphql 404 INTROSPECTION_DISABLED, with a credential or without', async () => {
    const ws = await h.workspace();
    for (const headers of [{ authorization: `Bearer ${ws.adminKey}` }, {}] as Record<string, string>[]) {
      const res = await h.request('GET', '/schema.graphql', { headers });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ errors: [{ message: expect.stringContaining('GRAPHQL_INTROSPECTION=1'), extensions: { code: 'INTROSPECTION_DISABLED' } }] });
    }
  });

  it('refuses introspection over HTTP saying to set GRAPHQL_INTROSPECTION=1', async () => {
    const ws = await h.workspace();
    const res = await ws.gql('{ __schema { queryType { name } } }');
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors![0].extensions.code).toBe('INTROSPECTION_DISABLED');
    expect(res.body.errors![0].message).toContain('GRAPHQL_INTROSPECTION=1');
    expect(res.body.errors![0].message).not.toMatch(/ApolloServer/);
    expect((await ws.gql('{ __type(name: "Group") { name } }')).body.errors![0].extensions.code).toBe('INTROSPECTION_DISABLED');
    expect((await ws.gql('{ viewer { __typename } }')).body.errors).toBeUndefined();
  });

  it('refuses introspection over WebSocket the same way', async () => {
    const ws = await h.workspace();
    const errors = await overWebSocket(h, ws.adminKey, '{ __schema { queryType { name } } }');
    expect(errors).toEqual([expect.objectContaining({ message: expect.stringContaining('GRAPHQL_INTROSPECTION=1'), extensions: expect.objectContaining({ code: 'INTROSPECTION_DISABLED' }) })]);
  });
}, { app: { query: queryLimits({ NODE_ENV: 'production' }) } });

eachBackend('introspection on, over WebSocket', (h) => {
  it('lets an introspecting document through validation (it is then refused only as a query)', async () => {
    const ws = await h.workspace();
    const errors = await overWebSocket(h, ws.adminKey, '{ __schema { queryType { name } } }');
    expect(errors.map((e) => e.extensions?.code)).toEqual(['BAD_REQUEST']);
  });
}, { app: { query: queryLimits({}) } });
