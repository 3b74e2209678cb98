// Queries are priced and refused before they run; what runs has a deadline and a size cap.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { queryLimits } from '../src/config';
import { ManualClock } from './support/clock';
import { type GraphQLBody, type Harness, MAX_GROUP_DEPTH, type Response, type Workspace, anotherApp, codes, eachBackend, postgresOnly } from './support/harness';
import { Session } from './support/races';
import { waitFor } from './support/wait';

const LIMITS = queryLimits({});

/** The 268-character attack, on connections: `n` nested `ancestors { id descendants(first: 100) { nodes { id …` triples. */
function ancestorsDescendants(groupId: string, pairs: number): string {
  return `{ group(id: "${groupId}") { ${'ancestors { id descendants(first: 100) { nodes { id '.repeat(pairs)}${'} } } '.repeat(pairs)}} }`;
}

function aliases(count: number): string {
  return `{ ${Array.from({ length: count }, (_, i) => `a${i}: viewer { scopes }`).join(' ')} }`;
}

async function chain(ws: Workspace, depth: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < depth; i += 1) ids.push(await ws.group(`level ${i}`, ids[i - 1] ?? null));
  return ids;
}

/** Creates `count` roles and assigns them all to a group, in two statements (a test fixture, not an API path). */
async function bulkGroupRoles(h: Harness, ws: Workspace, groupId: string, count: number): Promise<void> {
  await h.db.raw.query(
    `WITH r AS (INSERT INTO roles (tenant_id, name) SELECT $1::int, 'bulk role ' || i FROM generate_series(1, $2::int) AS i RETURNING id)
     INSERT INTO group_roles (tenant_id, group_id, role_id) SELECT $1::int, $3::int, r.id FROM r`,
    [ws.tenant.id, count, Number(groupId)],
  );
}

/** Adds `count` children under a group in one statement (a test fixture, not an API path). */
async function bulkChildren(h: Harness, ws: Workspace, parentId: string, count: number): Promise<void> {
  const [parent] = await h.db.raw.query<{ path: number[] }>('SELECT path FROM groups WHERE id = $1', [Number(parentId)]);
  await h.db.raw.query(
    `INSERT INTO groups (id, tenant_id, name, parent_group_id, path)
     SELECT n.id, $1::int, 'bulk ' || n.id, $2::int, $3::int[] || n.id
     FROM (SELECT nextval(pg_get_serial_sequence('groups', 'id'))::int AS id FROM generate_series(1, $4::int)) n`,
    [ws.tenant.id, Number(parentId), parent.path, count],
  );
}

/** Statements a request sends beyond those of `{ viewer { scopes } }`, which only authenticates. */
async function statementsBeyondAuth(h: Harness, ws: Workspace, query: string): Promise<{ extra: number; res: Response<GraphQLBody> }> {
  await ws.gql('{ viewer { scopes } }'); // the key's first use also records lastUsedAt, after the response
  await h.app.settled();
  let before = h.db.statements.total;
  await ws.gql('{ viewer { scopes } }');
  const auth = h.db.statements.total - before;
  before = h.db.statements.total;
  const res = await ws.gql(query);
  return { extra: h.db.statements.total - before - auth, res };
}

function expectRefused(res: Response<GraphQLBody>, code: string): Record<string, any> {
  expect(res.status).toBe(400);
  expect(codes(res.body)).toEqual([code]);
  expect(res.body.data).toBeUndefined();
  return res.body.errors![0].extensions;
}

eachBackend('query limits', (h) => {
  it('refuses the nested ancestors/descendants query that exhausted memory, before any resolver', async () => {
    const ws = await h.workspace();
    const [, , leaf] = await chain(ws, 3);
    // Seven triples are 22 levels deep: refused for depth during validation.
    const deep = await statementsBeyondAuth(h, ws, ancestorsDescendants(leaf, 7));
    expectRefused(deep.res, 'QUERY_TOO_DEEP');
    expect(deep.extra).toBe(0);
    // Three triples (10 levels) are shallow enough, and could return (49 × 100)³ objects.
    const { res, extra } = await statementsBeyondAuth(h, ws, ancestorsDescendants(leaf, 3));
    const extensions = expectRefused(res, 'QUERY_TOO_COMPLEX');
    expect(extensions.maximum).toBe(LIMITS.maxCost);
    expect(extensions.cost).toBeGreaterThan(LIMITS.maxCost);
    expect(extra).toBe(0); // no resolver reached the database
  });

  it('prices a query as the product of list bounds along each path: page sizes (20 when not given) and declared maxima', async () => {
    const ws = await h.workspace();
    await ws.group('root');
    // 1 connection + 10 groups × (1 + the group's parent 1 + children: 1 connection + 20 × 1
    // + ancestors: MAX_GROUP_DEPTH - 1, the most a group can have, × 1)
    const res = await ws.gql('{ groups(first: 10) { totalCount nodes { id parent { id } children { nodes { id } } ancestors { id } } } }');
    expect(res.status).toBe(200);
    const queryCost = 1 + 10 * (1 + 1 + (1 + 20 * 1) + (MAX_GROUP_DEPTH - 1));
    expect(res.body.extensions!.rateLimit).toMatchObject({ queryCost, maxQueryCost: LIMITS.maxCost });
    // `last` sizes a page as `first` does; an edge costs 1 and its node 1, as a node in `nodes` does.
    const backwards = await ws.gql('{ groups(last: 10) { edges { cursor node { id children(first: 5) { nodes { id } } } } } }');
    expect(backwards.status).toBe(200);
    expect(backwards.body.extensions!.rateLimit.queryCost).toBe(1 + 10 * (1 + 1 + (1 + 5 * 1)));
    const scalarsOnly = await ws.gql('{ viewer { scopes } }');
    expect(scalarsOnly.body.extensions!.rateLimit.queryCost).toBe(1);
  });

  it(`accepts a query priced exactly at the maximum (${LIMITS.maxCost}) and refuses one priced one over it, before it runs`, async () => {
    const ws = await h.workspace();
    expect(LIMITS.maxCost).toBe(500_000); // what the queries below are built to price at
    // big: 1 + 98 × (1 + (1 + 100 × (1 + (1 + 49 × 1)))) = 1 + 98 × 5,102 = 499,997;
    // small: 1 + n × 1. Together: 499,998 + n.
    const priced = (n: number) =>
      `{ big: groups(first: 98) { nodes { children(first: 100) { nodes { children(first: 49) { nodes { id } } } } } } small: groups(first: ${n}) { nodes { id } } }`;
    const atMaximum = await ws.gql(priced(2));
    expect(atMaximum.body.errors).toBeUndefined();
    expect(atMaximum.status).toBe(200);
    expect(atMaximum.body.extensions!.rateLimit).toMatchObject({ queryCost: LIMITS.maxCost, maxQueryCost: LIMITS.maxCost });
    const { res: overIt, extra } = await statementsBeyondAuth(h, ws, priced(3));
    expect(expectRefused(overIt, 'QUERY_TOO_COMPLEX')).toMatchObject({ cost: LIMITS.maxCost + 1, maximum: LIMITS.maxCost });
    expect(extra).toBe(0);
  });

  it("accepts the README's example queries and a 100-group page with five relations", async () => {
    const ws = await h.workspace();
    const [root, child] = await chain(ws, 2);
    const user = await ws.user('Ann');
    await ws.addMember(child, user);
    const queries = [
      '{ groups(rootsOnly: true) { totalCount nodes { id name descendants(first: 50) { totalCount nodes { name depth } } effectiveRoles { name } } } }',
      `query Engineering { group(id: "${root}") { name depth ancestors { name }
          children(first: 25) { totalCount pageInfo { hasNextPage endCursor } nodes { name } }
          members(inherited: true, first: 50) { totalCount nodes { name email } } effectiveRoles { name } }
        user(id: "${user}") { name effectiveRoles { role { name } direct via { name } } } }`,
      '{ groups(first: 100) { nodes { parent { id } children(first: 100) { nodes { id } } ancestors { id } members(first: 100) { nodes { id } } effectiveRoles { id } } } }',
    ];
    for (const query of queries) {
      const res = await ws.gql(query);
      expect(res.body.errors).toBeUndefined();
      expect(res.status).toBe(200);
    }
  });

  it(`refuses a query deeper than ${LIMITS.maxDepth} levels, counting through fragments`, async () => {
    const ws = await h.workspace();
    const [root] = await chain(ws, 1);
    const nested = (levels: number) => `{ group(id: "${root}") { ${'parent { '.repeat(levels)}id${' }'.repeat(levels)} } }`;
    expect((await ws.gql(nested(LIMITS.maxDepth - 2))).status).toBe(200);
    expect(expectRefused(await ws.gql(nested(LIMITS.maxDepth)), 'QUERY_TOO_DEEP').maximum).toBe(LIMITS.maxDepth);
    const viaFragments = `query { group(id: "${root}") { ...P } } fragment P on Group { ${'parent { '.repeat(LIMITS.maxDepth)}id${' }'.repeat(LIMITS.maxDepth)} }`;
    expectRefused(await ws.gql(viaFragments), 'QUERY_TOO_DEEP');
  });

  it('refuses too many aliases, and a 2,000-alias query in one cheap step', async () => {
    const ws = await h.workspace();
    expect((await ws.gql(aliases(LIMITS.maxAliases))).status).toBe(200);
    expect(expectRefused(await ws.gql(aliases(LIMITS.maxAliases + 1)), 'TOO_MANY_ALIASES').maximum).toBe(LIMITS.maxAliases);
    const { res: huge, extra } = await statementsBeyondAuth(h, ws, aliases(2000));
    expect(huge.status).toBe(400);
    expect(codes(huge.body)[0]).toMatch(/^(TOO_MANY_ALIASES|TOO_MANY_TOKENS)$/);
    expect(extra).toBe(0);
  });

  it('refuses a document with more tokens than the parser is allowed to read', async () => {
    const ws = await h.workspace();
    const padded = `{ viewer { ${'__typename '.repeat(LIMITS.maxTokens)}} }`;
    const extensions = expectRefused(await ws.gql(padded), 'TOO_MANY_TOKENS');
    expect(extensions.maximum).toBe(LIMITS.maxTokens);
  });

  it('runs one operation per request: the one operationName names, priced alone (test/operations.test.ts has the rest)', async () => {
    const ws = await h.workspace();
    const res = await h.request('POST', '/graphql', {
      headers: { authorization: `Bearer ${ws.adminKey}` },
      body: { query: 'query A { viewer { scopes } } query B { viewer { scopes } }', operationName: 'A' },
    });
    expect(res.status).toBe(200);
    expect(res.body.extensions.rateLimit.queryCost).toBe(1);
    const unnamed = await h.request('POST', '/graphql', {
      headers: { authorization: `Bearer ${ws.adminKey}` },
      body: { query: 'query A { viewer { scopes } } query B { viewer { scopes } }' },
    });
    expectRefused(unnamed, 'OPERATION_NAME_REQUIRED');
  });

  it('keeps the price true: a list holding more than its declared maximum is an error, not a longer list', async () => {
    const ws = await h.workspace();
    const [root] = await chain(ws, 1);
    await bulkGroupRoles(h, ws, root, 101);
    const res = await ws.gql(`{ group(id: "${root}") { id roles { id } } }`);
    expect(codes(res.body)).toEqual(['LIST_TOO_LARGE']);
    expect(res.body.errors![0].extensions).toMatchObject({ count: 101, maximum: 100 });
    expect(res.body.errors![0].path).toEqual(['group', 'roles']);
    const page = await ws.gql('{ roles(first: 100) { totalCount nodes { id } pageInfo { hasNextPage } } }');
    expect(page.body.data.roles).toMatchObject({ totalCount: 101, pageInfo: { hasNextPage: true } });
    expect(page.body.data.roles.nodes).toHaveLength(100);
  });

  it('keeps the price true for connections: a page is at most 100 (first or last: 101 is BAD_USER_INPUT), however long the list', async () => {
    const ws = await h.workspace();
    const [root] = await chain(ws, 1);
    await bulkChildren(h, ws, root, 201);
    for (const size of ['first', 'last']) {
      const res = await ws.gql(`{ group(id: "${root}") { id children(${size}: 101) { nodes { id } } } }`);
      // Refused while priced, before anything runs.
      expect(res.status).toBe(400);
      expect(codes(res.body)).toEqual(['BAD_USER_INPUT']);
      expect(res.body.errors![0].extensions).toMatchObject({ field: size, maximum: 100 });
      expect(res.body.data).toBeUndefined();
    }
    const page = await ws.gql(`{ group(id: "${root}") { children(first: 100) { totalCount nodes { id } pageInfo { hasNextPage } } } }`);
    expect(page.body.errors).toBeUndefined();
    expect(page.body.data.group.children).toMatchObject({ totalCount: 201, pageInfo: { hasNextPage: true } });
    expect(page.body.data.group.children.nodes).toHaveLength(100);
    const listed = await ws.gql(`{ groups(parentId: "${root}", first: 100) { totalCount } }`);
    expect(listed.body.data.groups.totalCount).toBe(201);
  });

  it('suggests field names and answers introspection outside production', async () => {
    const ws = await h.workspace();
    const typo = await ws.gql('{ viewer { scope } }');
    expect(typo.body.errors![0].message).toMatch(/Did you mean "scopes"\?/);
    const introspection = await ws.gql('{ __schema { queryType { name } } }');
    expect(introspection.body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });
  // A clock that stands still: a remembered key does not age out of the credential cache between
  // the requests statementsBeyondAuth compares, however long they take, and its use is recorded once.
}, { app: { clock: new ManualClock() } });

eachBackend('query limits in production', (h) => {
  it('gives no field suggestions and refuses introspection', async () => {
    const ws = await h.workspace();
    const typo = await ws.gql('{ viewer { scope } }');
    expect(typo.status).toBe(400);
    expect(typo.body.errors![0].message).not.toMatch(/Did you mean/);
    const introspection = await ws.gql('{ __schema { queryType { name } } }');
    expect(introspection.status).toBe(400);
    expect(introspection.body.errors![0]).toMatchObject({ message: expect.stringContaining('set GRAPHQL_INTROSPECTION=1'), extensions: { code: 'INTROSPECTION_DISABLED' } });
  });
}, { app: { query: queryLimits({ NODE_ENV: 'production' }) } });

eachBackend('query limits in production with GRAPHQL_INTROSPECTION=1', (h) => {
  it('answers introspection but still gives no suggestions', async () => {
    const ws = await h.workspace();
    expect((await ws.gql('{ __schema { queryType { name } } }')).body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    expect((await ws.gql('{ viewer { scope } }')).body.errors![0].message).not.toMatch(/Did you mean/);
  });
}, { app: { query: queryLimits({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: '1' }) } });

eachBackend('response size cap', (h) => {
  it('answers RESPONSE_TOO_LARGE instead of a response over the cap', async () => {
    const ws = await h.workspace();
    for (let i = 0; i < 20; i += 1) await ws.group(`a group with a name long enough to take some room ${i}`);
    const small = await ws.gql('{ viewer { scopes } }');
    expect(small.status).toBe(200);
    const res = await ws.gql('{ groups(first: 100) { nodes { id name description createdAt updatedAt } } }');
    expect(res.status).toBe(400);
    expect(codes(res.body)).toEqual(['RESPONSE_TOO_LARGE']);
    expect(res.body.errors![0].extensions.maximum).toBe(2048);
  });
}, { app: { query: { ...queryLimits({}), maxResponseBytes: 2048 } } });

eachBackend('request deadline', (h) => {
  it('answers TIMEOUT (504) past the deadline, in both API shapes, and keeps serving', async () => {
    const ws = await h.workspace();
    // The deadline is 1 ms: every request is past it before its first statement.
    const res = await ws.gql('{ groups { nodes { id } } }');
    expect(res.status).toBe(504);
    expect(codes(res.body)).toEqual(['TIMEOUT']);
    expect(res.body.errors![0].extensions.deadlineMs).toBe(1);
    const rest = await h.request('GET', `/t/${ws.tenant.slug}/api/v1/groups`, { headers: { authorization: `Bearer ${ws.adminKey}` } });
    expect(rest.status).toBe(504);
    expect(rest.body.error.code).toBe('timeout');
    expect((await h.request('GET', '/healthz')).status).toBe(200);
  });
}, { traffic: { requestTimeoutMs: 1 } });

/** An ACCESS EXCLUSIVE lock on `groups`, held by a session of the test's own: reads of groups wait for it. */
async function lockGroups(): Promise<{ waitedOnBy(applicationName: string): Promise<void>; waitersOf(applicationName: string): Promise<number>; release(): Promise<void> }> {
  const session = await Session.open();
  await session.hold('LOCK TABLE groups IN ACCESS EXCLUSIVE MODE', []);
  let released = false;
  return {
    /** Resolves once a connection named `applicationName` waits for the lock. */
    waitedOnBy: async (applicationName) => {
      await waitFor(`a statement of ${applicationName} to wait for the lock on groups`, async () => (await session.waitingFor([session.pid], applicationName)).length > 0);
    },
    /** How many statements of connections named `applicationName` wait for the lock now. */
    waitersOf: async (applicationName) => (await session.waitingFor([session.pid], applicationName)).length,
    release: async () => {
      if (released) return;
      released = true;
      await session.close();
    },
  };
}

/**
 * The moments the server reaches with one request (picked by its x-request-id): `closed` once it
 * has heard the client's connection close, `ended` once it has finished with the request and
 * writes its answer (to a closed socket, if the client has gone). By then the request has started
 * every statement it was going to start.
 */
function watchRequest(h: Harness, requestId: string): { closed: () => Promise<void>; ended: () => Promise<void> } {
  let closed = false;
  let ended = false;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers['x-request-id'] !== requestId) return;
    h.app.server.off('request', onRequest);
    res.once('close', () => (closed = true));
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      ended = true;
      return end(...args);
    }) as typeof res.end;
  };
  h.app.server.on('request', onRequest);
  return {
    closed: async () => {
      await waitFor(`the server to hear request ${requestId}'s client leave`, () => closed);
    },
    ended: async () => {
      await waitFor(`the server to finish request ${requestId}`, () => ended);
    },
  };
}

const NESTED = '{ groups(first: 5) { nodes { id children { nodes { id children { nodes { id } } } } } } }';
/** NESTED's first statement alone: the page of groups. */
const PAGE_ONLY = '{ groups(first: 5) { nodes { id } } }';
/**
 * The deadline of the app the deadline test sends its request to: no request needs that long to
 * reach its first statement, even on a busy machine; the request is then parked on a lock, and the
 * deadline is what must end it.
 */
const DEADLINE_MS = 3000;
/** The two apps' connections, told apart in pg_stat_activity. */
const APP = 'kauth-test-limits';
const APP_WITH_DEADLINE = 'kauth-test-limits-deadline';
/**
 * Every request looks its key up (no credential cache, whose entries age) and records its use at
 * most once (lastUsedAt is written once a minute, and this clock stands still): a request sends
 * the same statements each time, however long the test takes.
 */
const SAME_STATEMENTS = { credentialCache: false, clock: new ManualClock() };
/** The log lines of the app the disconnect tests send requests to. */
const logged: Record<string, any>[] = [];

postgresOnly('stopping work at the deadline and when the client leaves', (h) => {
  // The same database through an app whose deadline a request parked on a lock will pass.
  const withDeadline = anotherApp({ applicationName: APP_WITH_DEADLINE, traffic: { requestTimeoutMs: DEADLINE_MS }, app: SAME_STATEMENTS });

  /** Statements `app` sends while `during` runs. */
  async function statementsDuring(app: Harness, during: () => Promise<unknown>): Promise<number> {
    await app.app.settled(); // the recording of a key's first use, if it is still under way
    const before = app.db.statements.total;
    await during();
    return app.db.statements.total - before;
  }

  /** NESTED's statements, and those of its first statement alone (each with the key's lookup). */
  async function reference(ws: Workspace): Promise<{ normal: number; pageOnly: number }> {
    await chain(ws, 3);
    const normal = await statementsDuring(h, () => ws.gql(NESTED));
    const pageOnly = await statementsDuring(h, () => ws.gql(PAGE_ONLY));
    expect(pageOnly).toBeLessThan(normal);
    return { normal, pageOnly };
  }

  it('starts no further statement once the deadline has passed, and answers TIMEOUT', async () => {
    const ws = await h.workspace();
    const { pageOnly } = await reference(ws);
    const late = ws.through(withDeadline);
    await late.gql('{ viewer { scopes } }'); // the key's first use through this app records lastUsedAt
    const lock = await lockGroups();
    let res: Response<GraphQLBody> | undefined;
    const stopped = await statementsDuring(withDeadline, async () => {
      try {
        let answered = false;
        const pending = late.gql(NESTED).finally(() => (answered = true));
        await lock.waitedOnBy(APP_WITH_DEADLINE);
        // At its deadline the request stops and its page query is cancelled: it answers while the lock is still held.
        // The cancel request is sent, not waited for (src/db/cancel.ts): PostgreSQL may act on it just after the answer,
        // but while the lock is held (a statement left waiting would wait until the release below).
        await waitFor('the request to answer at its deadline', () => answered);
        await waitFor('its page query to be cancelled while the lock is held', async () => (await lock.waitersOf(APP_WITH_DEADLINE)) === 0, 10_000);
        res = await pending;
      } finally {
        await lock.release();
      }
    });
    expect(res!.status).toBe(504);
    expect(codes(res!.body)).toEqual(['TIMEOUT']);
    expect(res!.body.errors![0].extensions.deadlineMs).toBe(DEADLINE_MS);
    // The page was under way; the children (batched, both levels asking the same page window) never started.
    expect(stopped).toBe(pageOnly);
  });

  it("stops the request's work when its client disconnects", async () => {
    const ws = await h.workspace();
    const { pageOnly } = await reference(ws);
    const lock = await lockGroups();
    const stopped = await statementsDuring(h, async () => {
      try {
        const request = watchRequest(h, 'client-leaves');
        const controller = new AbortController();
        const pending = fetch(`${h.baseUrl}/graphql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ws.adminKey}`, 'content-type': 'application/json', 'x-request-id': 'client-leaves' },
          body: JSON.stringify({ query: NESTED }),
          signal: controller.signal,
        }).catch((error: Error) => error);
        await lock.waitedOnBy(APP);
        controller.abort();
        expect(await pending).toHaveProperty('name', 'AbortError');
        await request.closed();
        // The page query goes on; what would follow it must not start.
        await lock.release();
        await request.ended();
      } finally {
        await lock.release();
      }
    });
    expect(stopped).toBe(pageOnly);
    expect((await ws.gql('{ viewer { scopes } }')).status).toBe(200);
  });

  it('cancels the statement that is running when its client leaves (it ran on until the deadline), and logs the request as client gone', async () => {
    const ws = await h.workspace();
    await chain(ws, 2);
    const lock = await lockGroups();
    try {
      const request = watchRequest(h, 'client-leaves-mid-statement');
      const controller = new AbortController();
      const pending = fetch(`${h.baseUrl}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ws.adminKey}`, 'content-type': 'application/json', 'x-request-id': 'client-leaves-mid-statement' },
        body: JSON.stringify({ query: NESTED }),
        signal: controller.signal,
      }).catch((error: Error) => error);
      await lock.waitedOnBy(APP);
      controller.abort();
      await pending;
      await request.closed();
      // The lock is still held, and PostgreSQL's statement_timeout is 2 minutes: only a cancelled statement stops waiting.
      await waitFor('the statement to be cancelled', async () => (await lock.waitersOf(APP)) === 0);
    } finally {
      await lock.release();
    }
    const line = await waitFor('the log line', () => logged.find((entry) => entry.reqId === 'client-leaves-mid-statement'));
    expect(line).toMatchObject({ msg: 'client gone', status: 499, route: '/graphql' });
    // The pool gives a fresh connection to what comes next.
    expect((await ws.gql('{ groups(first: 1) { nodes { id } } }')).status).toBe(200);
  });
}, { applicationName: APP, pool: { statementTimeoutMs: 120_000 }, app: { ...SAME_STATEMENTS, logger: { level: 'info', stream: { write: (line: string) => logged.push(JSON.parse(line)) } } } });
