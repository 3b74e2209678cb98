// Live group changes over WebSocket (graphql-ws at /graphql/ws): what a subscriber receives, in
// what order, filtered by what its credential may read; how a subscription ends (revoked key,
// slow reader); what the socket refuses; and delivery across two server processes.
import type { ChildProcess } from 'node:child_process';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { type Database, openDatabase } from '../../src/db';
import { OPERATOR, createApiKey } from '../../src/domain/apikeys';
import { decodeCursor, encodeCursor } from '../../src/domain/audit';
import { fullAccessContext } from '../../src/domain/context';
import { createTenant } from '../../src/domain/tenants';
import { ALL_SCOPES } from '../../src/policy/scopes';
import { type Harness, type Workspace, anotherApp, eachBackend, postgresOnly, uniqueSlug } from '../support/harness';
import { GENEROUS_SERVER_ENV, SERVER_START_MS, startServer } from '../support/servers';
import { describeOnPostgres, postgresUrl } from '../support/services';
import { untilSeen, waitFor } from '../support/wait';

const WS_PATH = '/graphql/ws';
const wsUrl = (baseUrl: string) => baseUrl.replace(/^http/, 'ws') + WS_PATH;

type Result = { data?: any; errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[] };

/** One subscription on its own client, and everything its sink was handed. */
interface Sub {
  client: WsClient;
  results: Result[];
  /** What the sink's `error` got (a GraphQL error list, or a CloseEvent), if anything. */
  error: any;
  errored: boolean;
  completed: boolean;
  closes: { code: number; reason: string }[];
}

const clients: WsClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.dispose()));
});

function subscribe(baseUrl: string, key: string, query: string, variables?: Record<string, unknown>): Sub {
  const sub = { results: [], error: undefined, errored: false, completed: false, closes: [] } as unknown as Sub;
  sub.client = createClient({
    url: wsUrl(baseUrl),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    on: { closed: (event) => sub.closes.push({ code: (event as any).code, reason: (event as any).reason }) },
  });
  clients.push(sub.client);
  sub.client.subscribe<any>(
    { query, variables },
    {
      next: (result) => sub.results.push(result as Result),
      error: (error) => {
        sub.errored = true;
        sub.error = error;
      },
      complete: () => {
        sub.completed = true;
      },
    },
  );
  return sub;
}

const change = (result: Result) => result.data?.groupChanges;
const cursorsOf = (results: Result[]) => results.map((result) => change(result)?.cursor);

/** The cursor of the workspace's latest event, read from the table. */
async function latestCursor(h: Harness, ws: Workspace): Promise<string> {
  return latestOf(h.db, ws.tenant.id);
}

async function latestOf(db: Database, tenantId: number): Promise<string> {
  const row = await db.prisma.auditEvent.findFirstOrThrow({ where: { tenantId }, orderBy: { seq: 'desc' } });
  return encodeCursor(row.seq);
}

/** Waits until `sub` has been handed the event with `cursor`. */
function received(sub: Sub, cursor: string, ms?: number): Promise<true> {
  return waitFor(`the event ${cursor} to be delivered`, () => cursorsOf(sub.results).includes(cursor), ms);
}

/**
 * A subscription is registered on the server some time after `subscribe` returns; until then,
 * events are not delivered to it. Pokes (writes every subscriber can see) until each has received
 * the latest poke, waiting longer after each; from there on, each sees every commit. Returns how
 * many results each had by then.
 */
async function liveWith(latest: () => Promise<string>, subs: Sub[], poke: (i: number) => Promise<unknown>): Promise<number[]> {
  await untilSeen('the subscriptions to go live', async (i, patienceMs) => {
    await poke(i);
    const cursor = await latest();
    return (await Promise.all(subs.map((sub) => received(sub, cursor, patienceMs).catch(() => false)))).every(Boolean);
  }).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(subs.map((sub) => ({ results: sub.results, error: sub.error })))}`);
  });
  return subs.map((sub) => sub.results.length);
}

const live = (h: Harness, ws: Workspace, subs: Sub[], poke: (i: number) => Promise<unknown>) => liveWith(() => latestCursor(h, ws), subs, poke);

const rename = (ws: Workspace, id: string, name: string) =>
  ws.ok('mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id } }', { id, input: { name } });
const update = (ws: Workspace, id: string, input: Record<string, unknown>) =>
  ws.ok('mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id } }', { id, input });

async function keyIdOf(ws: Workspace, key: string): Promise<string> {
  const res = await ws.gql('{ viewer { apiKey { id } } }', undefined, key);
  return res.body.data.viewer.apiKey.id;
}

const FULL = `subscription { groupChanges { cursor action at groupId group { id name } event { actor { ref } changes { field before after } } } }`;

eachBackend('groupChanges subscription', (h) => {
  it('delivers group events in commit order with action, groupId, the group as it is at delivery, actor and changes; not user or role events', async () => {
    const ws = await h.workspace();
    const adminRef = `apikey:${await keyIdOf(ws, ws.adminKey)}`;
    const warm = await ws.group('warm');
    const sub = subscribe(h.baseUrl, ws.adminKey, FULL);
    const [mark] = await live(h, ws, [sub], (i) => rename(ws, warm, `warm-${i}`));
    const warmSeq = decodeCursor(change(sub.results[mark - 1]).cursor, 'cursor');

    // Each write waits for its event(s), so "the group as it is at delivery" is known.
    const step = async (write: () => Promise<unknown>, events: number) => {
      const before = sub.results.length;
      await write();
      await waitFor(`${events} more event(s)`, async () => (sub.results.length >= before + events ? true : undefined));
    };
    const alpha = await ws.group('Alpha');
    await waitFor('GROUP_CREATED', async () => (sub.results.length >= mark + 1 ? true : undefined));
    const user = await ws.user('Ann');
    const role = await ws.role('viewer');
    let beta = '';
    await step(async () => (beta = await ws.group('Bee', alpha)), 1);
    await step(() => ws.addMember(beta, user), 1);
    await step(() => ws.assignGroupRole(beta, role), 1);
    await step(() => update(ws, beta, { name: 'Beta', description: 'second', parentId: null }), 3);
    await step(() => ws.ok('mutation($id: ID!) { deleteGroup(id: $id) }', { id: alpha }), 1);

    const delivered = sub.results.slice(mark);
    expect(delivered.every((result) => result.errors === undefined)).toBe(true);
    const g = (id: string, name: string) => ({ id, name });
    const actor = { ref: adminRef };
    expect(delivered.map((result) => { const { cursor: _c, at: _a, ...rest } = change(result); return rest; })).toEqual([
      { action: 'GROUP_CREATED', groupId: alpha, group: g(alpha, 'Alpha'), event: { actor, changes: [{ field: 'name', before: null, after: 'Alpha' }] } },
      {
        action: 'GROUP_CREATED',
        groupId: beta,
        group: g(beta, 'Bee'),
        event: { actor, changes: [{ field: 'name', before: null, after: 'Bee' }, { field: 'parentId', before: null, after: Number(alpha) }] },
      },
      { action: 'MEMBER_ADDED', groupId: beta, group: g(beta, 'Bee'), event: { actor, changes: [{ field: 'userId', before: null, after: Number(user) }] } },
      { action: 'GROUP_ROLE_ASSIGNED', groupId: beta, group: g(beta, 'Bee'), event: { actor, changes: [{ field: 'roleId', before: null, after: Number(role) }] } },
      { action: 'GROUP_RENAMED', groupId: beta, group: g(beta, 'Beta'), event: { actor, changes: [{ field: 'name', before: 'Bee', after: 'Beta' }] } },
      {
        action: 'GROUP_DESCRIPTION_CHANGED',
        groupId: beta,
        group: g(beta, 'Beta'),
        event: { actor, changes: [{ field: 'description', before: null, after: 'second' }] },
      },
      { action: 'GROUP_MOVED', groupId: beta, group: g(beta, 'Beta'), event: { actor, changes: [{ field: 'parentId', before: Number(alpha), after: null }] } },
      {
        action: 'GROUP_DELETED',
        groupId: alpha,
        group: null,
        event: {
          actor,
          changes: expect.arrayContaining([]),
        },
      },
    ]);
    const deleted = change(delivered[7]).event.changes;
    expect(deleted).toHaveLength(4);
    expect(Object.fromEntries(deleted.map((c: any) => [c.field, [c.before, c.after]]))).toEqual({
      name: ['Alpha', null],
      description: [null, null],
      parentId: [null, null],
      rerootedChildren: [null, []],
    });

    // Exactly the group events of the table after the warm-up, in commit order, with their time.
    const rows = await h.db.prisma.auditEvent.findMany({ where: { tenantId: ws.tenant.id, seq: { gt: warmSeq } }, orderBy: { seq: 'asc' } });
    expect(rows.map((row) => row.action)).toEqual([
      'GROUP_CREATED', 'USER_CREATED', 'ROLE_CREATED', 'GROUP_CREATED', 'MEMBER_ADDED', 'GROUP_ROLE_ASSIGNED',
      'GROUP_RENAMED', 'GROUP_DESCRIPTION_CHANGED', 'GROUP_MOVED', 'GROUP_DELETED',
    ]);
    const groupRows = rows.filter((row) => row.groupId !== null);
    expect(delivered.map((result) => change(result).cursor)).toEqual(groupRows.map((row) => encodeCursor(row.seq)));
    expect(delivered.map((result) => change(result).at)).toEqual(groupRows.map((row) => row.occurredAt.toISOString()));
    expect(sub.errored).toBe(false);
    expect(sub.completed).toBe(false);
  });

  it('filters by what the key may read: groups:read@A sees only A\'s subtree (before or after a move), root narrows it, audit:read decides event', async () => {
    const ws = await h.workspace();
    const a = await ws.group('A');
    const a1 = await ws.group('A1', a);
    const b = await ws.group('B');
    const keyA = await ws.key([`groups:read@${a}`]);
    const keyNoAudit = await ws.key(['groups:read']);
    const keyAuditB = await ws.key(['groups:read', `audit:read@${b}`]);
    const adminRef = `apikey:${await keyIdOf(ws, ws.adminKey)}`;

    const subA = subscribe(h.baseUrl, keyA, 'subscription { groupChanges { cursor action groupId group { name } } }');
    const subA1 = subscribe(h.baseUrl, keyA, 'subscription($root: ID) { groupChanges(root: $root) { cursor action groupId } }', { root: a1 });
    const subNoAudit = subscribe(h.baseUrl, keyNoAudit, 'subscription { groupChanges { cursor action groupId event { actor { ref } } } }');
    const subAuditB = subscribe(h.baseUrl, keyAuditB, 'subscription { groupChanges { cursor action groupId event { actor { ref } changes { field before after } } } }');
    const subs = [subA, subA1, subNoAudit, subAuditB];
    const marks = await live(h, ws, subs, (i) => rename(ws, a1, `A1-${i}`));

    // Each write waits until the subscribers that should see it have: the group's name at
    // delivery is then known, and what the others lack was not merely late.
    const expectations: { sub: Sub; cursor: string }[] = [];
    const write = async (fn: () => Promise<unknown>, seenBy: Sub[]) => {
      await fn();
      const cursor = await latestCursor(h, ws);
      for (const sub of seenBy) expectations.push({ sub, cursor });
      await Promise.all(seenBy.map((sub) => received(sub, cursor)));
      return cursor;
    };
    const c1 = await write(() => rename(ws, b, 'B2'), [subNoAudit, subAuditB]);
    const c2 = await write(() => rename(ws, a, 'A2'), [subA, subNoAudit, subAuditB]);
    let a1a = '';
    const c3 = await write(async () => (a1a = await ws.group('A1a', a1)), [subA, subA1, subNoAudit, subAuditB]);
    let b1 = '';
    const c4 = await write(async () => (b1 = await ws.group('B1', b)), [subNoAudit, subAuditB]);
    await ws.user('not a group event');
    const c5 = await write(() => update(ws, b1, { parentId: a1 }), [subA, subA1, subNoAudit, subAuditB]); // into A
    const c6 = await write(() => update(ws, a1a, { parentId: b }), [subA, subA1, subNoAudit, subAuditB]); // out of A
    const c7 = await write(() => rename(ws, a1, 'A1-end'), [subA, subA1, subNoAudit, subAuditB]);

    const after = (sub: Sub, i: number) => sub.results.slice(marks[i]);
    expect(after(subA, 0)).toEqual([
      { data: { groupChanges: { cursor: c2, action: 'GROUP_RENAMED', groupId: a, group: { name: 'A2' } } } },
      { data: { groupChanges: { cursor: c3, action: 'GROUP_CREATED', groupId: a1a, group: { name: 'A1a' } } } },
      { data: { groupChanges: { cursor: c5, action: 'GROUP_MOVED', groupId: b1, group: { name: 'B1' } } } },
      // Moved out of A: still delivered (its old path was in A), but the group is no longer readable.
      { data: { groupChanges: { cursor: c6, action: 'GROUP_MOVED', groupId: a1a, group: null } } },
      { data: { groupChanges: { cursor: c7, action: 'GROUP_RENAMED', groupId: a1, group: { name: 'A1-end' } } } },
    ]);
    expect(after(subA1, 1)).toEqual([
      { data: { groupChanges: { cursor: c3, action: 'GROUP_CREATED', groupId: a1a } } },
      { data: { groupChanges: { cursor: c5, action: 'GROUP_MOVED', groupId: b1 } } },
      { data: { groupChanges: { cursor: c6, action: 'GROUP_MOVED', groupId: a1a } } },
      { data: { groupChanges: { cursor: c7, action: 'GROUP_RENAMED', groupId: a1 } } },
    ]);
    const all = [
      [c1, 'GROUP_RENAMED', b],
      [c2, 'GROUP_RENAMED', a],
      [c3, 'GROUP_CREATED', a1a],
      [c4, 'GROUP_CREATED', b1],
      [c5, 'GROUP_MOVED', b1],
      [c6, 'GROUP_MOVED', a1a],
      [c7, 'GROUP_RENAMED', a1],
    ] as const;
    expect(after(subNoAudit, 2)).toEqual(
      all.map(([cursor, action, groupId]) => ({
        data: { groupChanges: { cursor, action, groupId, event: null } },
        errors: [
          {
            message: expect.any(String),
            path: ['groupChanges', 'event'],
            locations: expect.any(Array),
            extensions: { code: 'FORBIDDEN', requiredScopes: [['audit:read']] },
          },
        ],
      })),
    );
    // audit:read@B: the whole event for events about B's subtree (before or after a move), null for the others.
    const bEvents: Record<string, unknown[]> = {
      [c1]: [{ field: 'name', before: 'B', after: 'B2' }],
      [c4]: [{ field: 'name', before: null, after: 'B1' }, { field: 'parentId', before: null, after: Number(b) }],
      [c5]: [{ field: 'parentId', before: Number(b), after: Number(a1) }],
      [c6]: [{ field: 'parentId', before: Number(a1), after: Number(b) }],
    };
    expect(after(subAuditB, 3)).toEqual(
      all.map(([cursor, action, groupId]) => ({
        data: { groupChanges: { cursor, action, groupId, event: bEvents[cursor] ? { actor: { ref: adminRef }, changes: bEvents[cursor] } : null } },
      })),
    );
    for (const sub of subs) {
      expect(sub.errored).toBe(false);
      expect(sub.completed).toBe(false);
    }
  });

  it('refuses a root outside what the key may read, or unknown, with NOT_FOUND', async () => {
    const ws = await h.workspace();
    const a = await ws.group('A');
    const b = await ws.group('B');
    const keyA = await ws.key([`groups:read@${a}`]);
    const outside = subscribe(h.baseUrl, keyA, 'subscription($root: ID) { groupChanges(root: $root) { cursor } }', { root: b });
    const unknown = subscribe(h.baseUrl, keyA, 'subscription($root: ID) { groupChanges(root: $root) { cursor } }', { root: '2147483000' });
    for (const [sub, id] of [[outside, b], [unknown, '2147483000']] as const) {
      await waitFor('the subscription to end', async () => (sub.completed || sub.errored ? true : undefined));
      // Unreadable and unknown look the same: a result with the error (no data), then completion.
      expect(sub.results).toEqual([
        {
          errors: [
            {
              message: `Group ${id} not found`,
              locations: [{ line: 1, column: 27 }],
              path: ['groupChanges'],
              extensions: { code: 'NOT_FOUND', entity: 'Group', id, field: 'root' },
            },
          ],
        },
      ]);
      expect(sub.completed).toBe(true);
      expect(sub.errored).toBe(false);
    }
  });

  it('ends the subscription with UNAUTHENTICATED when its key is revoked, and delivers nothing more', async () => {
    const ws = await h.workspace();
    const group = await ws.group('g');
    const key = await ws.key(['groups:read']);
    const keyId = await keyIdOf(ws, key);
    const sub = subscribe(h.baseUrl, key, 'subscription { groupChanges { cursor action } }');
    const witness = subscribe(h.baseUrl, ws.adminKey, 'subscription { groupChanges { cursor action } }');
    const [mark] = await live(h, ws, [sub, witness], (i) => rename(ws, group, `g-${i}`));

    const revoked = await ws.ok('mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }', { id: keyId });
    expect(revoked.revokeApiKey.id).toBe(keyId);
    await waitFor('the subscription to end', async () => (sub.errored || sub.completed ? true : undefined));
    expect(sub.error).toEqual([{ message: 'the API key was revoked', extensions: { code: 'UNAUTHENTICATED' } }]);
    // graphql-ws ends an operation with its error message: no `complete` follows it.
    expect(sub.completed).toBe(false);
    expect(sub.results).toHaveLength(mark);

    // A later change reaches a live subscriber, not the ended one.
    await rename(ws, group, 'after revocation');
    await received(witness, await latestCursor(h, ws));
    expect(sub.results).toHaveLength(mark);
    expect(witness.errored).toBe(false);

    // And the revoked key cannot connect again.
    const again = subscribe(h.baseUrl, key, 'subscription { groupChanges { cursor } }');
    await waitFor('the connection to be refused', async () => (again.errored ? true : undefined));
    expect(again.error.code).toBe(4403);
  });

  it('closes the socket with 4403 for a bad credential, and runs only subscriptions, validated like any query', async () => {
    const ws = await h.workspace();
    for (const key of ['not-a-key', `${ws.adminKey}x`]) {
      const bad = subscribe(h.baseUrl, key, 'subscription { groupChanges { cursor } }');
      await waitFor('the socket to close', async () => (bad.errored && bad.closes.length > 0 ? true : undefined));
      expect(bad.error.code).toBe(4403);
      expect(bad.closes).toEqual([{ code: 4403, reason: 'Forbidden' }]);
      expect(bad.results).toEqual([]);
    }

    const refusals = [
      ['{ viewer { scopes } }', 'BAD_REQUEST'],
      ['mutation { createRole(input: { name: "ws" }) { id } }', 'BAD_REQUEST'],
      [`subscription { groupChanges { ${Array.from({ length: 31 }, (_, i) => `a${i}: cursor`).join(' ')} } }`, 'TOO_MANY_ALIASES'],
      [`subscription { groupChanges { group { ${'parent { '.repeat(12)}id${' }'.repeat(12)} } } }`, 'QUERY_TOO_DEEP'],
    ] as const;
    for (const [query, code] of refusals) {
      const sub = subscribe(h.baseUrl, ws.adminKey, query);
      await waitFor('the operation to be refused', async () => (sub.errored || sub.completed ? true : undefined));
      expect(sub.errored).toBe(true);
      expect(sub.error.map((error: any) => error.extensions.code)).toEqual([code]);
      expect(sub.results).toEqual([]);
    }
    // The mutation did not run.
    expect(await h.db.prisma.role.count({ where: { tenantId: ws.tenant.id } })).toBe(0);
  });
});

// Two server processes on one PostgreSQL: a commit through one reaches the other's subscribers
// through LISTEN/NOTIFY, in commit order with its own; a key revoked through one ends the
// subscriptions it holds on the other.
describeOnPostgres('groupChanges across two server processes (PostgreSQL)', () => {
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((child) => child.kill('SIGTERM')));

  it('delivers to a subscriber on A what commits through B, in commit order with A\'s; a revocation through B ends it', async () => {
    const url = postgresUrl()!;
    const db = await openDatabase({ kind: 'postgres', url });
    try {
      const tenant = await createTenant(db.prisma, { slug: uniqueSlug('sub') });
      const ctx = fullAccessContext(db.prisma, tenant.id, { maxGroupDepth: 8 });
      const admin = (await createApiKey(ctx, OPERATOR, { name: 'admin', scopes: ALL_SCOPES })).key;
      const reader = await createApiKey(ctx, OPERATOR, { name: 'reader', scopes: ['groups:read', 'audit:read'] });

      const env = { ...GENEROUS_SERVER_ENV, DATABASE_URL: url };
      const servers = await Promise.all([startServer(env), startServer(env)]);
      children.push(...servers.map((server) => server.child));
      await Promise.all(servers.map((server) => server.ready));
      const [A, B] = servers.map((server) => server.baseUrl);

      let requests = 0;
      const gql = async (baseUrl: string, query: string, variables: Record<string, unknown>) => {
        requests += 1;
        const requestId = `${baseUrl === A ? 'A' : 'B'}-${requests}`;
        const res = await fetch(`${baseUrl}/graphql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', 'x-request-id': requestId },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await res.json()) as any;
        if (res.status !== 200 || body.errors) throw new Error(`${res.status} ${JSON.stringify(body)}`);
        return { data: body.data, requestId };
      };
      const createGroup = async (baseUrl: string, name: string) =>
        (await gql(baseUrl, 'mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }', { input: { name } })).data.createGroup.id as string;
      const renameVia = (baseUrl: string, id: string, name: string) =>
        gql(baseUrl, 'mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id } }', { id, input: { name } });

      const group = await createGroup(A, 'g');
      const sub = subscribe(A, reader.key, 'subscription { groupChanges { cursor action groupId event { requestId } } }');
      const latest = () => latestOf(db, tenant.id);
      const [mark] = await liveWith(latest, [sub], (i) => renameVia(A, group, `warm-${i}`));
      const warmSeq = decodeCursor(change(sub.results[mark - 1]).cursor, 'cursor');

      // One commit through B, alone. (It reaches A through the notification or A's safety sweep,
      // every 5 s: that the notification alone carries it is shown below, with the sweep off.)
      const { requestId } = await renameVia(B, group, 'via B');
      const cursor = await latest();
      await received(sub, cursor);
      expect(change(sub.results[mark])).toEqual({ cursor, action: 'GROUP_RENAMED', groupId: group, event: { requestId } });

      // Then writes through both at once: delivered in the order they committed.
      const writes = await Promise.all(Array.from({ length: 12 }, (_, i) => createGroup(i % 2 === 0 ? A : B, `both-${i}`)));
      const last = await latest();
      await received(sub, last);
      const rows = await db.prisma.auditEvent.findMany({ where: { tenantId: tenant.id, seq: { gt: warmSeq } }, orderBy: { seq: 'asc' } });
      expect(rows).toHaveLength(13);
      expect(sub.results.slice(mark).map(change)).toEqual(
        rows.map((row) => ({ cursor: encodeCursor(row.seq), action: row.action, groupId: String(row.groupId), event: { requestId: row.requestId } })),
      );
      expect(new Set(rows.slice(1).map((row) => String(row.groupId)))).toEqual(new Set(writes));
      const via = rows.map((row) => row.requestId![0]);
      expect(via.filter((p) => p === 'A')).toHaveLength(6);
      expect(via.filter((p) => p === 'B')).toHaveLength(7);

      // The subscriber's key revoked through B: the subscription on A ends.
      await gql(B, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: String(reader.apiKey.id) });
      await waitFor('the subscription to end', async () => (sub.errored || sub.completed ? true : undefined));
      expect(sub.error).toEqual([{ message: 'the API key was revoked', extensions: { code: 'UNAUTHENTICATED' } }]);
      expect(sub.results).toHaveLength(mark + 13);
    } finally {
      await db.close();
    }
  }, 2 * SERVER_START_MS);
});

// Two apps with database handles of their own on this run's PostgreSQL (what two processes are to
// each other), with the hubs' safety sweep off: a commit through one can reach the other's
// subscriber only through the notification.
const NO_SWEEP = { hub: { sweepMs: 3_600_000 } };

postgresOnly('groupChanges through another app, by notification alone', (h) => {
  const other = anotherApp({ app: NO_SWEEP });

  it("delivers to a subscriber on one app what commits through the other, in commit order with the first app's", async () => {
    const ws = await h.workspace();
    const there = ws.through(other);
    const group = await ws.group('g');
    const sub = subscribe(h.baseUrl, ws.adminKey, 'subscription { groupChanges { cursor action groupId } }');
    const [mark] = await live(h, ws, [sub], (i) => rename(ws, group, `warm-${i}`));
    await rename(there, group, 'through the other app');
    const viaOther = await latestCursor(h, ws);
    await received(sub, viaOther);
    await rename(ws, group, 'through this one');
    const viaThis = await latestCursor(h, ws);
    await received(sub, viaThis);
    expect(sub.results.slice(mark).map(change)).toEqual([
      { cursor: viaOther, action: 'GROUP_RENAMED', groupId: group },
      { cursor: viaThis, action: 'GROUP_RENAMED', groupId: group },
    ]);
  });
}, { app: NO_SWEEP });

/**
 * Appends `count` events about `groupId` in one transaction, the way recordEvents numbers them,
 * each carrying a `size`-character string, and notifies: big events without thousands of writes.
 */
async function appendBigEvents(h: Harness, tenantId: number, groupId: number, count: number, size: number): Promise<void> {
  await h.db.raw.query(
    `WITH numbered AS (
       UPDATE audit_sequences SET last_seq = last_seq + $2::int WHERE tenant_id = $1::int RETURNING last_seq
     ), inserted AS (
       INSERT INTO audit_events (tenant_id, seq, actor, action, target_type, target_id, group_id, group_path, changes)
       SELECT $1::int, numbered.last_seq - $2::int + n, 'cli', 'GROUP_RENAMED', 'Group', $3::text, $4::int, ARRAY[$4::int],
              jsonb_build_object('name', jsonb_build_object('before', repeat('x', $5::int), 'after', 'big ' || (numbered.last_seq - $2::int + n)))
       FROM numbered, generate_series(1, $2::int) AS n
       RETURNING seq
     )
     SELECT pg_notify('kauth_audit', $1::int || ':' || max(seq)) FROM inserted`,
    [tenantId, count, String(groupId), groupId, size],
  );
}

/** A graphql-ws client spoken by hand over a raw socket, so that the test decides when it reads. */
async function rawSubscriber(h: Harness, key: string, query: string) {
  const socket = new WebSocket(wsUrl(h.baseUrl), 'graphql-transport-ws');
  const messages: any[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString())));
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }));
  await waitFor('connection_ack', async () => (messages.some((m) => m.type === 'connection_ack') ? true : undefined));
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
  const nexts = () => messages.filter((m) => m.id === '1' && m.type === 'next');
  return {
    socket,
    messages,
    nexts,
    cursors: () => nexts().map((m) => m.payload.data.groupChanges.cursor as string),
    ended: () => messages.find((m) => m.id === '1' && (m.type === 'error' || m.type === 'complete')),
    /** Stops reading from the TCP socket (the kernel's buffers fill up), or reads again. */
    pause: () => (socket as any)._socket.pause(),
    resume: () => (socket as any)._socket.resume(),
  };
}

/** Renames `group` until each raw subscriber has received the latest rename (see liveWith). */
async function rawLive(h: Harness, ws: Workspace, group: string, subs: Awaited<ReturnType<typeof rawSubscriber>>[]): Promise<void> {
  await untilSeen('the warm-up event', async (i, patienceMs) => {
    await rename(ws, group, `warm-${i}`);
    const cursor = await latestCursor(h, ws);
    const seen = (sub: (typeof subs)[number]) => waitFor('the warm-up event', () => sub.cursors().includes(cursor), patienceMs);
    return Promise.all(subs.map(seen)).then(() => true, () => false);
  });
}

// A client that stops reading: graphql-ws sends an event only once the socket has taken the
// previous one, so once the kernel's buffers are full the server stops pulling, the hub's queue
// for it (5 here) fills, and it is ended with SLOW_SUBSCRIBER naming where to resume. A client
// that reads, handed the same events at the same time, is not ended.
eachBackend('a subscriber that stops reading', (h) => {
  it('is ended with SLOW_SUBSCRIBER and a resumeAfter cursor from which auditEvents returns the first event it did not get', async () => {
    const ws = await h.workspace();
    const group = await ws.group('g');
    const query = 'subscription { groupChanges { cursor action event { changes { field before after } } } }';
    const slow = await rawSubscriber(h, ws.adminKey, query);
    const reader = await rawSubscriber(h, ws.adminKey, query);
    try {
      await rawLive(h, ws, group, [slow, reader]);
      const [slowWarm, readerWarm] = [slow.nexts().length, reader.nexts().length];
      const firstBig = decodeCursor(await latestCursor(h, ws), 'cursor') + 1n;

      // One stops reading; events are committed 2 at a time (fewer than the queue holds), each
      // pair once the reader has had the previous one, so the reader is never behind.
      slow.pause();
      const chunks = 60;
      const size = 256 * 1024;
      for (let i = 0; i < chunks; i += 1) {
        await appendBigEvents(h, ws.tenant.id, Number(group), 2, size);
        const cursor = await latestCursor(h, ws);
        await waitFor('the reader to receive the pair', async () => (reader.cursors().includes(cursor) ? true : undefined));
      }
      const produced = chunks * 2;
      const lastSeq = firstBig + BigInt(produced) - 1n;
      // The reader got every event, in order, and goes on.
      expect(reader.cursors().slice(readerWarm)).toEqual(Array.from({ length: produced }, (_, i) => encodeCursor(firstBig + BigInt(i))));
      expect(reader.ended()).toBeUndefined();

      slow.resume();
      const ended = await waitFor('the slow subscription to end', async () => slow.ended(), 30_000);
      expect(ended.type).toBe('error');
      expect(ended.payload).toHaveLength(1);
      const { code, resumeAfter } = ended.payload[0].extensions;
      expect(code).toBe('SLOW_SUBSCRIBER');
      expect(ended.payload[0].message).toContain(`auditEvents(after: "${resumeAfter}")`);

      const got = slow.cursors().slice(slowWarm).map((cursor) => decodeCursor(cursor, 'cursor'));
      // What it got: the big events from the first, consecutive, far fewer than were produced.
      expect(got.length).toBeGreaterThan(0);
      expect(got.length).toBeLessThan(produced / 2);
      expect(got).toEqual(got.map((_, i) => firstBig + BigInt(i)));
      // It resumes right after the last event it received.
      expect(resumeAfter).toBe(encodeCursor(got[got.length - 1]));
      const page = await ws.gql('query($after: String) { auditEvents(first: 1, after: $after) { edges { node { sequence action } } } }', { after: resumeAfter });
      expect(page.body.errors).toBeUndefined();
      expect(page.body.data.auditEvents.edges).toEqual([{ node: { sequence: String(got[got.length - 1] + 1n), action: 'GROUP_RENAMED' } }]);
      expect(got[got.length - 1]).toBeLessThan(lastSeq);
      process.stderr.write(`slow subscriber [${h.backend}]: received ${got.length} of ${produced} events before SLOW_SUBSCRIBER\n`);
    } finally {
      slow.socket.terminate();
      reader.socket.terminate();
    }
  }, 120_000);
}, { app: { hub: { queueLimit: 5 } } });

// A reader that reads, handed more events at once than its queue (5 here) holds: the hub hands
// them out as it makes room, waiting for it up to its grace period, which here is generous: a busy
// machine's reader is slow, not stalled.
eachBackend('a reader handed a burst', (h) => {
  it('does not end a reader when more events than its queue holds commit at once: the hub waits for room', async () => {
    const ws = await h.workspace();
    const group = await ws.group('g');
    const reader = await rawSubscriber(h, ws.adminKey, 'subscription { groupChanges { cursor } }');
    try {
      await rawLive(h, ws, group, [reader]);
      const warm = reader.nexts().length;
      const first = decodeCursor(await latestCursor(h, ws), 'cursor') + 1n;
      await appendBigEvents(h, ws.tenant.id, Number(group), 40, 10); // one commit, 8 times the queue
      const last = await latestCursor(h, ws);
      await waitFor('the reader to receive the burst', () => reader.cursors().includes(last) || reader.ended());
      expect(reader.ended()).toBeUndefined();
      expect(reader.cursors().slice(warm)).toEqual(Array.from({ length: 40 }, (_, i) => encodeCursor(first + BigInt(i))));
    } finally {
      reader.socket.terminate();
    }
  }, 60_000);
}, { app: { hub: { queueLimit: 5, graceMs: 60_000 } } });
