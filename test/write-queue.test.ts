// A workspace's writes take turns in memory (src/db/write-queue.ts) instead of each holding a
// pooled connection while it waits for the others: a burst costs queueing time, not connections,
// and a write that cannot get its turn in time is a 429 with nothing written.
import { WriteQueue, WriteQueueTimeoutError, workScope, writeQueueOf } from '../src/db';
import { type GraphQLBody, type Harness, type Response, type Workspace, GENEROUS_POOL } from './support/harness';
import { Session, racesOnPostgres, waitFor } from './support/races';
import { Rest, type RestErrorBody } from './support/rest';

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

/** A workspace with a group, `n` users, and a test session that parks a member add of the first user at its insert. */
async function burstSetUp(h: Harness, n: number) {
  const ws = await h.workspace();
  const group = Number(await ws.group('Sync target'));
  const users: number[] = [];
  for (let i = 0; i < n; i += 1) users.push(Number(await ws.user()));
  const session = await Session.open();
  // The insert's foreign-key check locks the user row (FOR KEY SHARE): held, it parks the first add there.
  await session.hold('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [users[0]]);
  return { ws, api: new Rest(ws), group, users, session };
}

async function parkedOnTheSession(session: Session): Promise<void> {
  await waitFor('the first write to wait for the held row', async () => ((await session.waitingFor([session.pid])).length > 0 ? true : undefined));
}

racesOnPostgres('a burst of writes to one workspace', (h) => {
  const depth = (ws: Workspace) => writeQueueOf(h.db.prisma)!.depth(ws.tenant.id);

  it('queues the writes behind a stuck one without taking connections, keeps reads of another workspace answering, then makes them all', async () => {
    const { ws, api, group, users, session } = await burstSetUp(h, 31);
    const other = await h.workspace();
    let adds: Promise<{ status: number }>[] = [];
    try {
      adds = [api.post(`/groups/${group}/members/${users[0]}`)];
      await parkedOnTheSession(session);
      adds.push(...users.slice(1).map((u) => api.post(`/groups/${group}/members/${u}`)));
      await waitFor('the burst to reach the queue', async () => (depth(ws) === 31 ? true : undefined));
      // 30 writes wait, and only the stuck one holds a connection (of 3): the pool still serves reads.
      expect(h.db.poolStats()).toMatchObject({ inUse: 1, waiting: 0 });
      const read = await other.gql('{ groups(first: 5) { totalCount } }');
      expect({ status: read.status, errors: read.body.errors }).toEqual({ status: 200, errors: undefined });
    } finally {
      await session.close();
    }
    expect((await Promise.all(adds)).map((res) => res.status)).toEqual(Array(31).fill(204));
    expect((await api.memberIds(group)).sort((a, b) => a - b)).toEqual(users);
  });
}, { pool: { ...GENEROUS_POOL, size: 3 } });

racesOnPostgres('a write that cannot get its turn in time', (h) => {
  const depth = (ws: Workspace) => writeQueueOf(h.db.prisma)!.depth(ws.tenant.id);

  it('is refused with 429 and Retry-After, over REST and GraphQL, and nothing of it is written', async () => {
    const { ws, api, group, users, session } = await burstSetUp(h, 3);
    let first!: Promise<{ status: number }>;
    let rest!: Response<RestErrorBody>;
    let graphql!: Response<GraphQLBody>;
    try {
      first = api.post(`/groups/${group}/members/${users[0]}`);
      await parkedOnTheSession(session);
      [rest, graphql] = await Promise.all([
        api.post(`/groups/${group}/members/${users[1]}`),
        ws.gql(ADD, { g: String(group), u: String(users[2]) }),
      ]);
      expect(depth(ws)).toBe(1);
    } finally {
      await session.close();
    }
    expect(rest.status).toBe(429);
    expect(Number(rest.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(rest.body.error).toMatchObject({ code: 'rate_limited', details: { reason: 'write_queue', maxWaitMs: 300 } });
    expect(graphql.status).toBe(429);
    expect(Number(graphql.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(graphql.body.errors?.map((e) => e.extensions)).toEqual([expect.objectContaining({ code: 'RATE_LIMITED', reason: 'write_queue' })]);
    expect((await first).status).toBe(204);
    expect(await api.memberIds(group)).toEqual([users[0]]);
  });
}, { pool: { ...GENEROUS_POOL, writeQueueWaitMs: 300 } });

racesOnPostgres('a write the database rolls back to break a deadlock', (h) => {
  it('is run again and made, not answered 503', async () => {
    const { api, ws, group, users, session } = await burstSetUp(h, 1);
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
