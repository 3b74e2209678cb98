// Resolvers: one or two lines each, calling the domain. Authorization is not here: it is
// applied to every field by the @requiresScope directive (src/graphql/scope-directive.ts)
// and, for subtree restrictions on writes, by the domain inside its transactions.
import { DateTimeResolver, EmailAddressResolver, JSONResolver } from 'graphql-scalars';
import * as apiKeys from '../domain/apikeys';
import * as audit from '../domain/audit';
import { withinRoots } from '../domain/context';
import * as groups from '../domain/groups';
import * as members from '../domain/members';
import * as roles from '../domain/roles';
import * as users from '../domain/users';
import { pageArgs, parseId, parseIds } from '../domain/validate';
import type { Resolvers } from '../generated/graphql';
import { loadPresent } from './loaders';
import { auditPage, groupChanges } from './audit';

const optionalId = (value: string | null | undefined, field: string) =>
  value === undefined ? undefined : value === null ? null : parseId(value, field);

export const resolvers: Resolvers = {
  DateTime: DateTimeResolver,
  EmailAddress: EmailAddressResolver,
  JSON: JSONResolver,

  Query: {
    viewer: (_, __, { principal }) => principal,
    group: (_, { id }, { loaders }) => loaders.groupById.load(parseId(id, 'id')),
    groups: async (_, args, { domain, loaders }) => {
      const page = pageArgs(args.offset, args.limit);
      const { nodes, total } = await groups.listGroups(domain, {
        ...page,
        parentId: optionalId(args.parentId, 'parentId'),
        rootsOnly: args.rootsOnly ?? false,
        search: args.search,
      });
      return { nodes: loaders.primeGroups(nodes), total, ...page };
    },
    user: (_, { id }, { loaders }) => loaders.userById.load(parseId(id, 'id')),
    users: async (_, args, { domain }) => {
      const page = pageArgs(args.offset, args.limit);
      return { ...(await users.listUsers(domain, { ...page, search: args.search })), ...page };
    },
    role: (_, { id }, { loaders }) => loaders.roleById.load(parseId(id, 'id')),
    roles: (_, __, { domain }) => roles.listRoles(domain),
    apiKeys: (_, __, { domain }) => apiKeys.listApiKeys(domain),
    auditEvents: (_, args, { domain }) => auditPage(domain, args),
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

  Group: {
    id: (group) => String(group.id),
    depth: (group) => groups.depthOf(group),
    parent: (group, _, { loaders }) => (group.parentGroupId === null ? null : loaders.groupById.load(group.parentGroupId)),
    children: (group, _, { loaders }) => loaders.children.load(group.id),
    ancestors: (group, _, { loaders }) => loadPresent(loaders.groupById, groups.ancestorIdsOf(group)),
    descendants: (group, _, { loaders }) => loaders.descendants.load(group.id),
    members: (group, { inherited }, { loaders }) =>
      (inherited ? loaders.inheritedMembers : loaders.directMembers).load(group.id),
    memberCount: (group, { inherited }, { loaders }) =>
      (inherited ? loaders.inheritedMemberCount : loaders.directMemberCount).load(group.id),
    roles: (group, _, { loaders }) => loaders.rolesOfGroup.load(group.id),
    effectiveRoles: (group, _, { loaders }) => loaders.effectiveRolesOfGroup.load(group.id),
  },

  User: {
    id: (user) => String(user.id),
    groups: async (user, _, { loaders }) => loadPresent(loaders.groupById, await loaders.groupIdsOfUser.load(user.id)),
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
    createRole: (_, { input }, { domain }) => roles.createRole(domain, input),
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
  },
};
