// Pricing fails closed: whatever stops a query from being priced refuses it, and a query that
// resolves more objects than its price is stopped while it runs (issue 25's doors around the price).
import { type DocumentNode, execute, parse } from 'graphql';
import { makePrincipal } from '../src/auth/principal';
import { queryLimits } from '../src/config';
import { QueryTooComplexError } from '../src/edge/errors';
import { createContext } from '../src/graphql/context';
import { buildSchema } from '../src/graphql/schema';
import { RequestWork } from '../src/edge/request-work';
import { ManualClock } from './support/clock';
import { type GraphQLBody, type Response, MAX_GROUP_DEPTH, codes, eachBackend } from './support/harness';

const LIMITS = queryLimits({});
const HEAVY = 'descendants(first: 100) { nodes { id name ancestors { id name } } }';

function expectRefused(res: Response<GraphQLBody>, code: string): Record<string, any> {
  expect(res.status).toBe(400);
  expect(codes(res.body)).toEqual([code]);
  expect(res.body.data).toBeUndefined();
  return res.body.errors![0].extensions;
}

/** Fragments each spreading the one before ten times: 10,000 copies of `selection`, past what graphql-query-complexity walks. */
function fragmentTower(groupId: string, selection: string): string {
  return [
    `{ group(id: "${groupId}") { ...F5 } }`,
    `fragment F1 on Group { ${selection} }`,
    ...[2, 3, 4, 5].map((k) => `fragment F${k} on Group { ${Array.from({ length: 10 }, () => `...F${k - 1}`).join(' ')} }`),
  ].join('\n');
}

eachBackend('pricing fails closed', (h) => {
  it('refuses a query whose fragments expand past what pricing walks (it ran at 1 point, and took 1.5 GB)', async () => {
    const ws = await h.workspace();
    const root = await ws.group('root');
    const before = h.db.statements.total;
    const res = await ws.gql(fragmentTower(root, HEAVY));
    const extensions = expectRefused(res, 'QUERY_TOO_COMPLEX');
    expect(extensions.maximum).toBe(10_000);
    // Authentication's lookups at most: no resolver reached the database.
    expect(h.db.statements.total - before).toBeLessThanOrEqual(2);
  });

  it('refuses a null given for a defaulted variable that a required argument receives, before anything runs', async () => {
    const ws = await h.workspace();
    const root = await ws.group('root');
    const query = `query($id: ID = "${root}") { group(id: $id) { id ${HEAVY} } }`;
    const res = await ws.gql(query, { id: null });
    const extensions = expectRefused(res, 'BAD_USER_INPUT');
    expect(res.body.errors![0].message).toMatch(/must not be null/);
    expect(extensions.field).toBe('arguments');
    // The default still applies when the variable is left out.
    const fine = await ws.gql(query, {});
    expect(fine.status).toBe(200);
    expect(fine.body.data.group.id).toBe(root);
  });

  it('refuses variables that do not coerce with BAD_USER_INPUT, before pricing', async () => {
    const ws = await h.workspace();
    const res = await ws.gql('query($n: Int!) { groups(first: $n) { nodes { id } } }', { n: 'many' });
    expect(expectRefused(res, 'BAD_USER_INPUT').field).toBe('variables');
    expect(res.body.errors![0].message).toMatch(/\$n/);
  });

  it.each([
    ['a negative first', 'first: -2000000000'],
    ['a negative last', 'last: -1'],
    ['a first past the maximum', 'first: 101'],
    ['a huge first', 'first: 2147483647'],
  ])('refuses %s before pricing (it lowered the price to 3)', async (_, page) => {
    const ws = await h.workspace();
    const res = await ws.gql(`{ groups(${page}) { nodes { id } } cheap: groups(first: 100) { nodes { ${HEAVY} } } }`);
    const extensions = expectRefused(res, 'BAD_USER_INPUT');
    expect(extensions).toMatchObject({ field: page.split(':')[0], maximum: 100 });
    // Through a variable, the same.
    const [name, value] = page.split(': ');
    const viaVariable = await ws.gql(`query($n: Int) { groups(${name}: $n) { nodes { id } } }`, { n: Number(value) });
    expectRefused(viaVariable, 'BAD_USER_INPUT');
  });

  it('reports the objects a query resolved beside its price, and they are at most the price', async () => {
    const ws = await h.workspace();
    const root = await ws.group('root');
    for (let i = 0; i < 3; i += 1) await ws.group(`child ${i}`, root);
    const res = await ws.gql(`{ group(id: "${root}") { children(first: 10) { nodes { id } pageInfo { hasNextPage } } } empty: groups(first: 0) { pageInfo { hasNextPage } } }`);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const { objects, queryCost } = res.body.extensions!.rateLimit as { objects: number; queryCost: number };
    // group, its connection, 3 nodes and the pageInfo; the empty page's connection and its pageInfo.
    expect(objects).toBe(1 + 1 + 3 + 1 + 2);
    expect(objects).toBeLessThanOrEqual(queryCost);
  });

  it('stops a query that resolves more objects than its price, and discards what it built', async () => {
    const ws = await h.workspace();
    for (let i = 0; i < 30; i += 1) await ws.group(`g${i}`);
    // A price gone wrong is simulated by the budget: the executor itself must stop the query.
    const schema = buildSchema(MAX_GROUP_DEPTH);
    const principal = makePrincipal(ws.tenant, ['groups:read']);
    const run = async (budget: number, document: DocumentNode) => {
      const work = new RequestWork(60_000);
      work.objectBudget = budget;
      const contextValue = createContext(h.db.prisma, principal, MAX_GROUP_DEPTH, work, new ManualClock(), null);
      const result = await execute({ schema, document, contextValue });
      work.end();
      return { result, work };
    };
    const document = parse('{ groups(first: 30) { nodes { id ancestors { id } children(first: 5) { nodes { id } } } } }');
    const stopped = await run(10, document);
    expect(stopped.work.signal.reason).toBeInstanceOf(QueryTooComplexError);
    expect(stopped.result.errors?.[0].originalError).toBeInstanceOf(QueryTooComplexError);
    // Stopped at the first field past the budget: the 30 nodes, not their 60 lists below.
    expect(stopped.work.objects).toBeLessThanOrEqual(10 + 30);
    const allowed = await run(LIMITS.maxCost, document);
    expect(allowed.result.errors).toBeUndefined();
    // The connection, 30 groups, no ancestors (roots), 30 empty children connections.
    expect(allowed.work.objects).toBe(1 + 30 + 30);
  });

  it('leaves no rejection unhandled when the items of a list fail, some at once and some later (one such request ended the process)', async () => {
    const ws = await h.workspace();
    let parent: string | null = null;
    for (let i = 0; i < 5; i += 1) parent = await ws.group(`level ${i}`, parent);
    const orphaned: unknown[] = [];
    const onOrphan = (reason: unknown) => reason === MARKER || orphaned.push(reason);
    workerProcess.on('unhandledRejection', onOrphan);
    // A turn of the event loop every millisecond: now and then an item's field is pending (it took
    // its turn) when the next item's same field fails at once.
    RequestWork.yieldEveryMs = 1;
    try {
      for (let i = 0; i < 40; i += 1) {
        const res = await ws.gql(`{ group(id: "${parent}") { ancestors { members(after: "x") { totalCount } } } }`);
        expect(codes(res.body)).toContain('BAD_USER_INPUT');
      }
      // One a request leaves behind happens a turn or two after its response is sent, before the test has read it.
      await rejectionsReported();
    } finally {
      RequestWork.yieldEveryMs = 20;
      workerProcess.off('unhandledRejection', onOrphan);
    }
    expect(orphaned.map(String)).toEqual([]);
  });
}, { app: { clock: new ManualClock() } });

/** The worker's own process: Jest's sandboxed `process` never hears of an unhandled rejection. */
const workerProcess = (Buffer.constructor as FunctionConstructor)('return process')() as NodeJS.Process;

/** The reason of the rejections rejectionsReported makes, to know when the earlier ones have been reported. */
const MARKER = new Error("the test's own rejection, a marker");

/**
 * Resolves once every promise rejected so far with nobody to handle it has been reported
 * ('unhandledRejection'): they are reported in the order they were rejected, so once one rejected
 * now (with MARKER) has been, so have they. That one is then handled, and resolves this once Jest
 * has heard so (Jest fails a test for a rejection left unhandled).
 */
async function rejectionsReported(): Promise<void> {
  const marker = Promise.reject(MARKER);
  await new Promise<void>((resolve) => {
    const reported = (_reason: unknown, promise: Promise<unknown>) => {
      if (promise !== marker) return;
      workerProcess.off('unhandledRejection', reported);
      marker.catch(() => undefined);
    };
    const handled = (promise: Promise<unknown>) => {
      if (promise !== marker) return;
      workerProcess.off('rejectionHandled', handled);
      resolve();
    };
    workerProcess.on('unhandledRejection', reported);
    workerProcess.on('rejectionHandled', handled);
  });
}
