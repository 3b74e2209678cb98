// The audit trail as a client reads it (Query.auditEvents): every write records exactly its events,
// with who made it and the request it came with; refused writes and no-ops record nothing; audit:read
// restricted to a subtree sees only that subtree's events; filters; cursor pagination.
import { createHash, randomBytes } from 'node:crypto';
import { ALL_SCOPES } from '../../src/policy/scopes';
import { type GraphQLBody, type Harness, type Response, type Workspace, codes, eachBackend } from '../support/harness';
import { type Jose, loadJose, signToken } from '../support/jwt';
import { Rest } from '../support/rest';

// ─── helpers ────────────────────────────────────────────────────────────────────────────────────

const EVENT = 'cursor sequence at actor { kind ref name } action target { type id } changes { field before after } requestId';
const AUDIT = `query($first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    edges { cursor node { sequence } }
    nodes { ${EVENT} }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  } }`;

interface AuditNode {
  cursor: string;
  sequence: string;
  at: string;
  actor: { kind: string; ref: string; name: string | null };
  action: string;
  target: { type: string; id: string };
  changes: { field: string; before: unknown; after: unknown }[];
  requestId: string | null;
}

interface AuditConnection {
  edges: { cursor: string; node: { sequence: string } }[];
  nodes: AuditNode[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

interface Filter {
  group?: string;
  includeSubtree?: boolean;
  actor?: string;
  action?: string;
  since?: string;
}

/** The cursor of "before the first event": what a poller starts from. */
const START = Buffer.from('audit:0').toString('base64url');


/** A fresh, valid x-request-id. */
let requestCounter = 0;
function newRequestId(): string {
  requestCounter += 1;
  return `trail-${requestCounter}-${randomBytes(4).toString('hex')}`;
}

function fail(res: Response<GraphQLBody>): never {
  throw new Error(`GraphQL failed (${res.status}): ${JSON.stringify(res.body.errors ?? res.body)}`);
}

/** One page of the trail as `key` (the admin key unless told). */
async function auditPage(ws: Workspace, args: { first?: number; after?: string | null; filter?: Filter }, key = ws.adminKey): Promise<AuditConnection> {
  const res = await ws.gql(AUDIT, { first: args.first, after: args.after ?? null, filter: args.filter }, key);
  if (res.status !== 200 || res.body.errors) fail(res);
  return res.body.data.auditEvents;
}

/** Every event after `cursor` (from the start when null), paging 100 at a time. */
async function eventsAfter(ws: Workspace, cursor: string | null, options: { filter?: Filter; key?: string } = {}): Promise<AuditNode[]> {
  const events: AuditNode[] = [];
  let after = cursor;
  for (;;) {
    const page = await auditPage(ws, { first: 100, after, filter: options.filter }, options.key);
    events.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) return events;
    after = page.pageInfo.endCursor;
  }
}

/** The cursor of the workspace's latest event: events after it are what a test did since. */
async function cursorNow(ws: Workspace): Promise<string> {
  const events = await eventsAfter(ws, null);
  return events.at(-1)?.cursor ?? START;
}

/** Sends a mutation with an x-request-id; fails the test on any error. Returns the data. */
async function write(ws: Workspace, requestId: string, query: string, variables?: Record<string, unknown>, key = ws.adminKey): Promise<any> {
  const res = await ws.h.request<GraphQLBody>('POST', '/graphql', {
    headers: { authorization: `Bearer ${key}`, 'x-request-id': requestId },
    body: { query, variables },
  });
  if (res.status !== 200 || res.body.errors) fail(res);
  expect(res.headers.get('x-request-id')).toBe(requestId);
  return res.body.data;
}

type Actor = AuditNode['actor'];

/** The actor an API key is recorded as, read through viewer. */
async function keyActor(ws: Workspace, key = ws.adminKey): Promise<Actor> {
  const res = await ws.gql('{ viewer { apiKey { id name } } }', {}, key);
  if (res.body.errors) fail(res);
  const { id, name } = res.body.data.viewer.apiKey;
  return { kind: 'API_KEY', ref: `apikey:${id}`, name };
}

const CLI: Actor = { kind: 'CLI', ref: 'cli', name: null };

/** An event as the tests compare it: changes as { field: [before, after] }. */
interface Seen {
  action: string;
  actor: Actor;
  target: { type: string; id: string };
  changes: Record<string, [unknown, unknown]>;
  requestId: string | null;
}

function seen(node: AuditNode): Seen {
  const changes = Object.fromEntries(node.changes.map((c) => [c.field, [c.before, c.after] as [unknown, unknown]]));
  // Each field once: the object above would hide a duplicate.
  expect(Object.keys(changes)).toHaveLength(node.changes.length);
  return { action: node.action, actor: node.actor, target: node.target, changes, requestId: node.requestId };
}

/** The expected event. */
function event(
  action: string,
  target: [string, string | number],
  changes: Record<string, [unknown, unknown]>,
  actor: Actor,
  requestId: string | null,
): Seen {
  return { action, actor, target: { type: target[0], id: String(target[1]) }, changes, requestId };
}

const num = (id: string) => Number(id);

const MUT = {
  createGroup: 'mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }',
  updateGroup: 'mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id } }',
  deleteGroup: 'mutation($id: ID!) { deleteGroup(id: $id) }',
  addMember: 'mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }',
  removeMember: 'mutation($g: ID!, $u: ID!) { removeGroupMember(groupId: $g, userId: $u) { id } }',
  setMembers: 'mutation($g: ID!, $u: [ID!]!) { setGroupMembers(groupId: $g, userIds: $u) { added { id } removed { id } } }',
  createRole: 'mutation($input: CreateRoleInput!) { createRole(input: $input) { id } }',
  assignGroupRole: 'mutation($g: ID!, $r: ID!) { assignGroupRole(groupId: $g, roleId: $r) { id } }',
  unassignGroupRole: 'mutation($g: ID!, $r: ID!) { unassignGroupRole(groupId: $g, roleId: $r) { id } }',
  assignUserRole: 'mutation($u: ID!, $r: ID!) { assignUserRole(userId: $u, roleId: $r) { id } }',
  unassignUserRole: 'mutation($u: ID!, $r: ID!) { unassignUserRole(userId: $u, roleId: $r) { id } }',
  createUser: 'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
  createApiKey: 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id name prefix scopes expiresAt } } }',
  revokeApiKey: 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }',
};

/** A workspace and its admin key's actor. */
async function fresh(h: Harness) {
  const ws = await h.workspace();
  return { ws, admin: await keyActor(ws) };
}

const JWT_SECRET = randomBytes(32).toString('base64url');
const JWT_ISSUER = 'https://id.example.test/';
const JWT_AUDIENCE = 'kauth-groups';

// ─── the suite ──────────────────────────────────────────────────────────────────────────────────

eachBackend(
  'audit trail',
  (h) => {
    describe('a new workspace', () => {
      it('starts with WORKSPACE_CREATED and its admin key’s API_KEY_CREATED, by the CLI, numbered 1 and 2', async () => {
        const { ws, admin } = await fresh(h);
        const events = await eventsAfter(ws, null);
        expect(events.map((e) => e.sequence)).toEqual(['1', '2']);
        expect(events.map(seen)).toEqual([
          event('WORKSPACE_CREATED', ['Workspace', ws.tenant.id], { slug: [null, ws.tenant.slug], name: [null, ws.tenant.slug] }, CLI, null),
          event(
            'API_KEY_CREATED',
            ['ApiKey', admin.ref.slice('apikey:'.length)],
            { name: [null, admin.name], scopes: [null, ALL_SCOPES], expiresAt: [null, null] },
            CLI,
            null,
          ),
        ]);
      });
    });

    describe('each GraphQL write records exactly its events, with the actor and the x-request-id', () => {
      it('createGroup: a root with only a name, a child with a description', async () => {
        const { ws, admin } = await fresh(h);
        const start = await cursorNow(ws);
        const [r1, r2] = [newRequestId(), newRequestId()];
        const root = (await write(ws, r1, MUT.createGroup, { input: { name: ' Engineering ' } })).createGroup.id;
        const child = (await write(ws, r2, MUT.createGroup, { input: { name: 'Backend', parentId: root, description: 'APIs' } })).createGroup.id;
        expect((await eventsAfter(ws, start)).map(seen)).toEqual([
          event('GROUP_CREATED', ['Group', root], { name: [null, 'Engineering'] }, admin, r1),
          event('GROUP_CREATED', ['Group', child], { name: [null, 'Backend'], description: [null, 'APIs'], parentId: [null, num(root)] }, admin, r2),
        ]);
      });

      it('updateGroup: rename, re-describe, move, and a rename with a move (two events, the rename first)', async () => {
        const { ws, admin } = await fresh(h);
        const a = await ws.group('A');
        const b = await ws.group('B');
        const g = await ws.group('G', a, 'old');
        const start = await cursorNow(ws);
        const [r1, r2, r3, r4, r5] = [newRequestId(), newRequestId(), newRequestId(), newRequestId(), newRequestId()];
        await write(ws, r1, MUT.updateGroup, { id: g, input: { name: 'G2' } });
        await write(ws, r2, MUT.updateGroup, { id: g, input: { description: 'new' } });
        await write(ws, r3, MUT.updateGroup, { id: g, input: { parentId: b } });
        await write(ws, r4, MUT.updateGroup, { id: g, input: { name: 'G3', parentId: null } });
        await write(ws, r5, MUT.updateGroup, { id: g, input: { description: null } });
        expect((await eventsAfter(ws, start)).map(seen)).toEqual([
          event('GROUP_RENAMED', ['Group', g], { name: ['G', 'G2'] }, admin, r1),
          event('GROUP_DESCRIPTION_CHANGED', ['Group', g], { description: ['old', 'new'] }, admin, r2),
          event('GROUP_MOVED', ['Group', g], { parentId: [num(a), num(b)] }, admin, r3),
          event('GROUP_RENAMED', ['Group', g], { name: ['G2', 'G3'] }, admin, r4),
          event('GROUP_MOVED', ['Group', g], { parentId: [num(b), null] }, admin, r4),
          event('GROUP_DESCRIPTION_CHANGED', ['Group', g], { description: ['new', null] }, admin, r5),
        ]);
      });

      it('deleteGroup: the group’s fields before, and its direct children (now roots) as sorted ids', async () => {
        const { ws, admin } = await fresh(h);
        const top = await ws.group('Top');
        const early = await ws.group('Early'); // the smallest id, moved under P last
        const p = await ws.group('P', top, 'to go');
        const c1 = await ws.group('C1', p);
        const c2 = await ws.group('C2', p);
        await ws.group('Grandchild', c1);
        await ws.ok(MUT.updateGroup, { id: early, input: { parentId: p } });
        const start = await cursorNow(ws);
        const rid = newRequestId();
        expect((await write(ws, rid, MUT.deleteGroup, { id: p })).deleteGroup).toBe(p);
        expect((await eventsAfter(ws, start)).map(seen)).toEqual([
          event(
            'GROUP_DELETED',
            ['Group', p],
            {
              name: ['P', null],
              description: ['to go', null],
              parentId: [num(top), null],
              rerootedChildren: [null, [num(early), num(c1), num(c2)]],
            },
            admin,
            rid,
          ),
        ]);
      });

      it('members: add, remove, and setGroupMembers with what it added and removed', async () => {
        const { ws, admin } = await fresh(h);
        const g = await ws.group('G');
        const [u1, u2, u3, u4] = [await ws.user('u1'), await ws.user('u2'), await ws.user('u3'), await ws.user('u4')];
        await ws.addMember(g, u2);
        const start = await cursorNow(ws);
        const [r1, r2, r3] = [newRequestId(), newRequestId(), newRequestId()];
        await write(ws, r1, MUT.addMember, { g, u: u1 });
        await write(ws, r2, MUT.removeMember, { g, u: u1 });
        // Members now: u2. Wanted: u4, u3 (unsorted) → added [u3, u4], removed [u2].
        const sync = (await write(ws, r3, MUT.setMembers, { g, u: [u4, u3] })).setGroupMembers;
        expect(sync).toEqual({ added: [{ id: u3 }, { id: u4 }], removed: [{ id: u2 }] });
        expect((await eventsAfter(ws, start)).map(seen)).toEqual([
          event('MEMBER_ADDED', ['Group', g], { userId: [null, num(u1)] }, admin, r1),
          event('MEMBER_REMOVED', ['Group', g], { userId: [num(u1), null] }, admin, r2),
          event('MEMBERS_SYNCED', ['Group', g], { added: [null, [num(u3), num(u4)]], removed: [[num(u2)], null] }, admin, r3),
        ]);
      });

      it('roles: create, assign and unassign to a group and to a user', async () => {
        const { ws, admin } = await fresh(h);
        const g = await ws.group('G');
        const u = await ws.user('Ann');
        const start = await cursorNow(ws);
        const rids = Array.from({ length: 5 }, newRequestId);
        const role = (await write(ws, rids[0], MUT.createRole, { input: { name: 'editor', description: 'edits' } })).createRole.id;
        await write(ws, rids[1], MUT.assignGroupRole, { g, r: role });
        await write(ws, rids[2], MUT.unassignGroupRole, { g, r: role });
        await write(ws, rids[3], MUT.assignUserRole, { u, r: role });
        await write(ws, rids[4], MUT.unassignUserRole, { u, r: role });
        const r = num(role);
        expect((await eventsAfter(ws, start)).map(seen)).toEqual([
          event('ROLE_CREATED', ['Role', role], { name: [null, 'editor'], description: [null, 'edits'] }, admin, rids[0]),
          event('GROUP_ROLE_ASSIGNED', ['Group', g], { roleId: [null, r] }, admin, rids[1]),
          event('GROUP_ROLE_UNASSIGNED', ['Group', g], { roleId: [r, null] }, admin, rids[2]),
          event('USER_ROLE_ASSIGNED', ['User', u], { roleId: [null, r] }, admin, rids[3]),
          event('USER_ROLE_UNASSIGNED', ['User', u], { roleId: [r, null] }, admin, rids[4]),
        ]);
      });

      it('createUser: the normalised email and the name', async () => {
        const { ws, admin } = await fresh(h);
        const start = await cursorNow(ws);
        const [r1, r2] = [newRequestId(), newRequestId()];
        const email = `Ann.${randomBytes(3).toString('hex')}@Example.COM`;
        const ann = (await write(ws, r1, MUT.createUser, { input: { email, name: 'Ann' } })).createUser.id;
        const bob = (await write(ws, r2, MUT.createUser, { input: { email: `bob.${randomBytes(3).toString('hex')}@example.com` } })).createUser.id;
        const events = (await eventsAfter(ws, start)).map(seen);
        expect(events).toEqual([
          event('USER_CREATED', ['User', ann], { email: [null, email.toLowerCase()], name: [null, 'Ann'] }, admin, r1),
          event('USER_CREATED', ['User', bob], { email: [null, expect.stringMatching(/^bob\.[0-9a-f]{6}@example\.com$/)], name: [null, null] }, admin, r2),
        ]);
      });

      it('API keys: created with name, scopes and expiry but never the secret, its hash or prefix; then revoked', async () => {
        const { ws, admin } = await fresh(h);
        const start = await cursorNow(ws);
        const [r1, r2] = [newRequestId(), newRequestId()];
        const expiresAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 86_400_000).toISOString();
        const created = (await write(ws, r1, MUT.createApiKey, { input: { name: 'ci', scopes: ['groups:read', 'audit:read'], expiresAt } })).createApiKey;
        const revoked = (await write(ws, r2, MUT.revokeApiKey, { id: created.apiKey.id })).revokeApiKey;
        expect(revoked.revokedAt).toEqual(expect.any(String));
        const nodes = await eventsAfter(ws, start);
        expect(nodes.map(seen)).toEqual([
          event(
            'API_KEY_CREATED',
            ['ApiKey', created.apiKey.id],
            { name: [null, 'ci'], scopes: [null, ['groups:read', 'audit:read']], expiresAt: [null, expiresAt] },
            admin,
            r1,
          ),
          event('API_KEY_REVOKED', ['ApiKey', created.apiKey.id], { revokedAt: [null, revoked.revokedAt] }, admin, r2),
        ]);
        const secret = (created.key as string).split('_').at(-1)!;
        expect(secret).toHaveLength(40);
        const json = JSON.stringify(nodes);
        for (const hidden of [created.key, secret, createHash('sha256').update(secret).digest('hex'), created.apiKey.prefix]) {
          expect(json).not.toContain(hidden);
        }
      });

      it('records a generated request id when the x-request-id sent is not a valid one, the one the response echoes', async () => {
        const { ws } = await fresh(h);
        const start = await cursorNow(ws);
        const res = await h.request<GraphQLBody>('POST', '/graphql', {
          headers: { authorization: `Bearer ${ws.adminKey}`, 'x-request-id': 'not valid: has spaces' },
          body: { query: MUT.createGroup, variables: { input: { name: 'G' } } },
        });
        expect(res.body.errors).toBeUndefined();
        const echoed = res.headers.get('x-request-id');
        expect(echoed).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect((await eventsAfter(ws, start)).map((e) => e.requestId)).toEqual([echoed]);
      });
    });

    describe('REST writes', () => {
      it('record the same events, with the REST request’s x-request-id', async () => {
        const { ws, admin } = await fresh(h);
        const api = new Rest(ws);
        const u = num(await ws.user('Ann'));
        const parent = await api.group('Parent');
        const start = await cursorNow(ws);
        const rids = Array.from({ length: 5 }, newRequestId);
        const send = async (requestId: string, method: string, path: string, body: unknown, status: number) => {
          const res = await api.request(method, path, { body, headers: { 'x-request-id': requestId } });
          expect({ status: res.status, body: res.body }).toMatchObject({ status });
          expect(res.headers.get('x-request-id')).toBe(requestId);
          return res.body;
        };
        const g = (await send(rids[0], 'POST', '/groups', { name: 'Team', description: 'd' }, 201)).id as number;
        await send(rids[1], 'PUT', `/groups/${g}`, { name: 'Team 2', parentGroupId: parent.id }, 200);
        await send(rids[2], 'POST', `/groups/${g}/members/${u}`, undefined, 204);
        await send(rids[3], 'DELETE', `/groups/${g}/members/${u}`, undefined, 204);
        await send(rids[4], 'DELETE', `/groups/${g}`, undefined, 204);
        expect((await eventsAfter(ws, start)).map(seen)).toEqual([
          event('GROUP_CREATED', ['Group', g], { name: [null, 'Team'], description: [null, 'd'] }, admin, rids[0]),
          event('GROUP_RENAMED', ['Group', g], { name: ['Team', 'Team 2'] }, admin, rids[1]),
          event('GROUP_MOVED', ['Group', g], { parentId: [null, parent.id] }, admin, rids[1]),
          event('MEMBER_ADDED', ['Group', g], { userId: [null, u] }, admin, rids[2]),
          event('MEMBER_REMOVED', ['Group', g], { userId: [u, null] }, admin, rids[3]),
          event(
            'GROUP_DELETED',
            ['Group', g],
            { name: ['Team 2', null], description: ['d', null], parentId: [parent.id, null], rerootedChildren: [null, []] },
            admin,
            rids[4],
          ),
        ]);
      });

      it('record nothing for a refused or no-op REST write', async () => {
        const { ws } = await fresh(h);
        const api = new Rest(ws);
        const u = num(await ws.user('Ann'));
        const g = await api.group('G');
        await api.post(`/groups/${g.id}/members/${u}`);
        const start = await cursorNow(ws);
        expect((await api.post('/groups', { name: '   ' })).status).toBe(400);
        expect((await api.put('/groups/999999', { name: 'x' })).status).toBe(404);
        expect((await api.put(`/groups/${g.id}`, { parentGroupId: g.id })).status).toBe(409);
        expect((await api.post(`/groups/${g.id}/members/${u}`)).status).toBe(204);
        expect((await api.put(`/groups/${g.id}`, { name: 'G' })).status).toBe(200);
        expect(await eventsAfter(ws, start)).toEqual([]);
      });
    });

    describe('writes that record nothing', () => {
      async function refusalSetup() {
        const { ws } = await fresh(h);
        const a = await ws.group('A');
        const a1 = await ws.group('A1', a);
        const u = await ws.user('Ann', `ann.${randomBytes(3).toString('hex')}@example.com`);
        const email = (await ws.ok('query($id: ID!) { user(id: $id) { email } }', { id: u })).user.email as string;
        await ws.role('editor');
        const narrow = await ws.key([`groups:write@${a}`]);
        return { ws, a, a1, u, email, narrow };
      }
      type Setup = Awaited<ReturnType<typeof refusalSetup>>;

      it.each<[string, string, (s: Setup) => [string, Record<string, unknown>, string?]]>([
        ['FORBIDDEN', 'groups:write@A creating a root', (s) => [MUT.createGroup, { input: { name: 'Root' } }, s.narrow]],
        ['CONFLICT', 'a move under its own descendant', (s) => [MUT.updateGroup, { id: s.a, input: { parentId: s.a1 } }]],
        ['BAD_USER_INPUT', 'a blank name', (s) => [MUT.createGroup, { input: { name: '  ', parentId: s.a } }]],
        ['NOT_FOUND', 'renaming an unknown group', () => [MUT.updateGroup, { id: '999999', input: { name: 'x' } }]],
        ['NOT_FOUND', 'adding a member to an unknown group', (s) => [MUT.addMember, { g: '999999', u: s.u }]],
        ['CONFLICT', 'a duplicate role name', () => [MUT.createRole, { input: { name: 'editor' } }]],
        ['CONFLICT', 'a duplicate user email', (s) => [MUT.createUser, { input: { email: s.email.toUpperCase() } }]],
        ['NOT_FOUND', 'setGroupMembers naming an unknown user', (s) => [MUT.setMembers, { g: s.a1, u: [s.u, '999999'] }]],
      ])('%s: %s', async (code, _, make) => {
        const s = await refusalSetup();
        const start = await cursorNow(s.ws);
        const [query, variables, key] = make(s);
        const res = await s.ws.gql(query, variables, key ?? s.ws.adminKey);
        expect(codes(res.body)).toEqual([code]);
        expect(await eventsAfter(s.ws, start)).toEqual([]);
        expect(await cursorNow(s.ws)).toBe(start);
      });

      it('no-ops: adding a present member, removing an absent one, re-assigning roles, an identical update or member list, revoking twice', async () => {
        const { ws } = await fresh(h);
        const p = await ws.group('P');
        const g = await ws.group('G', p, 'desc');
        const [u1, u2, u3] = [await ws.user('u1'), await ws.user('u2'), await ws.user('u3')];
        const role = await ws.role('editor');
        await ws.addMember(g, u1);
        await ws.addMember(g, u2);
        await ws.assignGroupRole(g, role);
        await ws.ok(MUT.assignUserRole, { u: u1, r: role });
        const key = (await ws.ok(MUT.createApiKey, { input: { name: 'gone', scopes: ['groups:read'] } })).createApiKey.apiKey.id;
        await ws.ok(MUT.revokeApiKey, { id: key });
        const start = await cursorNow(ws);

        await ws.ok(MUT.addMember, { g, u: u1 });
        await ws.ok(MUT.removeMember, { g, u: u3 });
        await ws.ok(MUT.assignGroupRole, { g, r: role });
        await ws.ok(MUT.unassignGroupRole, { g: p, r: role });
        await ws.ok(MUT.assignUserRole, { u: u1, r: role });
        await ws.ok(MUT.unassignUserRole, { u: u2, r: role });
        await ws.ok(MUT.updateGroup, { id: g, input: { name: 'G', description: 'desc', parentId: p } });
        await ws.ok(MUT.updateGroup, { id: g, input: { name: '  G  ' } });
        await ws.ok(MUT.updateGroup, { id: g, input: {} });
        expect((await ws.ok(MUT.setMembers, { g, u: [u2, u1, u2] })).setGroupMembers).toEqual({ added: [], removed: [] });
        await ws.ok(MUT.revokeApiKey, { id: key });

        expect(await eventsAfter(ws, start)).toEqual([]);
      });
    });

    describe('a JWT’s writes', () => {
      let jose: Jose;
      beforeAll(async () => {
        jose = await loadJose();
      });

      it('name the subject: actor { kind: JWT, ref: "jwt:<sub>", name: "<sub>" }', async () => {
        const { ws } = await fresh(h);
        const sub = `alice-${randomBytes(3).toString('hex')}@idp.example`;
        const token = await signToken(
          jose,
          { tenant: ws.tenant.slug, sub, scope: 'groups:write users:write' },
          { alg: 'HS256', key: new TextEncoder().encode(JWT_SECRET), issuer: JWT_ISSUER, audience: JWT_AUDIENCE },
        );
        const start = await cursorNow(ws);
        const [r1, r2] = [newRequestId(), newRequestId()];
        const g = (await write(ws, r1, MUT.createGroup, { input: { name: 'By JWT' } }, token)).createGroup.id;
        const u = (await write(ws, r2, MUT.createUser, { input: { email: `${sub.split('@')[0]}@example.com` } }, token)).createUser.id;
        const jwt: Actor = { kind: 'JWT', ref: `jwt:${sub}`, name: sub };
        expect((await eventsAfter(ws, start)).map(seen)).toEqual([
          event('GROUP_CREATED', ['Group', g], { name: [null, 'By JWT'] }, jwt, r1),
          event('USER_CREATED', ['User', u], { email: [null, `${sub.split('@')[0]}@example.com`], name: [null, null] }, jwt, r2),
        ]);
        expect((await eventsAfter(ws, null, { filter: { actor: `jwt:${sub}` } })).map((e) => e.target.id)).toEqual([g, u]);
      });
    });

    describe('who may read the trail', () => {
      it('refuses auditEvents to a key without audit:read', async () => {
        const { ws } = await fresh(h);
        const key = await ws.key(['groups:write', 'users:read', 'roles:read', 'apikeys:read']);
        const res = await ws.gql(AUDIT, {}, key);
        expect(codes(res.body)).toEqual(['FORBIDDEN']);
        expect(res.body.errors![0].extensions.requiredScopes).toEqual([['audit:read']]);
        expect(res.body.data).toBeNull();
      });

      it('audit:read@A sees only events about groups in A’s subtree (before or after), none about users, roles or keys', async () => {
        const { ws } = await fresh(h);
        const a = await ws.group('A');
        const a1 = await ws.group('A1', a);
        const a2 = await ws.group('A2', a);
        const b = await ws.group('B');
        const b1 = await ws.group('B1', b);
        const u = await ws.user('Ann');
        const start = await cursorNow(ws);

        const inA = (await ws.ok(MUT.createGroup, { input: { name: 'A3', parentId: a } })).createGroup.id; // visible
        await ws.ok(MUT.createGroup, { input: { name: 'B2', parentId: b } }); // B: not
        await ws.addMember(a1, u); // visible
        await ws.addMember(b1, u); // not
        const role = await ws.role('editor'); // ROLE_CREATED: not
        await ws.assignGroupRole(a1, role); // visible
        await ws.assignGroupRole(b1, role); // not
        await ws.ok(MUT.assignUserRole, { u, r: role }); // not
        await ws.user('Bob'); // not
        const key = (await ws.ok(MUT.createApiKey, { input: { name: 'k', scopes: [`groups:read@${a}`] } })).createApiKey.apiKey.id; // not
        await ws.ok(MUT.revokeApiKey, { id: key }); // not
        await ws.ok(MUT.updateGroup, { id: a2, input: { parentId: b } }); // moved out of A: visible
        await ws.ok(MUT.updateGroup, { id: a2, input: { name: 'A2 in B' } }); // now in B: not
        await ws.ok(MUT.updateGroup, { id: b1, input: { parentId: a1 } }); // moved into A: visible
        await ws.ok(MUT.updateGroup, { id: a1, input: { description: 'x' } }); // visible

        const restricted = await ws.key([`audit:read@${a}`]);
        const seenByA = (await eventsAfter(ws, start, { key: restricted })).map((e) => [e.action, e.target.id]);
        expect(seenByA).toEqual([
          ['GROUP_CREATED', inA],
          ['MEMBER_ADDED', a1],
          ['GROUP_ROLE_ASSIGNED', a1],
          ['GROUP_MOVED', a2],
          ['GROUP_MOVED', b1],
          ['GROUP_DESCRIPTION_CHANGED', a1],
        ]);
        // From the start too: not the workspace's or its keys' creation.
        expect((await eventsAfter(ws, null, { key: restricted })).map((e) => e.action)).toEqual([
          'GROUP_CREATED', // A
          'GROUP_CREATED', // A1
          'GROUP_CREATED', // A2
          ...seenByA.map(([action]) => action),
        ]);

        // Unrestricted audit:read sees every event: 17 after the cursor (the two keys' creation among them).
        const everything = await eventsAfter(ws, start, { key: await ws.key(['audit:read']) });
        expect(everything.map((e) => e.action)).toEqual([
          'GROUP_CREATED',
          'GROUP_CREATED',
          'MEMBER_ADDED',
          'MEMBER_ADDED',
          'ROLE_CREATED',
          'GROUP_ROLE_ASSIGNED',
          'GROUP_ROLE_ASSIGNED',
          'USER_ROLE_ASSIGNED',
          'USER_CREATED',
          'API_KEY_CREATED',
          'API_KEY_REVOKED',
          'GROUP_MOVED',
          'GROUP_RENAMED',
          'GROUP_MOVED',
          'GROUP_DESCRIPTION_CHANGED',
          'API_KEY_CREATED', // the restricted key
          'API_KEY_CREATED', // this key
        ]);
      });

      it('audit:read@A sees a rename made in the same write that moves the group out of A', async () => {
        const { ws } = await fresh(h);
        const a = await ws.group('A');
        const b = await ws.group('B');
        const g = await ws.group('G', a);
        const restricted = await ws.key([`audit:read@${a}`]);
        const start = await cursorNow(ws);
        await ws.ok(MUT.updateGroup, { id: g, input: { name: 'G renamed', parentId: b } });
        // The group was in A when the write began: the write's events are about A's subtree, both.
        expect((await eventsAfter(ws, start, { key: restricted })).map((e) => [e.action, e.target.id])).toEqual([
          ['GROUP_RENAMED', g],
          ['GROUP_MOVED', g],
        ]);
        expect((await eventsAfter(ws, start, { filter: { group: a, includeSubtree: true } })).map((e) => e.action)).toEqual([
          'GROUP_RENAMED',
          'GROUP_MOVED',
        ]);
      });

      it('keeps workspaces apart: another workspace’s key never sees this one’s events', async () => {
        const { ws } = await fresh(h);
        const other = await h.workspace();
        const g = await ws.group('Mine');
        await ws.user('Ann');
        const theirs = await eventsAfter(other, null);
        expect(theirs.map((e) => [e.sequence, e.action])).toEqual([
          ['1', 'WORKSPACE_CREATED'],
          ['2', 'API_KEY_CREATED'],
        ]);
        expect(await eventsAfter(other, null, { filter: { group: g } })).toEqual([]);
        expect(await eventsAfter(other, null, { filter: { actor: (await keyActor(ws)).ref } })).toEqual([]);
        // A cursor of this workspace's trail reads the other's trail, not this one.
        expect(await eventsAfter(other, await cursorNow(ws))).toEqual([]);
      });
    });

    describe('filters', () => {
      it('group: that group’s events only; with includeSubtree, its subtree’s, before or after a move', async () => {
        const { ws } = await fresh(h);
        const top = await ws.group('Top');
        const child = await ws.group('Child', top);
        const leaf = await ws.group('Leaf', child);
        const outside = await ws.group('Outside');
        const u = await ws.user('Ann');
        await ws.addMember(top, u);
        await ws.addMember(leaf, u);
        await ws.ok(MUT.updateGroup, { id: top, input: { name: 'Top 2' } });
        await ws.ok(MUT.updateGroup, { id: outside, input: { parentId: leaf } }); // moved in
        await ws.ok(MUT.updateGroup, { id: leaf, input: { parentId: null } }); // moved out, with Outside below it
        await ws.ok(MUT.updateGroup, { id: leaf, input: { name: 'Leaf 2' } }); // no longer in Top's subtree

        const exact = await eventsAfter(ws, null, { filter: { group: top } });
        expect(exact.map((e) => [e.action, e.target.id])).toEqual([
          ['GROUP_CREATED', top],
          ['MEMBER_ADDED', top],
          ['GROUP_RENAMED', top],
        ]);
        const subtree = await eventsAfter(ws, null, { filter: { group: top, includeSubtree: true } });
        expect(subtree.map((e) => [e.action, e.target.id])).toEqual([
          ['GROUP_CREATED', top],
          ['GROUP_CREATED', child],
          ['GROUP_CREATED', leaf],
          ['MEMBER_ADDED', top],
          ['MEMBER_ADDED', leaf],
          ['GROUP_RENAMED', top],
          ['GROUP_MOVED', outside],
          ['GROUP_MOVED', leaf],
        ]);
        // includeSubtree: false is the default.
        expect(await eventsAfter(ws, null, { filter: { group: top, includeSubtree: false } })).toEqual(exact);
      });

      it('actor: the events of one key', async () => {
        const { ws, admin } = await fresh(h);
        const created = (await ws.ok(MUT.createApiKey, { input: { name: 'second', scopes: ['groups:write', 'users:write'] } })).createApiKey;
        const second = created.key as string;
        const g1 = await ws.group('By admin');
        const g2 = (await write(ws, newRequestId(), MUT.createGroup, { input: { name: 'By second' } }, second)).createGroup.id;
        await ws.user('By admin');
        const u = (await write(ws, newRequestId(), MUT.createUser, { input: { email: `s.${randomBytes(3).toString('hex')}@example.com` } }, second)).createUser.id;
        await write(ws, newRequestId(), MUT.updateGroup, { id: g1, input: { name: 'Renamed by second' } }, second);

        const ref = `apikey:${created.apiKey.id}`;
        const bySecond = await eventsAfter(ws, null, { filter: { actor: ref } });
        expect(bySecond.map((e) => [e.action, e.target.id])).toEqual([
          ['GROUP_CREATED', g2],
          ['USER_CREATED', u],
          ['GROUP_RENAMED', g1],
        ]);
        expect(new Set(bySecond.map((e) => JSON.stringify(e.actor)))).toEqual(new Set([JSON.stringify({ kind: 'API_KEY', ref, name: 'second' })]));
        const byAdmin = await eventsAfter(ws, null, { filter: { actor: admin.ref } });
        expect(byAdmin.map((e) => e.action)).toEqual(['API_KEY_CREATED', 'GROUP_CREATED', 'USER_CREATED']);
        expect((await eventsAfter(ws, null, { filter: { actor: 'cli' } })).map((e) => e.action)).toEqual(['WORKSPACE_CREATED', 'API_KEY_CREATED']);
        expect(await eventsAfter(ws, null, { filter: { actor: 'apikey:999999999' } })).toEqual([]);
      });

      it('action: only events of that action', async () => {
        const { ws } = await fresh(h);
        const a = await ws.group('A');
        const b = await ws.group('B', a);
        await ws.ok(MUT.updateGroup, { id: a, input: { name: 'A2' } });
        await ws.ok(MUT.updateGroup, { id: b, input: { name: 'B2', parentId: null } });
        const renamed = await eventsAfter(ws, null, { filter: { action: 'GROUP_RENAMED' } });
        expect(renamed.map((e) => [e.target.id, e.changes])).toEqual([
          [a, [{ field: 'name', before: 'A', after: 'A2' }]],
          [b, [{ field: 'name', before: 'B', after: 'B2' }]],
        ]);
        expect((await eventsAfter(ws, null, { filter: { action: 'GROUP_CREATED', group: b } })).map((e) => e.target.id)).toEqual([b]);
        expect(await eventsAfter(ws, null, { filter: { action: 'MEMBER_ADDED' } })).toEqual([]);
      });

      it('since: events at or after a time', async () => {
        const { ws } = await fresh(h);
        await ws.group('Before');
        // A moment after the last event's time, which the events written from now on are at or after.
        const before = (await eventsAfter(ws, null)).at(-1)!;
        expect(before.action).toBe('GROUP_CREATED');
        const since = new Date(new Date(before.at).getTime() + 1);
        await h.clockPast(before.at);
        const after1 = await ws.group('After 1');
        const after2 = await ws.group('After 2');
        const events = await eventsAfter(ws, null, { filter: { since: since.toISOString() } });
        expect(events.map((e) => e.target.id)).toEqual([after1, after2]);
        for (const e of events) expect(new Date(e.at).getTime()).toBeGreaterThanOrEqual(since.getTime());
        // Exactly at an event's time counts as at or after it.
        expect((await eventsAfter(ws, null, { filter: { since: events[0].at } })).map((e) => e.target.id)).toEqual([after1, after2]);
        expect(await eventsAfter(ws, null, { filter: { since: new Date(Date.now() + 60_000).toISOString() } })).toEqual([]);
      });
    });

    describe('pagination', () => {
      it('pages with first: 2 through every event once, in order, sequences 1, 2, 3…; a later write shows up after the last endCursor', async () => {
        const { ws } = await fresh(h);
        const root = await ws.group('Root');
        for (const name of ['a', 'b', 'c', 'd']) await ws.group(name, root);
        await ws.user('Ann'); // 2 + 5 + 1 = 8 events
        const pages: AuditConnection[] = [];
        let after: string | null = null;
        for (let i = 0; i < 10; i += 1) {
          const page = await auditPage(ws, { first: 2, after });
          pages.push(page);
          expect(page.pageInfo.hasPreviousPage).toBe(false);
          expect(page.edges.map((e) => e.cursor)).toEqual(page.nodes.map((n) => n.cursor));
          expect(page.edges.map((e) => e.node.sequence)).toEqual(page.nodes.map((n) => n.sequence));
          expect(page.pageInfo.startCursor).toBe(page.nodes[0].cursor);
          expect(page.pageInfo.endCursor).toBe(page.nodes.at(-1)!.cursor);
          after = page.pageInfo.endCursor;
          if (!page.pageInfo.hasNextPage) break;
        }
        expect(pages.map((p) => [p.nodes.length, p.pageInfo.hasNextPage])).toEqual([
          [2, true],
          [2, true],
          [2, true],
          [2, false],
        ]);
        const all = pages.flatMap((p) => p.nodes);
        expect(all.map((n) => n.sequence)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
        expect(new Set(all.map((n) => n.cursor)).size).toBe(8);
        expect(all.map((n) => n.action)).toEqual([
          'WORKSPACE_CREATED',
          'API_KEY_CREATED',
          ...Array(5).fill('GROUP_CREATED'),
          'USER_CREATED',
        ]);

        // Nothing new: an empty page, no endCursor (keep the one you had).
        expect(await auditPage(ws, { first: 2, after })).toEqual({
          edges: [],
          nodes: [],
          pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
        });
        const late = await ws.group('Late');
        const next = await auditPage(ws, { first: 2, after });
        expect(next.nodes.map((n) => [n.sequence, n.action, n.target.id])).toEqual([['9', 'GROUP_CREATED', late]]);
        expect(next.pageInfo.hasNextPage).toBe(false);
        // The default page is 20.
        expect((await auditPage(ws, {})).nodes).toHaveLength(9);
      });

      it('sequences stay consecutive through a mix of writes, refusals and no-ops', async () => {
        const { ws } = await fresh(h);
        const g = await ws.group('G');
        const u = await ws.user('Ann');
        await ws.addMember(g, u);
        await ws.addMember(g, u); // no-op
        expect(codes((await ws.gql(MUT.createRole, { input: { name: ' ' } })).body)).toEqual(['BAD_USER_INPUT']);
        await ws.role('r');
        expect(codes((await ws.gql(MUT.createRole, { input: { name: 'r' } })).body)).toEqual(['CONFLICT']);
        await ws.ok(MUT.updateGroup, { id: g, input: { name: 'H', parentId: null } });
        await ws.ok(MUT.deleteGroup, { id: g });
        const events = await eventsAfter(ws, null);
        expect(events.map((e) => Number(e.sequence))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        expect(events.map((e) => e.action)).toEqual([
          'WORKSPACE_CREATED',
          'API_KEY_CREATED',
          'GROUP_CREATED',
          'USER_CREATED',
          'MEMBER_ADDED',
          'ROLE_CREATED',
          'GROUP_RENAMED',
          'GROUP_DELETED',
        ]);
      });

      it.each<[string, Record<string, unknown>, string]>([
        ['first: 0', { first: 0 }, 'first'],
        ['first: -1', { first: -1 }, 'first'],
        ['first: 101', { first: 101 }, 'first'],
        ['after: "nonsense"', { after: 'nonsense' }, 'after'],
        ['after: another encoding of a cursor', { after: Buffer.from('audit:01').toString('base64url') }, 'after'],
        ['after: a cursor past any sequence', { after: Buffer.from('audit:9999999999999999999').toString('base64url') }, 'after'],
      ])('refuses %s with BAD_USER_INPUT naming the argument', async (_, args, field) => {
        const { ws } = await fresh(h);
        const res = await ws.gql(AUDIT, args);
        expect(codes(res.body)).toEqual(['BAD_USER_INPUT']);
        expect(res.body.errors![0].extensions.field).toBe(field);
      });

      it('accepts first: 100 and first: 1', async () => {
        const { ws } = await fresh(h);
        expect((await auditPage(ws, { first: 100 })).nodes).toHaveLength(2);
        const one = await auditPage(ws, { first: 1 });
        expect(one.nodes.map((n) => n.sequence)).toEqual(['1']);
        expect(one.pageInfo.hasNextPage).toBe(true);
      });
    });
  },
  { app: { jwt: { secret: JWT_SECRET, issuer: JWT_ISSUER, audience: JWT_AUDIENCE } } },
);
