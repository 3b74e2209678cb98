// The documented Groups REST routes: each handler translates the REST shape to one domain call.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type DomainContext, isVisible } from '../domain/context';
import { NotFoundError } from '../domain/errors';
import * as groups from '../domain/groups';
import * as groupReads from '../domain/reads/groups';
import * as members from '../domain/members';
import { type RoleChange, previewMove } from '../domain/move-impact';
import { windowOf } from '../domain/pages';
import { type DomainOf, requireScope } from '../edge/tenant-api';
import {
  type CreateGroupBody,
  type GroupParams,
  type MemberParams,
  type PageQuery,
  type UpdateGroupBody,
  type UpdateGroupQuery,
  addMemberSchema,
  createGroupSchema,
  deleteGroupSchema,
  getGroupSchema,
  listGroupsSchema,
  removeMemberSchema,
  updateGroupSchema,
} from './schemas';

const read = { scope: 'groups:read' } as const;
const write = { scope: 'groups:write' } as const;
const membersWrite = { scope: 'groups:members:write' } as const;

type RestGroup = Pick<groups.Group, 'id' | 'name' | 'description' | 'parentGroupId' | 'tenantId'>;

/**
 * A Group as REST shows it: a parent the credential cannot read is never revealed, so it shows
 * as `parentGroupId: null`, as GraphQL's `parent` does.
 */
function present(ctx: DomainContext, group: groups.Group): RestGroup {
  const parentVisible = group.parentGroupId !== null && isVisible(ctx.access, group.path.slice(0, -1));
  const { id, name, description, tenantId } = group;
  // Exactly the documented fields: PUT's answer is one of two shapes, told apart by them.
  return { id, name, description, parentGroupId: parentVisible ? group.parentGroupId : null, tenantId };
}

const roleChange = (change: RoleChange) => ({ id: change.role.id, name: change.role.name, grantedBy: change.grantedBy });

/**
 * The dry run of a PUT: authorized as the PUT (groups:write, by the route), plus roles:read for
 * the role changes; the same preview as GraphQL's moveImpact, a page of users at a time.
 */
async function movePreview(request: FastifyRequest<{ Params: GroupParams; Body: UpdateGroupBody; Querystring: UpdateGroupQuery }>, ctx: DomainContext) {
  requireScope(request, 'roles:read');
  const { groupId } = request.params;
  const { limit, after } = request.query;
  const window = windowOf({ first: limit, after }, 'id');
  const impact = await previewMove(ctx, groupId, { parentId: request.body.parentGroupId, name: request.body.name });
  if (!impact) throw new NotFoundError('Group', groupId);
  const [page, totals] = await Promise.all([impact.users(window), impact.totals()]);
  return {
    dryRun: true,
    groupId,
    parentGroupId: impact.fromParentId,
    newParentGroupId: impact.toParentId,
    allowed: impact.refusals.length === 0,
    refusals: impact.refusals.map(({ code, message }) => ({ code, message })),
    totals,
    users: page.nodes.map(({ user, gained, lost }) => ({ id: user.id, name: user.name, gained: gained.map(roleChange), lost: lost.map(roleChange) })),
    meta: { limit, nextCursor: page.hasNextPage ? (page.cursors.at(-1) ?? null) : null },
  };
}

export function groupRoutes(app: FastifyInstance, domainOf: DomainOf): void {
  app.get<{ Querystring: PageQuery }>('/groups', { schema: listGroupsSchema, config: read }, async (request) => {
    const { offset, limit } = request.query;
    const ctx = domainOf(request);
    const { nodes, total } = await groupReads.listGroups(ctx, { offset, limit });
    return { data: nodes.map((group) => present(ctx, group)), meta: { total, offset, limit } };
  });

  app.post<{ Body: CreateGroupBody }>('/groups', { schema: createGroupSchema, config: write }, async (request, reply) => {
    const { parentGroupId, ...fields } = request.body;
    const ctx = domainOf(request);
    return reply.code(201).send(present(ctx, await groups.createGroup(ctx, { ...fields, parentId: parentGroupId })));
  });

  app.get<{ Params: GroupParams }>('/groups/:groupId', { schema: getGroupSchema, config: read }, async (request) => {
    const ctx = domainOf(request);
    const [group] = await groupReads.groupsByIds(ctx, [request.params.groupId]);
    if (!group) throw new NotFoundError('Group', request.params.groupId);
    return present(ctx, group);
  });

  app.put<{ Params: GroupParams; Body: UpdateGroupBody; Querystring: UpdateGroupQuery }>(
    '/groups/:groupId',
    { schema: updateGroupSchema, config: write },
    async (request) => {
      const { parentGroupId, ...fields } = request.body;
      const ctx = domainOf(request);
      if (request.query.dryRun === 'true') return movePreview(request, ctx);
      return present(ctx, await groups.updateGroup(ctx, request.params.groupId, { ...fields, parentId: parentGroupId }));
    },
  );

  app.delete<{ Params: GroupParams }>('/groups/:groupId', { schema: deleteGroupSchema, config: write }, async (request, reply) => {
    await groups.deleteGroup(domainOf(request), request.params.groupId);
    return reply.code(204).send();
  });

  app.post<{ Params: MemberParams }>('/groups/:groupId/members/:userId', { schema: addMemberSchema, config: membersWrite }, async (request, reply) => {
    await members.addGroupMember(domainOf(request), request.params.groupId, request.params.userId);
    return reply.code(204).send();
  });

  app.delete<{ Params: MemberParams }>('/groups/:groupId/members/:userId', { schema: removeMemberSchema, config: membersWrite }, async (request, reply) => {
    await members.removeGroupMember(domainOf(request), request.params.groupId, request.params.userId);
    return reply.code(204).send();
  });
}
