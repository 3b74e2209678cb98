// Resolvers: one or two lines each, calling the domain. Authorization is not here: it is
// applied to every field by the @requiresScope directive (src/graphql/scope-directive.ts)
// and, for subtree restrictions on writes, by the domain inside its transactions.
import { DateTimeResolver, EmailAddressResolver, JSONResolver } from 'graphql-scalars';
import * as apiKeys from '../domain/apikeys';
import * as audit from '../domain/audit';
import { isVisible, withinRoots } from '../domain/context';
import * as groups from '../domain/groups';
import { type ImportSource, importDocument } from '../domain/import';
import * as groupReads from '../domain/reads/groups';
import * as members from '../domain/members';
import { previewMove } from '../domain/move-impact';
import * as roles from '../domain/roles';
import * as users from '../domain/users';
import { type Page, windowOf } from '../domain/pages';
import { parseId, parseIds } from '../domain/validate';
import { type GraphQLResolveInfo, Kind } from 'graphql';
import type { Resolvers } from '../generated/graphql';
import type { Group } from '../generated/prisma/client';
import type { ConnectionModel } from './context';
import { loadPresent } from './loaders';
import { auditPage, groupChanges } from './audit';

const optionalId = (value: string | null | undefined, field: string) =>
  value === undefined ? undefined : value === null ? null : parseId(value, field);

/** True when the field's selection is `id` alone (with `__typename` at most), in every place it is asked for. */
function onlyIdSelected(info: GraphQLResolveInfo): boolean {
  return info.fieldNodes.every((node) =>
    node.selectionSet?.selections.every(
      (selection) => selection.kind === Kind.FIELD && (selection.name.value === 'id' || selection.name.value === '__typename') && !selection.directives?.length,
    ),
  );
}

/** A connection: a page, and the list's size, read only if `totalCount` is selected. */
async function connection<T>(page: Promise<Page<T>>, totalCount: () => number | Promise<number>): Promise<ConnectionModel<T>> {
  return { page: await page, totalCount };
}

const connectionResolvers = {
  edges: <T>({ page }: ConnectionModel<T>) => page.nodes.map((node, i) => ({ cursor: page.cursors[i], node })),
  nodes: <T>({ page }: ConnectionModel<T>) => page.nodes,
  pageInfo: <T>({ page }: ConnectionModel<T>) => ({
    hasNextPage: page.hasNextPage,
    hasPreviousPage: page.hasPreviousPage,
    startCursor: page.cursors[0] ?? null,
    endCursor: page.cursors.at(-1) ?? null,
  }),
  totalCount: <T>({ totalCount }: ConnectionModel<T>) => totalCount(),
};

export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  EmailAddress: EmailAddressResolver,
  JSON: JSONResolver,

  Query: {
    viewer: (_, __, { principal }) => principal,
    group: (_, { id }, { loaders }) => loaders.groupById.load(parseId(id, 'id')),
    groups: (_, args, { domain, loaders }) => {
      const filter = { parentId: optionalId(args.parentId, 'parentId'), rootsOnly: args.rootsOnly ?? false, search: args.search };
      const window = windowOf(args, 'sorted', args.orderBy);
      return connection(
        groupReads.groupPage(domain, window, filter).then((page) => ({ ...page, nodes: loaders.primeGroups(page.nodes) })),
        () => groupReads.countGroups(domain, filter),
      );
    },
    user: (_, { id }, { loaders }) => loaders.userById.load(parseId(id, 'id')),
    users: (_, args, { domain }) =>
      connection(users.userPage(domain, windowOf(args, 'sorted', args.orderBy), args.search), () => users.countUsers(domain, args.search)),
    role: (_, { id }, { loaders }) => loaders.roleById.load(parseId(id, 'id')),
    roles: (_, args, { domain }) => connection(roles.rolePage(domain, windowOf(args, 'id')), () => roles.countRoles(domain)),
    apiKeys: (_, args, { domain }) => connection(apiKeys.apiKeyPage(domain, windowOf(args, 'id')), () => apiKeys.countApiKeys(domain)),
    auditEvents: (_, args, { domain }) => auditPage(domain, args),
    moveImpact: (_, args, { domain }) =>
      previewMove(domain, parseId(args.groupId, 'groupId'), { parentId: optionalId(args.newParentId, 'newParentId') ?? null }),
  },

  Subscription: {
    groupChanges: {
      subscribe: (_, { root }, ctx) => groupChanges(ctx, optionalId(root, 'root') ?? null),
      resolve: (event: audit.AuditEvent) => event,
    },
  },

  AuditEventConnection: {
    edges: (page) => page.events,
    nodes: (page) => page.events,
    pageInfo: (page) => page.pageInfo,
  },
  AuditEventEdge: {
    cursor: (event) => audit.encodeCursor(event.seq),
    node: (event) => event,
  },
  AuditEvent: {
    cursor: (event) => audit.encodeCursor(event.seq),
    sequence: (event) => String(event.seq),
    at: (event) => event.occurredAt,
    actor: (event) => event,
    action: (event) => event.action as audit.AuditAction,
    target: (event) => event,
    changes: (event) =>
      Object.entries(event.changes as audit.Changes).map(([field, { before, after }]) => ({ field, before, after })),
  },
  AuditActor: {
    kind: (event) => (event.actor === 'cli' ? 'CLI' : event.actor.startsWith('jwt:') ? 'JWT' : 'API_KEY'),
    ref: (event) => event.actor,
    name: (event) => event.actorName,
  },
  AuditTarget: {
    type: (event) => event.targetType,
    id: (event) => event.targetId,
  },
  GroupChange: {
    cursor: (event) => audit.encodeCursor(event.seq),
    action: (event) => event.action as audit.AuditAction,
    at: (event) => event.occurredAt,
    groupId: (event) => String(event.groupId),
    group: (event, _, { loaders }) => (event.groupId === null ? null : loaders.groupById.load(event.groupId)),
    // audit:read restricted to a subtree covers only events about groups inside it.
    event: (event, _, { domain }) => (withinRoots(domain.access.auditRoots, event.groupPath) ? event : null),
  },

  Viewer: {
    tenant: (principal) => principal.tenant,
    scopes: (principal) => principal.scopes,
    apiKey: (principal) => principal.apiKey,
  },

  GroupConnection: connectionResolvers,
  UserConnection: connectionResolvers,
  RoleConnection: connectionResolvers,
  ApiKeyConnection: connectionResolvers,
  MoveImpactUserConnection: connectionResolvers,

  MoveImpact: {
    fromParent: (impact, _, { loaders }) => (impact.fromParentId === null ? null : loaders.groupById.load(impact.fromParentId)),
    toParent: (impact, _, { loaders }) => (impact.toParentId === null ? null : loaders.groupById.load(impact.toParentId)),
    allowed: (impact) => impact.refusals.length === 0,
    totals: (impact) => impact.totals(),
    users: (impact, args) => connection(impact.users(windowOf(args, 'id')), async () => (await impact.totals()).usersAffected),
  },
  RoleChange: {
    grantedBy: (change, _, { loaders }) => loadPresent(loaders.groupById, change.grantedBy),
  },

  Group: {
    id: (group) => String(group.id),
    depth: (group) => groups.depthOf(group),
    parent: (group, _, { loaders, domain }, info) => {
      if (group.parentGroupId === null) return null;
      // `parent { id }` (a tree drawn from a list) is answered from the row, as REST's parentGroupId:
      // the parent exists (a foreign key), and it is visible exactly when its path (this one
      // without the last id) holds a visible root. Any other field reads the parent's row.
      if (onlyIdSelected(info)) return isVisible(domain.access, group.path.slice(0, -1)) ? ({ id: group.parentGroupId } as Group) : null;
      return loaders.groupById.load(group.parentGroupId);
    },
    // Every child and descendant of a group the credential sees is visible too: the kept counts are exact.
    children: (group, args, { loaders }) => connection(loaders.children(windowOf(args, 'sorted', args.orderBy)).load(group.id), () => group.childCount),
    ancestors: (group, _, { loaders }) => loadPresent(loaders.groupById, groups.ancestorIdsOf(group)),
    descendants: (group, args, { loaders }) =>
      connection(loaders.descendants(windowOf(args, 'path')).load(group.id), () => group.subtreeSize - 1),
    members: (group, { inherited, ...args }, { loaders }) =>
      connection((inherited ? loaders.inheritedMembers : loaders.directMembers)(windowOf(args, 'sorted', args.orderBy)).load(group.id), () =>
        (inherited ? loaders.inheritedMemberCount : loaders.directMemberCount).load(group.id),
      ),
    memberCount: (group, { inherited }, { loaders }) =>
      (inherited ? loaders.inheritedMemberCount : loaders.directMemberCount).load(group.id),
    roles: (group, _, { loaders }) => loaders.rolesOfGroup.load(group.id),
    effectiveRoles: (group, _, { loaders }) => loaders.effectiveRolesOfGroup.load(group.id),
  },

  User: {
    id: (user) => String(user.id),
    groups: (user, args, { loaders }) =>
      connection(loaders.groupsOfUser(windowOf(args, 'id')).load(user.id), () => loaders.groupCountOfUser.load(user.id)),
    roles: (user, _, { loaders }) => loaders.rolesOfUser.load(user.id),
    effectiveRoles: (user, _, { loaders }) => loaders.effectiveRolesOfUser.load(user.id),
  },

  EffectiveRole: {
    via: (effective, _, { loaders }) => loadPresent(loaders.groupById, effective.viaGroupIds),
  },

  Role: { id: (role) => String(role.id) },
  Tenant: { id: (tenant) => String(tenant.id) },
  ApiKey: { id: (key) => String(key.id) },

  SetGroupMembersResult: {
    added: (result, _, { loaders }) => loadPresent(loaders.userById, result.added),
    removed: (result, _, { loaders }) => loadPresent(loaders.userById, result.removed),
  },

  Mutation: {
    createGroup: (_, { input }, { domain }) =>
      groups.createGroup(domain, { ...input, parentId: optionalId(input.parentId, 'input.parentId') }),
    updateGroup: (_, { id, input }, { domain }) =>
      groups.updateGroup(domain, parseId(id, 'id'), { ...input, parentId: optionalId(input.parentId, 'input.parentId') }),
    deleteGroup: async (_, { id }, { domain }) => String(await groups.deleteGroup(domain, parseId(id, 'id'))),
    addGroupMember: (_, args, { domain }) =>
      members.addGroupMember(domain, parseId(args.groupId, 'groupId'), parseId(args.userId, 'userId')),
    removeGroupMember: (_, args, { domain }) =>
      members.removeGroupMember(domain, parseId(args.groupId, 'groupId'), parseId(args.userId, 'userId')),
    setGroupMembers: (_, args, { domain }) =>
      members.setGroupMembers(domain, parseId(args.groupId, 'groupId'), parseIds(args.userIds, 'userIds')),
    createUser: (_, { input }, { domain }) => users.createUser(domain, input),
    updateUser: (_, { id, input }, { domain }) => users.editUser(domain, parseId(id, 'id'), input),
    deleteUser: async (_, { id }, { domain }) => String(await users.deleteUser(domain, parseId(id, 'id'))),
    createRole: (_, { input }, { domain }) => roles.createRole(domain, input),
    updateRole: (_, { id, input }, { domain }) => roles.updateRole(domain, parseId(id, 'id'), input),
    deleteRole: async (_, { id }, { domain }) => String(await roles.deleteRole(domain, parseId(id, 'id'))),
    assignGroupRole: (_, args, { domain }) =>
      roles.setGroupRole(domain, parseId(args.groupId, 'groupId'), parseId(args.roleId, 'roleId'), true),
    unassignGroupRole: (_, args, { domain }) =>
      roles.setGroupRole(domain, parseId(args.groupId, 'groupId'), parseId(args.roleId, 'roleId'), false),
    assignUserRole: (_, args, { domain }) =>
      roles.setUserRole(domain, parseId(args.userId, 'userId'), parseId(args.roleId, 'roleId'), true),
    unassignUserRole: (_, args, { domain }) =>
      roles.setUserRole(domain, parseId(args.userId, 'userId'), parseId(args.roleId, 'roleId'), false),
    createApiKey: (_, { input }, { domain, principal, clock }) => apiKeys.createApiKey(domain, principal, input, clock.now()),
    revokeApiKey: (_, { id }, { domain, principal, clock }) => apiKeys.revokeApiKey(domain, principal, parseId(id, 'id'), clock.now()),
    importWorkspace: (_, args, { domain, principal }) =>
      importDocument(domain, principal.tenant.slug, args.document, (args.from ?? 'KAUTH').toLowerCase() as ImportSource, { dryRun: args.dryRun ?? false }),
  },
};
