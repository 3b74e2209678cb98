// A failure's HTTP status and retry hint are decided once, at the edge (src/edge/failures.ts), and
// each transport renders only its body: the same failure is the same status on GraphQL, REST, SCIM
// and the app's own routes, each in its own shape.
import { UnauthenticatedError } from '../src/auth/errors';
import { WriteQueueTimeoutError } from '../src/db';
import { ConflictError, ForbiddenError, NotFoundError, PreconditionFailedError, ValidationError } from '../src/domain/errors';
import { ClientGoneError, QueryTooComplexError, RateLimitedError, TimeoutError, UnavailableError } from '../src/edge/errors';
import { type KnownError, httpAnswer, knownError } from '../src/edge/failures';
import { ERROR_SCHEMA } from '../src/scim/errors';
import { type Harness, type Response, eachBackend } from './support/harness';

describe('the status and headers of a failure (httpAnswer)', () => {
  it.each<[string, KnownError, number, Record<string, string>]>([
    ['an unreachable database', new UnavailableError(), 503, { 'retry-after': '2' }],
    ['a spent budget', new RateLimitedError('over', 7), 429, { 'retry-after': '7' }],
    ['a deadline', new TimeoutError(100), 504, {}],
    ['a query priced too high', new QueryTooComplexError('too complex'), 400, {}],
    ['a client that left', new ClientGoneError(), 499, {}],
    ['a missing credential', new UnauthenticatedError('missing'), 401, { 'www-authenticate': 'Bearer' }],
    ['a missing scope', new ForbiddenError('no', [['groups:write']]), 403, { 'www-authenticate': 'Bearer error="insufficient_scope", scope="groups:write"' }],
    ['bad input', new ValidationError('name', 'empty'), 400, {}],
    ['an unknown group addressed', new NotFoundError('Group', 3, 'id'), 404, {}],
    ['an unknown group without a field', new NotFoundError('Group', 3), 404, {}],
    ['an unknown parent in the body', new NotFoundError('Group', 3, 'parentId'), 400, {}],
    ['an unknown member in the body', new NotFoundError('User', '4, 5', 'members'), 400, {}],
    ['a duplicate', new ConflictError('taken', { field: 'name' }), 409, {}],
    ['a stale If-Match', new PreconditionFailedError('Group', 3, 2), 412, {}],
  ])('answers %s with its status and headers', (_, error, status, headers) => {
    expect(httpAnswer(error)).toEqual({ status, headers });
  });

  it('knows a failure by what it stands for: a queue too deep is RATE_LIMITED, a stopped request its reason, a bug nothing', () => {
    const queued = knownError(new WriteQueueTimeoutError(8000, 3));
    expect(queued).toBeInstanceOf(RateLimitedError);
    expect(httpAnswer(queued!)).toEqual({ status: 429, headers: { 'retry-after': '3' } });
    const stopped = new AbortController();
    stopped.abort(new TimeoutError(50));
    expect(knownError(new Error('statement cancelled'), stopped)).toBe(stopped.signal.reason);
    expect(knownError(new Error('a bug'))).toBeNull();
    expect(knownError(new TypeError('x is undefined'), new AbortController())).toBeNull();
  });
});

interface Shapes {
  graphql: Response;
  rest: Response;
  scim: Response;
}

async function askEveryTransport(h: Harness, slug: string, headers: Record<string, string>): Promise<Shapes> {
  return {
    graphql: await h.request('POST', '/graphql', { headers, body: { query: '{ viewer { scopes } }' } }),
    rest: await h.request('GET', `/t/${slug}/api/v1/groups`, { headers }),
    scim: await h.request('GET', `/t/${slug}/scim/v2/Users`, { headers }),
  };
}

function expectShapes(shapes: Shapes, status: number, codes: { graphql: string; rest: string }): void {
  for (const res of Object.values(shapes)) expect(res.status).toBe(status);
  expect(shapes.graphql.body.errors[0].extensions.code).toBe(codes.graphql);
  expect(shapes.rest.body.error.code).toBe(codes.rest);
  expect(shapes.scim.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  expect(shapes.scim.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: String(status) });
}

eachBackend('one failure, one status, each transport its own body', (h) => {
  it('answers a missing credential 401 with a Bearer challenge everywhere', async () => {
    const ws = await h.workspace();
    const shapes = await askEveryTransport(h, ws.tenant.slug, {});
    expectShapes(shapes, 401, { graphql: 'UNAUTHENTICATED', rest: 'unauthenticated' });
    for (const res of Object.values(shapes)) expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('answers a URL no route serves 404 in the shape of the API it is under', async () => {
    const ws = await h.workspace();
    const auth = { authorization: `Bearer ${ws.adminKey}` };
    const rest = await h.request('GET', `/t/${ws.tenant.slug}/api/v1/nowhere`, { headers: auth });
    expect(rest.status).toBe(404);
    expect(rest.body.error).toEqual({ code: 'not_found', message: `no route GET /t/${ws.tenant.slug}/api/v1/nowhere` });
    const scim = await h.request('GET', `/t/${ws.tenant.slug}/scim/v2/Nowhere`, { headers: auth });
    expect(scim.status).toBe(404);
    expect(scim.body).toEqual({ schemas: [ERROR_SCHEMA], status: '404', detail: `no SCIM endpoint GET /t/${ws.tenant.slug}/scim/v2/Nowhere` });
  });
});

eachBackend(
  "an address over its budget: refused by the app's own hook, answered by each transport",
  (h) => {
    it('answers 429 with Retry-After on GraphQL, REST, SCIM and the app routes, each in its shape', async () => {
      const ws = await h.workspace();
      const auth = { authorization: `Bearer ${ws.adminKey}` };
      // The budget of 4 requests a window is spent by the first round (one request each, and this one).
      expect((await h.request('GET', '/nowhere')).status).toBe(404);
      await askEveryTransport(h, ws.tenant.slug, auth);
      const shapes = await askEveryTransport(h, ws.tenant.slug, auth);
      expectShapes(shapes, 429, { graphql: 'RATE_LIMITED', rest: 'rate_limited' });
      for (const res of Object.values(shapes)) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      const page = await h.request('GET', '/nowhere');
      expect(page.status).toBe(429);
      expect(page.body.error.code).toBe('rate_limited');
    });
  },
  { traffic: { requestsPerAddress: 4 } },
);
