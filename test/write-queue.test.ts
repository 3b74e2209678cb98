// A workspace's writes take turns in memory (src/db/write-queue.ts) instead of each holding a
// pooled connection while it waits for the others: a burst costs queueing time, not connections,
// and a write that cannot get its turn in time is a 429 with nothing written.
import { WriteQueue, WriteQueueTimeoutError, workScope, writeQueueOf } from '../src/db';
import { type GraphQLBody, type Harness, type Response, type Workspace, GENEROUS_POOL } from './support/harness';
import { Session, racesOnPostgres } from './support/races';
import { Rest, type RestErrorBody } from './support/rest';
import { waitFor } from './support/wait';

/** A write the test finishes when it wants, recording when it started. */
function controlled(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    work: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    finish: () => finish(),
  };
}

const turnsPassed = () => new Promise((resolve) => setImmediate(resolve));

describe('the write queue', () => {
  it('runs the writes of one workspace one at a time, in the order they came', async () => {
    const queue = new WriteQueue(60_000);
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => controlled(log, name));
    const results = [queue.run(1, a.work), queue.run(1, b.work), queue.run(1, c.work)];
    await turnsPassed();
    expect(log).toEqual(['start a']);
    expect(queue.depth(1)).toBe(3);
    a.finish();
    await turnsPassed();
    expect(log).toEqual(['start a', 'end a', 'start b']);
    b.finish();
    c.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(queue.depth(1)).toBe(0);
  });

  it('runs as many writes of one workspace at once as it is given, the next ones as those finish', async () => {
    const queue = new WriteQueue(60_000, 2);
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => controlled(log, name));
    const results = [queue.run(1, a.work), queue.run(1, b.work), queue.run(1, c.work)];
    await turnsPassed();
    expect(log).toEqual(['start a', 'start b']);
    b.finish();
    await turnsPassed();
    expect(log).toEqual(['start a', 'start b', 'end b', 'start c']);
    a.finish();
    c.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(queue.depth(1)).toBe(0);
  });

  it('lets writes of different workspaces run at the same time', async () => {
    const queue = new WriteQueue(60_000);
    const log: string[] = [];
    const [a, b] = ['a', 'b'].map((name) => controlled(log, name));
    const results = [queue.run(1, a.work), queue.run(2, b.work)];
    await turnsPassed();
    expect(log).toEqual(['start a', 'start b']);
    a.finish();
    b.finish();
    await Promise.all(results);
  });

  it('passes the turn on when a write fails', async () => {
    const queue = new WriteQueue(60_000);
    const failing = queue.run(1, async () => {
      throw new Error('constraint violated');
    });
    const next = queue.run(1, async () => 'next');
    await expect(failing).rejects.toThrow('constraint violated');
    await expect(next).resolves.toBe('next');
  });

  it('refuses a write that waits longer than the queue allows, without running it, and keeps the queue behind it moving', async () => {
    const queue = new WriteQueue(50);
    const log: string[] = [];
    const head = controlled(log, 'head');
    const running = queue.run(1, head.work);
    let ran = false;
    const refused = queue.run(1, async () => {
      ran = true;
    });
    await expect(refused).rejects.toBeInstanceOf(WriteQueueTimeoutError);
    await expect(refused).rejects.toMatchObject({ waitedMs: 50, retryAfterSeconds: expect.any(Number) });
    const behind = queue.run(1, async () => 'behind');
    head.finish();
    await running;
    await expect(behind).resolves.toBe('behind');
    expect(ran).toBe(false);
  });

  it('takes a waiting write out of the queue when its request stops, with the reason it stopped', async () => {
    const queue = new WriteQueue(60_000);
    const log: string[] = [];
    const head = controlled(log, 'head');
    const running = queue.run(1, head.work);
    const controller = new AbortController();
    const scope = { signal: controller.signal, check: () => controller.signal.throwIfAborted() };
    let ran = false;
    const waiting = workScope.run(scope, () =>
      queue.run(1, async () => {
        ran = true;
      }),
    );
    await turnsPassed();
    expect(queue.depth(1)).toBe(2);
    controller.abort(new Error('the client closed the connection'));
    await expect(waiting).rejects.toThrow('the client closed the connection');
    expect(queue.depth(1)).toBe(1);
    head.finish();
    await running;
    expect(ran).toBe(false);
    expect(queue.depth(1)).toBe(0);
  });

  it('runs a write made inside a turn of the same workspace at once instead of waiting for itself', async () => {
    const queue = new WriteQueue(50);
    await expect(queue.run(1, () => queue.run(1, async () => 'inner'))).resolves.toBe('inner');
  });
});

const ADD = 'mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }';

/** Where a test session parks member adds: every write of the workspace (its audit sequence row, taken last), or the add of one user (its row, locked by the insert's foreign-key check). */
type Park = { every: true } | { user: number };

/** A workspace with a group, `n` users, and a test session that parks member adds as `park` says. */
async function burstSetUp(h: Harness, n: number, park: (users: number[]) => Park) {
  const ws = await h.workspace();
  const group = Number(await ws.group('Sync target'));
  const users: number[] = [];
  for (let i = 0; i < n; i += 1) users.push(Number(await ws.user()));
  const session = await Session.open();
  const where = park(users);
  if ('every' in where) await session.hold('SELECT 1 FROM audit_sequences WHERE tenant_id = $1 FOR UPDATE', [ws.tenant.id]);
  else await session.hold('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [where.user]);
  return { ws, api: new Rest(ws), group, users, session };
}

/** Sessions that wait for what the test's session holds, or for one of those (the group row the first write updated, say). */
async function blockedBy(session: Session): Promise<number[]> {
  const blocked: number[] = [];
  for (let wave = await session.waitingFor([session.pid]); wave.length > 0; wave = await session.waitingFor(wave)) blocked.push(...wave);
  return blocked;
}

/** Resolves once `n` requests wait, directly or not, for what the session holds. */
async function parkedOnTheSession(session: Session, n = 1): Promise<void> {
  await waitFor(`${n} write(s) to wait for the held row`, async () => ((await blockedBy(session)).length >= n ? true : undefined));
}

const WRITE_CONCURRENCY = 2;

racesOnPostgres('a burst of writes to one workspace', (h) => {
  const depth = (ws: Workspace) => writeQueueOf(h.db.prisma)!.depth(ws.tenant.id);

  it('queues the writes behind stuck ones without taking connections, keeps reads of another workspace answering, then makes them all', async () => {
    const { ws, api, group, users, session } = await burstSetUp(h, 31, () => ({ every: true }));
    const other = await h.workspace();
    let adds: Promise<{ status: number }>[] = [];
    try {
      adds = users.map((u) => api.post(`/groups/${group}/members/${u}`));
      await parkedOnTheSession(session, WRITE_CONCURRENCY);
      await waitFor('the burst to reach the queue', async () => (depth(ws) === 31 ? true : undefined));
      // 29 writes wait, and only the two stuck ones hold connections (of 4): the pool still serves reads.
      expect(h.db.poolStats()).toMatchObject({ inUse: WRITE_CONCURRENCY, waiting: 0 });
      expect(await blockedBy(session)).toHaveLength(WRITE_CONCURRENCY);
      const read = await other.gql('{ groups(first: 5) { totalCount } }');
      expect({ status: read.status, errors: read.body.errors }).toEqual({ status: 200, errors: undefined });
    } finally {
      await session.close();
    }
    expect((await Promise.all(adds)).map((res) => res.status)).toEqual(Array(31).fill(204));
    expect((await api.memberIds(group)).sort((a, b) => a - b)).toEqual(users);
  });
}, { pool: { ...GENEROUS_POOL, size: 4, writeConcurrency: WRITE_CONCURRENCY } });

racesOnPostgres('a write that cannot get its turn in time', (h) => {
  const depth = (ws: Workspace) => writeQueueOf(h.db.prisma)!.depth(ws.tenant.id);

  it('is refused with 429 and Retry-After, over REST and GraphQL, and nothing of it is written', async () => {
    const { ws, api, group, users, session } = await burstSetUp(h, 4, () => ({ every: true }));
    let running!: Promise<{ status: number }[]>;
    let rest!: Response<RestErrorBody>;
    let graphql!: Response<GraphQLBody>;
    try {
      running = Promise.all(users.slice(0, WRITE_CONCURRENCY).map((u) => api.post(`/groups/${group}/members/${u}`)));
      await parkedOnTheSession(session, WRITE_CONCURRENCY);
      [rest, graphql] = await Promise.all([
        api.post(`/groups/${group}/members/${users[2]}`),
        ws.gql(ADD, { g: String(group), u: String(users[3]) }),
      ]);
      expect(depth(ws)).toBe(WRITE_CONCURRENCY);
    } finally {
      await session.close();
    }
    expect(rest.status).toBe(429);
    expect(Number(rest.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(rest.body.error).toMatchObject({ code: 'rate_limited', details: { reason: 'write_queue', maxWaitMs: 300 } });
    expect(graphql.status).toBe(429);
    expect(Number(graphql.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(graphql.body.errors?.map((e) => e.extensions)).toEqual([expect.objectContaining({ code: 'RATE_LIMITED', reason: 'write_queue' })]);
    expect((await running).map((res) => res.status)).toEqual([204, 204]);
    expect((await api.memberIds(group)).sort((a, b) => a - b)).toEqual(users.slice(0, WRITE_CONCURRENCY));
  });
}, { pool: { ...GENEROUS_POOL, writeQueueWaitMs: 300, writeConcurrency: WRITE_CONCURRENCY } });

racesOnPostgres('a write the database rolls back to break a deadlock', (h) => {
  it('is run again and made, not answered 503', async () => {
    const { api, ws, group, users, session } = await burstSetUp(h, 1, (u) => ({ user: u[0] }));
    let add!: Promise<Response<unknown>>;
    try {
      // The add holds the tree lock (shared) and waits for the user row the session holds; the
      // session then asks for the tree lock: a deadlock, which PostgreSQL breaks by rolling back
      // the add, the first to wait (the session checks for deadlocks only after a minute). The
      // session getting the tree lock at all shows the add's transaction was rolled back.
      await session.run('SET deadlock_timeout = 60000');
      add = api.post(`/groups/${group}/members/${users[0]}`);
      await parkedOnTheSession(session);
      await session.run('SELECT pg_advisory_xact_lock(7263001, $1::int)', [ws.tenant.id]);
    } finally {
      await session.close();
    }
    expect((await add).status).toBe(204);
    expect(await api.memberIds(group)).toEqual([users[0]]);
  });
});
