// The authorization table: every Query and Mutation field of the schema, each under
//   no credential · another tenant's key · a key missing the field's scope ·
//   a restricted scope inside and outside its subtree (group fields) · a sufficient key.
// The rows are keyed by field and the suite iterates over the schema, so a field added
// without a row fails here.
import { getDirective } from '@graphql-tools/utils';
import type { GraphQLObjectType } from 'graphql';
import { ALL_SCOPES, type ScopeName, expandGrants, knownGrants } from '../../src/policy/scopes';
import { buildSchema } from '../../src/graphql/schema';
import { type GraphQLBody, type Harness, type Response, type Workspace, codes, eachBackend } from '../support/harness';
import { buildTree } from '../support/tree-fixture';

type Vars = Record<string, unknown>;
interface Op {
  query: string;
  variables?: Vars;
}

/**
 * Tenant A's tree (R, S roots; A is the subtree a restricted key is given):
 *   R ─ A ─ A1 ─ A11        alice ∈ A1, bob ∈ B1, carol in no group
 *   │        (editor)       editor assigned to A1 and to alice; viewer assigned to nobody
 *   └ B ─ B1                spare: an API key with groups:read
 *   S
 */
interface Ids {
  R: string;
  A: string;
  A1: string;
  A11: string;
  B: string;
  B1: string;
  S: string;
  alice: string;
  bob: string;
  carol: string;
  editor: string;
  viewer: string;
  spareKey: string;
}

interface World {
  ws: Workspace;
  other: Workspace;
  ids: Ids;
  /** In every name and email of tenant A: a response that contains it leaks A's data. */
  marker: string;
}

async function buildWorld(h: Harness): Promise<World> {
  const [ws, other] = await Promise.all([h.workspace(), h.workspace()]);
  // Letters only after the id: a search for "A1" must not also find a name whose marker holds "a1".
  const marker = `mark${ws.tenant.id}x${Array.from({ length: 6 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('')}`;
  const t = await buildTree(ws, {
    groups: { R: { A: { A1: { A11: {} } }, B: { B1: {} } }, S: {} },
    users: { alice: 'alice', bob: 'bob', carol: 'carol' },
    roles: ['editor', 'viewer'],
    members: { A1: ['alice'], B1: ['bob'] },
    groupRoles: { A1: ['editor'] },
    userRoles: { alice: ['editor'] },
    prefix: marker,
  });
  const spare = await ws.ok('mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { apiKey { id } } }', {
    i: { name: `${marker} spare`, scopes: ['groups:read'] },
  });
  return { ws, other, ids: { ...t, spareKey: spare.createApiKey.apiKey.id as string }, marker };
}

/** Everything tenant A holds, read from the database (lastUsedAt aside: using a key changes it). */
async function snapshot(ws: Workspace) {
  const db = ws.h.db.prisma;
  const tenantId = ws.tenant.id;
  const [groups, members, groupRoles, users, userRoles, roles, apiKeys] = await Promise.all([
    db.group.findMany({ where: { tenantId }, orderBy: { id: 'asc' } }),
    db.groupMember.findMany({ where: { tenantId }, orderBy: [{ groupId: 'asc' }, { userId: 'asc' }] }),
    db.groupRole.findMany({ where: { tenantId }, orderBy: [{ groupId: 'asc' }, { roleId: 'asc' }] }),
    db.user.findMany({ where: { tenantId }, orderBy: { id: 'asc' } }),
    db.userRole.findMany({ where: { tenantId }, orderBy: [{ userId: 'asc' }, { roleId: 'asc' }] }),
    db.role.findMany({ where: { tenantId }, orderBy: { id: 'asc' } }),
    db.apiKey.findMany({ where: { tenantId }, orderBy: { id: 'asc' }, omit: { lastUsedAt: true } }),
  ]);
  return { groups, members, groupRoles, users, userRoles, roles, apiKeys };
}

const idsOf = (list: { id: string }[]): string[] => list.map((x) => x.id);
/** Ids in the order the API lists them (ascending). */
const byId = (...ids: string[]): string[] => [...ids].sort((a, b) => Number(a) - Number(b));
const nodes = (...ids: string[]) => byId(...ids).map((id) => ({ id }));

interface Case {
  name: string;
  op: (ids: Ids) => Op;
  /** Checks a successful response's data (reads outside a restriction succeed too, as "not found"). */
  check?: (data: any, w: World) => void | Promise<void>;
  /** A mutation outside the subtree on a group the key cannot read: NOT_FOUND, as for an unknown id (default FORBIDDEN). */
  notFound?: true;
}

interface Row {
  /** The scope the field needs; null for @public. */
  requires: ScopeName | null;
  /** Scopes each of which suffices instead of `requires` (a requirement of one of several scopes). */
  orRequires?: ScopeName[];
  /** Further scopes the row needs (groups:read for a returned Group or a group argument, a revoked key's scopes). */
  alsoNeeds?: ScopeName[];
  op: (ids: Ids) => Op;
  /** The sufficient key's result. */
  works: (data: any, w: World) => void | Promise<void>;
  /** Another tenant's key on A's ids: NOT_FOUND, or a check that the data is its own. */
  otherTenant: 'NOT_FOUND' | ((data: any, w: World) => void | Promise<void>);
  /** For fields with a groupArg: the restricted form `<scope>@A`, used inside and outside A's subtree. */
  restricted?: { scope: ScopeName; inside: Case[]; outside: Case[] };
}

const TABLE: Record<string, Row> = {
  'Query.viewer': {
    requires: null,
    op: () => ({ query: '{ viewer { tenant { slug } scopes } }' }),
    works: (data, w) => expect(data.viewer.tenant.slug).toBe(w.ws.tenant.slug),
    otherTenant: (data, w) => expect(data.viewer.tenant.slug).toBe(w.other.tenant.slug),
  },
  'Query.group': {
    requires: 'groups:read',
    op: (ids) => ({ query: 'query($id: ID!) { group(id: $id) { id name } }', variables: { id: ids.A1 } }),
    works: (data, w) => expect(data.group).toEqual({ id: w.ids.A1, name: `${w.marker} A1` }),
    otherTenant: (data) => expect(data.group).toBeNull(),
    restricted: {
      scope: 'groups:read',
      inside: [
        { name: 'a group below the restriction root', op: (ids) => ({ query: 'query($id: ID!) { group(id: $id) { id } }', variables: { id: ids.A11 } }), check: (data, w) => expect(data.group).toEqual({ id: w.ids.A11 }) },
        { name: 'the restriction root', op: (ids) => ({ query: 'query($id: ID!) { group(id: $id) { id } }', variables: { id: ids.A } }), check: (data, w) => expect(data.group).toEqual({ id: w.ids.A }) },
      ],
      outside: [
        { name: 'a group in a sibling subtree (not found)', op: (ids) => ({ query: 'query($id: ID!) { group(id: $id) { id } }', variables: { id: ids.B1 } }), check: (data) => expect(data.group).toBeNull() },
        { name: 'the parent of the restriction root (not found)', op: (ids) => ({ query: 'query($id: ID!) { group(id: $id) { id } }', variables: { id: ids.R } }), check: (data) => expect(data.group).toBeNull() },
      ],
    },
  },
  'Query.groups': {
    requires: 'groups:read',
    op: () => ({ query: '{ groups(first: 100) { nodes { id name } totalCount } }' }),
    works: (data, w) => {
      const { R, A, A1, A11, B, B1, S } = w.ids;
      expect(idsOf(data.groups.nodes)).toEqual(byId(R, A, A1, A11, B, B1, S));
      expect(data.groups.totalCount).toBe(7);
    },
    otherTenant: (data) => expect(data.groups).toEqual({ nodes: [], totalCount: 0 }),
    restricted: {
      scope: 'groups:read',
      inside: [
        {
          name: 'every group, listed and counted within the subtree only',
          op: () => ({ query: '{ groups(first: 100) { nodes { id } totalCount } }' }),
          check: (data, w) => expect(data.groups).toEqual({ nodes: nodes(w.ids.A, w.ids.A1, w.ids.A11), totalCount: 3 }),
        },
        {
          name: 'the children of a group inside',
          op: (ids) => ({ query: 'query($p: ID) { groups(parentId: $p) { nodes { id } totalCount } }', variables: { p: ids.A1 } }),
          check: (data, w) => expect(data.groups).toEqual({ nodes: [{ id: w.ids.A11 }], totalCount: 1 }),
        },
        {
          name: 'the roots (none visible) and a search',
          op: () => ({ query: '{ roots: groups(rootsOnly: true) { totalCount } found: groups(search: "A1") { nodes { id } } }' }),
          check: (data, w) => {
            expect(data.roots.totalCount).toBe(0);
            expect(data.found.nodes).toEqual(nodes(w.ids.A1, w.ids.A11));
          },
        },
      ],
      outside: [
        {
          name: 'the children of a group outside (none)',
          op: (ids) => ({ query: 'query($p: ID) { groups(parentId: $p) { nodes { id } totalCount } }', variables: { p: ids.B } }),
          check: (data) => expect(data.groups).toEqual({ nodes: [], totalCount: 0 }),
        },
        {
          name: 'the children of the parent of the restriction root (only the root)',
          op: (ids) => ({ query: 'query($p: ID) { groups(parentId: $p) { nodes { id } totalCount } }', variables: { p: ids.R } }),
          check: (data, w) => expect(data.groups).toEqual({ nodes: [{ id: w.ids.A }], totalCount: 1 }),
        },
      ],
    },
  },
  'Query.user': {
    requires: 'users:read',
    op: (ids) => ({ query: 'query($id: ID!) { user(id: $id) { id email } }', variables: { id: ids.alice } }),
    works: (data, w) => expect(data.user).toEqual({ id: w.ids.alice, email: `alice.${w.marker}@example.com` }),
    otherTenant: (data) => expect(data.user).toBeNull(),
  },
  'Query.users': {
    requires: 'users:read',
    op: () => ({ query: '{ users(first: 100) { nodes { id email } totalCount } }' }),
    works: (data, w) => {
      expect(idsOf(data.users.nodes)).toEqual(byId(w.ids.alice, w.ids.bob, w.ids.carol));
      expect(data.users.totalCount).toBe(3);
    },
    otherTenant: (data) => expect(data.users).toEqual({ nodes: [], totalCount: 0 }),
  },
  'Query.role': {
    requires: 'roles:read',
    op: (ids) => ({ query: 'query($id: ID!) { role(id: $id) { id name } }', variables: { id: ids.editor } }),
    works: (data, w) => expect(data.role).toEqual({ id: w.ids.editor, name: `${w.marker} editor` }),
    otherTenant: (data) => expect(data.role).toBeNull(),
  },
  'Query.roles': {
    requires: 'roles:read',
    op: () => ({ query: '{ roles(first: 100) { nodes { id name } totalCount } }' }),
    works: (data, w) => {
      expect(idsOf(data.roles.nodes)).toEqual(byId(w.ids.editor, w.ids.viewer));
      expect(data.roles.totalCount).toBe(2);
    },
    otherTenant: (data) => expect(data.roles).toEqual({ nodes: [], totalCount: 0 }),
  },
  'Query.apiKeys': {
    requires: 'apikeys:read',
    op: () => ({ query: '{ apiKeys(first: 100) { nodes { id name scopes } pageInfo { hasNextPage } } }' }),
    works: (data, w) => {
      expect(data.apiKeys.pageInfo.hasNextPage).toBe(false);
      expect(data.apiKeys.nodes).toContainEqual({ id: w.ids.spareKey, name: `${w.marker} spare`, scopes: ['groups:read'] });
    },
    otherTenant: (data, w) => {
      expect(data.apiKeys.pageInfo.hasNextPage).toBe(false);
      expect(idsOf(data.apiKeys.nodes)).not.toContain(w.ids.spareKey);
    },
  },

  'Query.auditEvents': {
    requires: 'audit:read',
    op: () => ({ query: '{ auditEvents(first: 100) { nodes { action target { type id } } pageInfo { hasNextPage } } }' }),
    works: (data, w) => {
      expect(data.auditEvents.pageInfo.hasNextPage).toBe(false);
      expect(data.auditEvents.nodes).toContainEqual({ action: 'GROUP_CREATED', target: { type: 'Group', id: w.ids.A11 } });
      expect(data.auditEvents.nodes).toContainEqual({ action: 'USER_CREATED', target: { type: 'User', id: w.ids.alice } });
    },
    otherTenant: (data, w) =>
      expect(data.auditEvents.nodes).not.toContainEqual({ action: 'GROUP_CREATED', target: { type: 'Group', id: w.ids.A1 } }),
    restricted: {
      scope: 'audit:read',
      inside: [
        {
          name: 'the events about groups of the subtree, and no others',
          op: () => ({ query: '{ auditEvents(first: 100) { nodes { action target { type id } } } }' }),
          check: (data, w) =>
            expect(data.auditEvents.nodes).toEqual([
              { action: 'GROUP_CREATED', target: { type: 'Group', id: w.ids.A } },
              { action: 'GROUP_CREATED', target: { type: 'Group', id: w.ids.A1 } },
              { action: 'GROUP_CREATED', target: { type: 'Group', id: w.ids.A11 } },
              { action: 'MEMBER_ADDED', target: { type: 'Group', id: w.ids.A1 } },
              { action: 'GROUP_ROLE_ASSIGNED', target: { type: 'Group', id: w.ids.A1 } },
            ]),
        },
      ],
      outside: [
        {
          name: 'events about a sibling subtree (none)',
          op: (ids) => ({ query: 'query($g: ID!) { auditEvents(filter: { group: $g, includeSubtree: true }) { nodes { action } } }', variables: { g: ids.B } }),
          check: (data) => expect(data.auditEvents.nodes).toEqual([]),
        },
        {
          name: 'events about the parent of the restriction root (none)',
          op: (ids) => ({ query: 'query($g: ID!) { auditEvents(filter: { group: $g }) { nodes { action } } }', variables: { g: ids.R } }),
          check: (data) => expect(data.auditEvents.nodes).toEqual([]),
        },
      ],
    },
  },
  'Query.moveImpact': {
    requires: 'groups:read',
    alsoNeeds: ['roles:read'],
    // B1 under A1: bob (in B1) would gain editor, granted by A1.
    op: (ids) => moveImpactOp(ids.B1, ids.A1),
    works: (data, w) =>
      expect(data.moveImpact).toEqual({
        group: { id: w.ids.B1 },
        allowed: false,
        refusals: [{ code: 'FORBIDDEN' }, { code: 'FORBIDDEN' }],
        totals: { usersAffected: 1, rolesGained: 1, rolesLost: 0 },
        users: { nodes: [{ user: { id: w.ids.bob }, gained: [{ role: { id: w.ids.editor }, grantedBy: [{ id: w.ids.A1 }] }], lost: [] }] },
      }),
    otherTenant: (data) => expect(data.moveImpact).toBeNull(),
    restricted: {
      scope: 'groups:read',
      inside: [
        {
          name: 'a move within the subtree',
          op: (ids) => moveImpactOp(ids.A11, ids.A),
          check: (data, w) => expect(data.moveImpact).toMatchObject({ group: { id: w.ids.A11 }, totals: { usersAffected: 0 } }),
        },
      ],
      outside: [
        { name: 'a group of a sibling subtree (not found)', op: (ids) => moveImpactOp(ids.B1, ids.A1), check: (data) => expect(data.moveImpact).toBeNull() },
        {
          name: 'a destination outside the subtree (refused as not found, nothing worked out)',
          op: (ids) => moveImpactOp(ids.A1, ids.B1),
          check: (data) =>
            expect(data.moveImpact).toMatchObject({ refusals: [{ code: 'FORBIDDEN' }, { code: 'NOT_FOUND' }], totals: { usersAffected: 0 }, users: { nodes: [] } }),
        },
      ],
    },
  },

  'Mutation.createGroup': {
    requires: 'groups:write',
    op: (ids) => createGroupOp(ids.A1),
    works: async (data, w) => {
      const created = await w.ws.h.db.prisma.group.findUnique({ where: { id: Number(data.createGroup.id) } });
      expect(created).toMatchObject({ tenantId: w.ws.tenant.id, name: 'New', parentGroupId: Number(w.ids.A1) });
    },
    otherTenant: 'NOT_FOUND',
    restricted: {
      scope: 'groups:write',
      inside: [
        { name: 'under a group of the subtree', op: (ids) => createGroupOp(ids.A11) },
        { name: 'under the restriction root', op: (ids) => createGroupOp(ids.A) },
      ],
      outside: [
        { name: 'under a group of a sibling subtree', op: (ids) => createGroupOp(ids.B1), notFound: true },
        { name: 'under the parent of the restriction root', op: (ids) => createGroupOp(ids.R), notFound: true },
        { name: 'a new root', op: () => createGroupOp(null) },
      ],
    },
  },
  'Mutation.updateGroup': {
    requires: 'groups:write',
    op: (ids) => updateGroupOp(ids.A11, { name: 'Renamed' }),
    works: (data, w) => expect(data.updateGroup).toEqual({ id: w.ids.A11, name: 'Renamed' }),
    otherTenant: 'NOT_FOUND',
    restricted: {
      scope: 'groups:write',
      inside: [
        { name: 'renaming a group of the subtree', op: (ids) => updateGroupOp(ids.A11, { name: 'Renamed' }) },
        { name: 'renaming the restriction root itself', op: (ids) => updateGroupOp(ids.A, { name: 'Renamed' }) },
        { name: 'moving a group within the subtree', op: (ids) => updateGroupOp(ids.A11, { parentId: ids.A }) },
      ],
      outside: [
        { name: 'renaming a group of a sibling subtree', op: (ids) => updateGroupOp(ids.B1, { name: 'Renamed' }), notFound: true },
        { name: 'renaming the parent of the restriction root', op: (ids) => updateGroupOp(ids.R, { name: 'Renamed' }), notFound: true },
        { name: 'moving a group of the subtree out of it', op: (ids) => updateGroupOp(ids.A11, { parentId: ids.B1 }), notFound: true },
        { name: 'moving a group of the subtree to the top level', op: (ids) => updateGroupOp(ids.A11, { parentId: null }) },
        { name: 'moving a group from outside into the subtree', op: (ids) => updateGroupOp(ids.B1, { parentId: ids.A1 }), notFound: true },
        { name: 'moving the restriction root itself', op: (ids) => updateGroupOp(ids.A, { parentId: ids.S }) },
      ],
    },
  },
  'Mutation.deleteGroup': {
    requires: 'groups:write',
    op: (ids) => deleteGroupOp(ids.A1),
    works: async (data, w) => {
      expect(data.deleteGroup).toBe(w.ids.A1);
      expect(await w.ws.h.db.prisma.group.findUnique({ where: { id: Number(w.ids.A1) } })).toBeNull();
    },
    otherTenant: 'NOT_FOUND',
    restricted: {
      scope: 'groups:write',
      inside: [{ name: 'a leaf below the restriction root', op: (ids) => deleteGroupOp(ids.A11) }],
      outside: [
        // Its child A11 would become a root, which a restricted key may not make.
        { name: 'a group below the restriction root that has children', op: (ids) => deleteGroupOp(ids.A1) },
        { name: 'a group of a sibling subtree', op: (ids) => deleteGroupOp(ids.B1), notFound: true },
        { name: 'the restriction root itself', op: (ids) => deleteGroupOp(ids.A) },
        { name: 'the parent of the restriction root', op: (ids) => deleteGroupOp(ids.R), notFound: true },
      ],
    },
  },
  'Mutation.addGroupMember': {
    requires: 'groups:members:write',
    op: (ids) => memberOp('addGroupMember', ids.A1, ids.carol),
    works: async (_, w) => expect(await memberIds(w, w.ids.A1)).toEqual(byId(w.ids.alice, w.ids.carol)),
    otherTenant: 'NOT_FOUND',
    restricted: {
      scope: 'groups:members:write',
      inside: [
        { name: 'to a group of the subtree', op: (ids) => memberOp('addGroupMember', ids.A11, ids.carol) },
        { name: 'to the restriction root', op: (ids) => memberOp('addGroupMember', ids.A, ids.carol) },
      ],
      outside: [
        { name: 'to a group of a sibling subtree', op: (ids) => memberOp('addGroupMember', ids.B1, ids.carol), notFound: true },
        { name: 'to the parent of the restriction root', op: (ids) => memberOp('addGroupMember', ids.R, ids.carol), notFound: true },
      ],
    },
  },
  'Mutation.removeGroupMember': {
    requires: 'groups:members:write',
    op: (ids) => memberOp('removeGroupMember', ids.A1, ids.alice),
    works: async (_, w) => expect(await memberIds(w, w.ids.A1)).toEqual([]),
    otherTenant: 'NOT_FOUND',
    restricted: {
      scope: 'groups:members:write',
      inside: [{ name: 'from a group of the subtree', op: (ids) => memberOp('removeGroupMember', ids.A1, ids.alice) }],
      outside: [{ name: 'from a group of a sibling subtree', op: (ids) => memberOp('removeGroupMember', ids.B1, ids.bob), notFound: true }],
    },
  },
  'Mutation.setGroupMembers': {
    requires: 'groups:members:write',
    op: (ids) => setMembersOp(ids.A1, [ids.carol]),
    works: async (data, w) => {
      expect(data.setGroupMembers).toEqual({ added: [{ id: w.ids.carol }], removed: [{ id: w.ids.alice }] });
      expect(await memberIds(w, w.ids.A1)).toEqual([w.ids.carol]);
    },
    otherTenant: 'NOT_FOUND',
    restricted: {
      scope: 'groups:members:write',
      inside: [{ name: 'of a group of the subtree', op: (ids) => setMembersOp(ids.A11, [ids.bob, ids.carol]) }],
      outside: [
        { name: 'of a group of a sibling subtree', op: (ids) => setMembersOp(ids.B1, [ids.carol]), notFound: true },
        { name: 'of the parent of the restriction root', op: (ids) => setMembersOp(ids.R, [ids.carol]), notFound: true },
      ],
    },
  },
  'Mutation.createUser': {
    requires: 'users:write',
    op: () => ({ query: 'mutation { createUser(input: { email: "dave@example.com", name: "Dave" }) { id email } }' }),
    works: (data) => expect(data.createUser.email).toBe('dave@example.com'),
    otherTenant: (data, w) => expectInTenant(w.other, 'user', data.createUser.id),
  },
  'Mutation.updateUser': {
    requires: 'users:write',
    op: (ids) => ({
      query: 'mutation($id: ID!) { updateUser(id: $id, input: { name: "Carol B", active: false }) { id name active } }',
      variables: { id: ids.carol },
    }),
    works: (data, w) => expect(data.updateUser).toEqual({ id: w.ids.carol, name: 'Carol B', active: false }),
    otherTenant: 'NOT_FOUND',
  },
  'Mutation.deleteUser': {
    requires: 'users:write',
    op: (ids) => ({ query: 'mutation($id: ID!) { deleteUser(id: $id) }', variables: { id: ids.alice } }),
    works: async (data, w) => {
      expect(data.deleteUser).toBe(w.ids.alice);
      expect(await memberIds(w, w.ids.A1)).toEqual([]);
    },
    otherTenant: 'NOT_FOUND',
  },
  'Mutation.createRole': {
    requires: 'roles:write',
    op: () => ({ query: 'mutation { createRole(input: { name: "auditor" }) { id name } }' }),
    works: (data) => expect(data.createRole.name).toBe('auditor'),
    otherTenant: (data, w) => expectInTenant(w.other, 'role', data.createRole.id),
  },
  'Mutation.updateRole': {
    requires: 'roles:write',
    op: (ids) => ({ query: 'mutation($id: ID!) { updateRole(id: $id, input: { name: "watcher" }) { id name } }', variables: { id: ids.viewer } }),
    works: (data, w) => expect(data.updateRole).toEqual({ id: w.ids.viewer, name: 'watcher' }),
    otherTenant: 'NOT_FOUND',
  },
  'Mutation.deleteRole': {
    requires: 'roles:write',
    op: (ids) => ({ query: 'mutation($id: ID!) { deleteRole(id: $id) }', variables: { id: ids.editor } }),
    works: async (data, w) => {
      expect(data.deleteRole).toBe(w.ids.editor);
      expect([await groupRoleIds(w, w.ids.A1), await userRoleIds(w, w.ids.alice)]).toEqual([[], []]);
    },
    otherTenant: 'NOT_FOUND',
  },
  'Mutation.assignGroupRole': {
    requires: 'roles:write',
    alsoNeeds: ['groups:read'],
    op: (ids) => groupRoleOp('assignGroupRole', ids.A11, ids.viewer),
    works: async (_, w) => expect(await groupRoleIds(w, w.ids.A11)).toEqual([w.ids.viewer]),
    otherTenant: 'NOT_FOUND',
  },
  'Mutation.unassignGroupRole': {
    requires: 'roles:write',
    alsoNeeds: ['groups:read'],
    op: (ids) => groupRoleOp('unassignGroupRole', ids.A1, ids.editor),
    works: async (_, w) => expect(await groupRoleIds(w, w.ids.A1)).toEqual([]),
    otherTenant: 'NOT_FOUND',
  },
  'Mutation.assignUserRole': {
    requires: 'roles:write',
    alsoNeeds: ['users:read'],
    op: (ids) => userRoleOp('assignUserRole', ids.carol, ids.viewer),
    works: async (_, w) => expect(await userRoleIds(w, w.ids.carol)).toEqual([w.ids.viewer]),
    otherTenant: 'NOT_FOUND',
  },
  'Mutation.unassignUserRole': {
    requires: 'roles:write',
    alsoNeeds: ['users:read'],
    op: (ids) => userRoleOp('unassignUserRole', ids.alice, ids.editor),
    works: async (_, w) => expect(await userRoleIds(w, w.ids.alice)).toEqual([]),
    otherTenant: 'NOT_FOUND',
  },
  'Mutation.createApiKey': {
    requires: 'apikeys:write',
    alsoNeeds: ['groups:read'],
    op: () => ({
      query: 'mutation { createApiKey(input: { name: "sync bot", scopes: ["groups:read"] }) { key apiKey { id scopes } } }',
    }),
    works: async (data, w) => {
      expect(data.createApiKey.apiKey.scopes).toEqual(['groups:read']);
      const res = await w.ws.gql('{ viewer { tenant { slug } } }', {}, data.createApiKey.key);
      expect(res.body.data.viewer.tenant.slug).toBe(w.ws.tenant.slug);
    },
    otherTenant: (data, w) => expectInTenant(w.other, 'apiKey', data.createApiKey.apiKey.id),
  },
  'Mutation.revokeApiKey': {
    requires: 'apikeys:write',
    alsoNeeds: ['groups:read'],
    op: (ids) => ({ query: 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }', variables: { id: ids.spareKey } }),
    works: (data, w) => {
      expect(data.revokeApiKey.id).toBe(w.ids.spareKey);
      expect(data.revokeApiKey.revokedAt).toEqual(expect.any(String));
    },
    otherTenant: 'NOT_FOUND',
  },
  'Mutation.importWorkspace': {
    requires: 'groups:write',
    orRequires: ['groups:members:write', 'users:write', 'roles:write'],
    op: () => ({
      query: 'mutation($d: JSON!) { importWorkspace(document: $d) { dryRun groups { created updated unchanged } } }',
      variables: { d: { format: 'kauth-workspace', version: 1, groups: [{ externalId: 'imported-root', name: 'Imported' }] } },
    }),
    works: async (data, w) => {
      expect(data.importWorkspace).toEqual({ dryRun: false, groups: { created: 1, updated: 0, unchanged: 0 } });
      const rows = await w.ws.h.db.prisma.group.findMany({ where: { tenantId: w.ws.tenant.id, externalId: 'imported-root' } });
      expect(rows.map((g) => g.name)).toEqual(['Imported']);
    },
    otherTenant: async (data, w) => {
      expect(data.importWorkspace.groups.created).toBe(1);
      const rows = await w.other.h.db.prisma.group.findMany({ where: { externalId: 'imported-root', tenantId: { in: [w.ws.tenant.id, w.other.tenant.id] } } });
      expect(rows.map((g) => g.tenantId)).toEqual([w.other.tenant.id]);
    },
  },
};

function moveImpactOp(groupId: string, newParentId: string): Op {
  return {
    query: `query($g: ID!, $p: ID) { moveImpact(groupId: $g, newParentId: $p) { group { id } allowed refusals { code }
      totals { usersAffected rolesGained rolesLost } users(first: 100) { nodes { user { id } gained { role { id } grantedBy { id } } lost { role { id } } } } } }`,
    variables: { g: groupId, p: newParentId },
  };
}

function createGroupOp(parentId: string | null): Op {
  return {
    query: 'mutation($input: CreateGroupInput!) { createGroup(input: $input) { id name } }',
    variables: { input: { name: 'New', parentId } },
  };
}

function updateGroupOp(id: string, input: Vars): Op {
  return { query: 'mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id name } }', variables: { id, input } };
}

function deleteGroupOp(id: string): Op {
  return { query: 'mutation($id: ID!) { deleteGroup(id: $id) }', variables: { id } };
}

function memberOp(field: 'addGroupMember' | 'removeGroupMember', groupId: string, userId: string): Op {
  return { query: `mutation($g: ID!, $u: ID!) { ${field}(groupId: $g, userId: $u) { id } }`, variables: { g: groupId, u: userId } };
}

function setMembersOp(groupId: string, userIds: string[]): Op {
  return {
    query: 'mutation($g: ID!, $u: [ID!]!) { setGroupMembers(groupId: $g, userIds: $u) { added { id } removed { id } } }',
    variables: { g: groupId, u: userIds },
  };
}

function groupRoleOp(field: 'assignGroupRole' | 'unassignGroupRole', groupId: string, roleId: string): Op {
  return { query: `mutation($g: ID!, $r: ID!) { ${field}(groupId: $g, roleId: $r) { id } }`, variables: { g: groupId, r: roleId } };
}

function userRoleOp(field: 'assignUserRole' | 'unassignUserRole', userId: string, roleId: string): Op {
  return { query: `mutation($u: ID!, $r: ID!) { ${field}(userId: $u, roleId: $r) { id } }`, variables: { u: userId, r: roleId } };
}

async function memberIds(w: World, groupId: string): Promise<string[]> {
  const rows = await w.ws.h.db.prisma.groupMember.findMany({ where: { groupId: Number(groupId) }, orderBy: { userId: 'asc' } });
  return rows.map((r) => String(r.userId));
}

async function groupRoleIds(w: World, groupId: string): Promise<string[]> {
  const rows = await w.ws.h.db.prisma.groupRole.findMany({ where: { groupId: Number(groupId) }, orderBy: { roleId: 'asc' } });
  return rows.map((r) => String(r.roleId));
}

async function userRoleIds(w: World, userId: string): Promise<string[]> {
  const rows = await w.ws.h.db.prisma.userRole.findMany({ where: { userId: Number(userId) }, orderBy: { roleId: 'asc' } });
  return rows.map((r) => String(r.roleId));
}

async function expectInTenant(ws: Workspace, model: 'user' | 'role' | 'apiKey', id: string): Promise<void> {
  const where = { where: { id: Number(id) } };
  const db = ws.h.db.prisma;
  const row = model === 'user' ? await db.user.findUnique(where) : model === 'role' ? await db.role.findUnique(where) : await db.apiKey.findUnique(where);
  expect(row?.tenantId).toBe(ws.tenant.id);
}

const SCHEMA = buildSchema();
const ROOT_FIELDS = (['Query', 'Mutation'] as const).flatMap((typeName) =>
  Object.keys((SCHEMA.getType(typeName) as GraphQLObjectType).getFields()).map((field) => ({ typeName, field, key: `${typeName}.${field}` })),
);

function declared(typeName: string, field: string) {
  const config = (SCHEMA.getType(typeName) as GraphQLObjectType).getFields()[field];
  return {
    scopes: getDirective(SCHEMA, config, 'requiresScope')?.[0]?.scopes as string[][] | undefined,
    groupArg: getDirective(SCHEMA, config, 'requiresScope')?.[0]?.groupArg as string | undefined,
    public: Boolean(getDirective(SCHEMA, config, 'public')?.[0]),
  };
}

/** Every scope except `scopes` and those that imply them: the field's scopes are the only thing missing. */
function allScopesBut(...scopes: ScopeName[]): string[] {
  return ALL_SCOPES.filter((s) => !expandGrants(knownGrants([s])).some((g) => scopes.includes(g.scope)));
}

function expectForbidden(res: Response<GraphQLBody>, field: string, required: string[][]): void {
  expect(res.status).toBe(200);
  expect(res.body.errors).toEqual([
    expect.objectContaining({ path: [field], extensions: { code: 'FORBIDDEN', requiredScopes: required } }),
  ]);
  expect(res.body.data?.[field] ?? null).toBeNull();
}

function expectNotFound(res: Response<GraphQLBody>, field: string): void {
  expect(res.status).toBe(200);
  expect(res.body.errors).toEqual([expect.objectContaining({ path: [field], extensions: expect.objectContaining({ code: 'NOT_FOUND', entity: 'Group' }) })]);
  expect(res.body.data?.[field] ?? null).toBeNull();
}

function expectSuccess(res: Response<GraphQLBody>): void {
  expect({ status: res.status, errors: res.body.errors }).toEqual({ status: 200, errors: undefined });
}

eachBackend('authorization table', (h) => {
  it('has a row for every Query and Mutation field, and no row for a field that does not exist', () => {
    expect(Object.keys(TABLE).sort()).toEqual(ROOT_FIELDS.map((f) => f.key).sort());
  });

  it('has restricted cases for every mutation whose requirement names a group argument, and for the group, audit and move-preview reads', () => {
    const withGroupArg = ROOT_FIELDS.filter((f) => declared(f.typeName, f.field).groupArg).map((f) => f.key);
    const withCases = Object.entries(TABLE).filter(([, row]) => row.restricted).map(([key]) => key);
    expect(withCases.sort()).toEqual([...withGroupArg, 'Query.group', 'Query.groups', 'Query.auditEvents', 'Query.moveImpact'].sort());
  });

  describe.each(ROOT_FIELDS)('$key', ({ typeName, field, key }) => {
    const row = TABLE[key];
    if (!row) {
      it('has a table row', () => expect(TABLE).toHaveProperty([key]));
      return;
    }
    const isMutation = typeName === 'Mutation';

    it(`declares ${row.requires ?? '@public'} in the schema`, () => {
      const schemaSays = declared(typeName, field);
      if (row.requires === null) expect(schemaSays).toMatchObject({ public: true, scopes: undefined });
      else expect(schemaSays.scopes).toEqual([row.requires, ...(row.orRequires ?? [])].map((scope) => [scope]));
    });

    it('answers 401 UNAUTHENTICATED with WWW-Authenticate: Bearer without a credential, changing nothing', async () => {
      const w = await buildWorld(h);
      const before = await snapshot(w.ws);
      const op = row.op(w.ids);
      const res = await h.gql(null, op.query, op.variables);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(codes(res.body)).toEqual(['UNAUTHENTICATED']);
      expect(res.body.data).toBeUndefined();
      expect(await snapshot(w.ws)).toEqual(before);
    });

    it("gives another tenant's key none of this tenant's data and changes nothing here", async () => {
      const w = await buildWorld(h);
      const before = await snapshot(w.ws);
      const op = row.op(w.ids);
      const res = await w.other.gql(op.query, op.variables);
      expect(res.status).toBe(200);
      expect(JSON.stringify(res.body)).not.toContain(w.marker);
      if (row.otherTenant === 'NOT_FOUND') {
        expect(codes(res.body)).toEqual(['NOT_FOUND']);
      } else {
        expectSuccess(res);
        await row.otherTenant(res.body.data, w);
      }
      expect(await snapshot(w.ws)).toEqual(before);
    });

    if (row.requires === null) {
      it('is reachable with any one scope', async () => {
        const w = await buildWorld(h);
        const op = row.op(w.ids);
        const res = await w.ws.gql(op.query, op.variables, await w.ws.key(['roles:read']));
        expectSuccess(res);
        await row.works(res.body.data, w);
      });
    } else {
      const requires = [row.requires, ...(row.orRequires ?? [])];
      it(`refuses a key with every scope but ${requires.join(', ')} with FORBIDDEN${isMutation ? ', before any side effect' : ''}`, async () => {
        const w = await buildWorld(h);
        const key = await w.ws.key(allScopesBut(...requires));
        const before = await snapshot(w.ws);
        const op = row.op(w.ids);
        const res = await w.ws.gql(op.query, op.variables, key);
        expectForbidden(res, field, requires.map((scope) => [scope]));
        expect(await snapshot(w.ws)).toEqual(before);
      });
    }

    it(`works with exactly ${[row.requires ?? 'any scope', ...(row.alsoNeeds ?? [])].join(' + ')}`, async () => {
      const w = await buildWorld(h);
      const key = await w.ws.key([row.requires ?? 'users:read', ...(row.alsoNeeds ?? [])]);
      const before = await snapshot(w.ws);
      const op = row.op(w.ids);
      const res = await w.ws.gql(op.query, op.variables, key);
      expectSuccess(res);
      await row.works(res.body.data, w);
      if (isMutation) expect(await snapshot(w.ws)).not.toEqual(before);
    });

    const restricted = row.restricted;
    if (!restricted) return;
    const restrictedKey = (w: World) => w.ws.key([`${restricted.scope}@${w.ids.A}`, ...(row.alsoNeeds ?? [])]);

    it.each(restricted.inside)(`works with ${restricted.scope}@A inside the subtree: $name`, async (c) => {
      const w = await buildWorld(h);
      const key = await restrictedKey(w);
      const before = await snapshot(w.ws);
      const op = c.op(w.ids);
      const res = await w.ws.gql(op.query, op.variables, key);
      expectSuccess(res);
      await c.check?.(res.body.data, w);
      if (isMutation) expect(await snapshot(w.ws)).not.toEqual(before);
    });

    it.each(restricted.outside)(
      isMutation
        ? `refuses ${restricted.scope}@A outside the subtree with FORBIDDEN (NOT_FOUND for a group it cannot read), changing nothing: $name`
        : `finds nothing outside the subtree with ${restricted.scope}@A: $name`,
      async (c) => {
        const w = await buildWorld(h);
        const key = await restrictedKey(w);
        const before = await snapshot(w.ws);
        const op = c.op(w.ids);
        const res = await w.ws.gql(op.query, op.variables, key);
        if (isMutation) {
          if (c.notFound) expectNotFound(res, field);
          else expectForbidden(res, field, [[restricted.scope]]);
          expect(await snapshot(w.ws)).toEqual(before);
        } else {
          expectSuccess(res);
          await c.check!(res.body.data, w);
        }
      },
    );
  });
});
