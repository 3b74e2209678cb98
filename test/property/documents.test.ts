// Random documents built from schema.graphql (test/support/document-generator.ts), sent to the
// real server over HTTP, and subscriptions over the WebSocket: whatever the document, the server
// fails closed. It never answers 5xx or INTERNAL_SERVER_ERROR; a refusal carries a code; an answer
// with data carries its price (`queryCost`) and the objects it resolved, never more than the
// price; no promise is left to reject unhandled; and memory stays bounded.
//
// 300 documents per backend by default. For thousands:
//   KAUTH_PROPERTY_RUNS=5000 NODE_OPTIONS=--experimental-vm-modules npx jest test/property
// A failure prints the seed and path that replay it: KAUTH_PROPERTY_SEED=<seed> KAUTH_PROPERTY_PATH=<path>.
import fc from 'fast-check';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { type GeneratedDocument, type KnownIds, documents, readSchema } from '../support/document-generator';
import { type GraphQLBody, type Harness, type Response, type Workspace, eachBackend } from '../support/harness';

const RUNS = Number(process.env.KAUTH_PROPERTY_RUNS ?? 300);
const SEED = process.env.KAUTH_PROPERTY_SEED ? Number(process.env.KAUTH_PROPERTY_SEED) : undefined;
const PATH = process.env.KAUTH_PROPERTY_PATH;
/** Every answer with data reports how many objects it resolved. */
const REQUIRE_OBJECT_COUNT = true;
/** The app runs in this Jest worker: its heap is this process's. */
const HEAP_LIMIT_BYTES = 1.5 * 1024 ** 3;
/** How long a subscription is given to be refused before it counts as accepted. */
const REFUSAL_WAIT_MS = 150;
/** The WebSocket server's maxPayload: a larger message closes the socket (1009) instead of being answered. */
const WEBSOCKET_MAX_PAYLOAD = 64 * 1024;

/**
 * The worker's own process. Jest hands tests a sandboxed `process` that never hears of a promise
 * rejected with nobody to handle it; the app runs in this worker, and in production such a
 * rejection ends the process.
 */
const workerProcess = (Buffer.constructor as FunctionConstructor)('return process')() as NodeJS.Process;

type Errors = { message: string; extensions?: Record<string, unknown> }[];

function expectThat(condition: boolean, what: string, evidence: unknown): void {
  if (condition) return;
  const shown = JSON.stringify(evidence);
  throw new Error(`${what}: ${shown.length > 3000 ? `${shown.slice(0, 3000)}…` : shown}`);
}

const codeOf = (error: { extensions?: Record<string, unknown> }) => error.extensions?.code;

/** Two roots, three children each, three grandchildren each; ten users in two groups each; five roles on groups and users. */
async function seed(ws: Workspace): Promise<KnownIds> {
  const groupIds: string[] = [];
  for (let r = 0; r < 2; r += 1) {
    const root = await ws.group(`root ${r}`, null, 'a root');
    groupIds.push(root);
    for (let c = 0; c < 3; c += 1) {
      const child = await ws.group(`child ${r}.${c}`, root);
      groupIds.push(child);
      for (let g = 0; g < 3; g += 1) groupIds.push(await ws.group(`grandchild ${r}.${c}.${g}`, child, 'a leaf'));
    }
  }
  const userIds: string[] = [];
  for (let u = 0; u < 10; u += 1) {
    const user = await ws.user(`user ${u}`);
    userIds.push(user);
    await ws.addMember(groupIds[(u * 7) % groupIds.length], user);
    await ws.addMember(groupIds[(u * 11 + 3) % groupIds.length], user);
  }
  const roleIds: string[] = [];
  for (let r = 0; r < 5; r += 1) {
    const role = await ws.role(`role ${r}`);
    roleIds.push(role);
    await ws.assignGroupRole(groupIds[(r * 5) % groupIds.length], role);
    await ws.ok('mutation($u: ID!, $r: ID!) { assignUserRole(userId: $u, roleId: $r) { id } }', { u: userIds[r * 2], r: role });
  }
  return { groupIds, userIds, roleIds, cursors: await cursorsOf(ws, groupIds[0]) };
}

/** A few cursors of each kind the server hands out: ids (groups, users, roles), tree paths (descendants), audit events. */
async function cursorsOf(ws: Workspace, rootId: string): Promise<string[]> {
  const data = await ws.ok(
    `query($root: ID!) {
      groups(first: 3) { edges { cursor } } users(last: 3) { edges { cursor } } roles(first: 3) { edges { cursor } }
      auditEvents(first: 3) { edges { cursor } } group(id: $root) { descendants(first: 3) { edges { cursor } } }
    }`,
    { root: rootId },
  );
  const pages = [data.groups, data.users, data.roles, data.auditEvents, data.group.descendants];
  return pages.flatMap((page: { edges: { cursor: string }[] }) => page.edges.map((edge) => edge.cursor));
}

function checkHttpAnswer(res: Response<GraphQLBody>): void {
  const answer = { status: res.status, body: res.body };
  expectThat(res.status < 500, `HTTP ${res.status}, a server error`, answer);
  const errors = Array.isArray(res.body?.errors) ? res.body.errors : [];
  expectThat(!errors.some((e) => codeOf(e) === 'INTERNAL_SERVER_ERROR'), 'an error coded INTERNAL_SERVER_ERROR', answer);
  if (res.status >= 400) {
    expectThat(errors.some((e) => typeof codeOf(e) === 'string'), `HTTP ${res.status} without an error carrying a string extensions.code`, answer);
  }
  if (res.status === 200 && res.body?.data != null) {
    const rateLimit = res.body.extensions?.rateLimit;
    expectThat(typeof rateLimit?.queryCost === 'number', 'data without extensions.rateLimit.queryCost: the query ran unpriced', answer);
    if (REQUIRE_OBJECT_COUNT || rateLimit.objects !== undefined) {
      expectThat(typeof rateLimit.objects === 'number', 'data without extensions.rateLimit.objects', answer);
      expectThat(rateLimit.objects <= rateLimit.queryCost, `${rateLimit.objects} objects resolved, more than the price of ${rateLimit.queryCost}`, answer);
    }
  }
}

type Outcome =
  | { kind: 'accepted'; results: unknown[] }
  | { kind: 'completed'; results: unknown[] }
  | { kind: 'refused'; errors: Errors }
  | { kind: 'closed'; code: number; reason: string };

/** Subscribes on a connection of its own; waits for a refusal, a result that ends it, or a short while (then it was accepted). */
async function subscribeOnce(h: Harness, key: string, doc: GeneratedDocument): Promise<Outcome> {
  let settle!: (outcome: Outcome) => void;
  const settled = new Promise<Outcome>((resolve) => (settle = resolve));
  const closed = (event: unknown) => {
    const { code, reason } = event as { code?: number; reason?: string };
    settle({ kind: 'closed', code: code ?? -1, reason: String(reason ?? event) });
  };
  const results: unknown[] = [];
  const client = createClient({
    url: `${h.baseUrl.replace('http', 'ws')}/graphql/ws`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    on: { closed },
  });
  const stop = client.subscribe(
    { query: doc.query, variables: doc.variables },
    {
      next: (result) => results.push(result),
      error: (error) => (Array.isArray(error) ? settle({ kind: 'refused', errors: error as Errors }) : closed(error)),
      complete: () => settle({ kind: 'completed', results }),
    },
  );
  const timer = setTimeout(() => settle({ kind: 'accepted', results }), REFUSAL_WAIT_MS);
  const outcome = await settled;
  clearTimeout(timer);
  stop();
  await client.dispose();
  return outcome;
}

function checkSubscription(doc: GeneratedDocument, outcome: Outcome): void {
  const errorsIn = (results: unknown[]) => results.flatMap((result) => (result as { errors?: Errors }).errors ?? []);
  switch (outcome.kind) {
    case 'refused':
      expectThat(outcome.errors.length > 0 && outcome.errors.every((e) => typeof codeOf(e) === 'string'), 'a subscription refused without a string extensions.code', outcome);
      expectThat(!outcome.errors.some((e) => codeOf(e) === 'INTERNAL_SERVER_ERROR'), 'a subscription refused with INTERNAL_SERVER_ERROR', outcome);
      return;
    case 'accepted':
    case 'completed':
      expectThat(!errorsIn(outcome.results).some((e) => codeOf(e) === 'INTERNAL_SERVER_ERROR'), 'a subscription result with INTERNAL_SERVER_ERROR', outcome);
      expectThat(errorsIn(outcome.results).every((e) => typeof codeOf(e) === 'string'), 'a subscription result with an error without a string extensions.code', outcome);
      return;
    case 'closed': {
      const size = Buffer.byteLength(JSON.stringify({ query: doc.query, variables: doc.variables }));
      expectThat(outcome.code === 1009 && size > WEBSOCKET_MAX_PAYLOAD, `the socket closed (${outcome.code}) instead of an answer`, outcome);
    }
  }
}

const schema = readSchema();

eachBackend('random documents', (h) => {
  let ws: Workspace;
  let ids: KnownIds;
  beforeAll(async () => {
    ws = await h.workspace();
    ids = await seed(ws);
  }, 120_000);

  it('fail closed: no 5xx, no internal error, a code on every refusal, a price on every answer', async () => {
    const started = Date.now();
    const orphaned: unknown[] = [];
    const onOrphan = (reason: unknown) => orphaned.push(reason);
    workerProcess.on('unhandledRejection', onOrphan);
    let previous: GeneratedDocument | null = null;
    try {
      await fc.assert(
        fc.asyncProperty(documents(schema, ids), async (doc) => {
          if (doc.kind === 'subscription') {
            checkSubscription(doc, await subscribeOnce(h, ws.adminKey, doc));
          } else {
            const res = await h.request<GraphQLBody>('POST', '/graphql', {
              headers: { authorization: `Bearer ${ws.adminKey}` },
              body: { query: doc.query, variables: doc.variables },
            });
            checkHttpAnswer(res);
          }
          // Such a promise may reject after its response is sent, so during the next document: the error names its source.
          const orphans = orphaned.splice(0).map(String);
          expectThat(orphans.length === 0, 'a promise rejected with nobody to handle it', { orphans, previousQuery: previous?.query });
          previous = doc;
          const heap = process.memoryUsage().heapUsed;
          expectThat(heap < HEAP_LIMIT_BYTES, 'the heap grew past its bound', `${Math.round(heap / 2 ** 20)} MiB`);
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED, path: PATH }) },
      );
    } finally {
      workerProcess.off('unhandledRejection', onOrphan);
    }
    process.stdout.write(`random documents [${h.backend}]: ${RUNS} documents in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }, 300_000);
});
