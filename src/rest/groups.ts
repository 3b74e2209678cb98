// The documented Groups REST routes: each handler translates the REST shape to one domain call.
import type { FastifyInstance } from 'fastify';
import { type DomainContext, isVisible } from '../domain/context';
import { NotFoundError } from '../domain/errors';
import * as groups from '../domain/groups';
import * as groupReads from '../domain/reads/groups';
import * as members from '../domain/members';
import type { DomainOf } from '../edge/tenant-api';
import {
  type CreateGroupBody,
  type GroupParams,
  type MemberParams,
  type PageQuery,
  type UpdateGroupBody,
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

/**
 * A Group as REST shows it: a parent the credential cannot read is never revealed, so it shows
 * as `parentGroupId: null`, as GraphQL's `parent` does.
 */
function present(ctx: DomainContext, group: groups.Group): groups.Group {
  const parentVisible = group.parentGroupId !== null && isVisible(ctx.access, group.path.slice(0, -1));
  return parentVisible ? group : { ...group, parentGroupId: null };
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

  app.put<{ Params: GroupParams; Body: UpdateGroupBody }>('/groups/:groupId', { schema: updateGroupSchema, config: write }, async (request) => {
    const { parentGroupId, ...fields } = request.body;
    const ctx = domainOf(request);
    return present(ctx, await groups.updateGroup(ctx, request.params.groupId, { ...fields, parentId: parentGroupId }));
  });

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
