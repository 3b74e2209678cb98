// /Groups: identity providers create groups (under the credential's subtree), find them by name,
// rename them and change their members. Members are users only.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type DomainContext, isVisible } from '../domain/context';
import * as groups from '../domain/groups';
import * as groupReads from '../domain/reads/groups';
import { membersOfGroups } from '../domain/reads/members';
import * as provisioning from '../domain/provisioning';
import { searchGroups } from '../domain/search';
import { ScimError } from './errors';
import { GROUP_ATTRIBUTES, parseFilter } from './filter';
import { MemberChanges, type PatchOperation, applyMemberOperation, attribute, expandValueObject, memberIds, readOperations } from './patch';
import { GROUP_SCHEMA, type GroupView, TREE_SCHEMA, expectedVersion, groupResource, parseAttributeList, versionTag, wantsMembers } from './resources';
import { type ScimRoutes, listResponse, pageOf, resourceId, respond } from './respond';

/** The ancestors' ids the credential may see, nearest first (REST and GraphQL hide the others alike). */
function visibleAncestors(ctx: DomainContext, group: groups.Group): number[] {
  return group.path
    .slice(0, -1)
    .map((id, i) => ({ id, path: group.path.slice(0, i + 1) }))
    .filter(({ path }) => isVisible(ctx.access, path))
    .map(({ id }) => id)
    .reverse();
}

/** Groups as SCIM shows them, with their members (deactivated users included) unless the response leaves them out. */
async function viewsOf(ctx: DomainContext, request: FastifyRequest, found: groups.Group[]): Promise<GroupView[]> {
  const query = request.query as Record<string, string | undefined>;
  const withMembers = wantsMembers(parseAttributeList(query.attributes, GROUP_SCHEMA), parseAttributeList(query.excludedAttributes, GROUP_SCHEMA));
  const members = withMembers ? await membersOfGroups(ctx, found.map((g) => g.id), false, { includeDeactivated: true }) : undefined;
  return found.map((group, i) => ({ group, members: members?.[i], ancestorIds: visibleAncestors(ctx, group) }));
}

async function findGroup(ctx: DomainContext, id: number): Promise<groups.Group> {
  const [group] = await groupReads.groupsByIds(ctx, [id]);
  if (!group) throw new ScimError(404, `Group ${id} not found`);
  return group;
}

function requireBody(body: unknown): object {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ScimError(400, 'the request body must be a Group resource', 'invalidSyntax');
  return body;
}

/** Attributes a request may carry but not change: ignored. */
const IGNORED = new Set(['id', 'schemas', 'meta', TREE_SCHEMA.toLowerCase()]);

function patchChange(body: unknown): provisioning.ProvisionedGroupChange {
  const change: provisioning.ProvisionedGroupChange = {};
  const members = new MemberChanges();
  const apply = (operation: PatchOperation) => {
    const name = operation.attribute!;
    if (name === 'members') return applyMemberOperation(members, operation);
    if (name === 'displayname') {
      if (operation.op === 'remove') throw new ScimError(400, 'displayName is required: it can be replaced, not removed', 'mutability');
      change.name = operation.value;
      return;
    }
    if (name === 'externalid') {
      change.externalId = operation.op === 'remove' ? null : operation.value;
      return;
    }
    if (IGNORED.has(name) || name.startsWith(`${TREE_SCHEMA.toLowerCase()}:`)) return;
    throw new ScimError(400, `"${name}" is not an attribute of a Group`, 'invalidPath');
  };
  for (const operation of readOperations(body, GROUP_SCHEMA)) expandValueObject(operation, GROUP_SCHEMA).forEach(apply);
  const memberChange = members.result();
  return memberChange ? { ...change, members: memberChange } : change;
}

export function groupRoutes(app: FastifyInstance, routes: ScimRoutes): void {
  const read = { scope: 'groups:read' } as const;
  const write = { scope: 'groups:write' } as const;
  // Member changes need groups:members:write; a rename in the same request needs groups:write too (the domain checks it against the group).
  const change = { scope: 'groups:members:write' } as const;
  const { domainOf, base } = routes;
  const answer = async (request: FastifyRequest, ctx: DomainContext, group: groups.Group) => groupResource((await viewsOf(ctx, request, [group]))[0], base(request));

  app.get('/Groups', { config: read }, async (request, reply) => {
    const ctx = domainOf(request);
    const query = request.query as Record<string, string | undefined>;
    const page = pageOf(query);
    const found = await searchGroups(ctx, parseFilter(query.filter, GROUP_ATTRIBUTES), page);
    const views = await viewsOf(ctx, request, found.nodes);
    return listResponse(reply, request, found.total, page, views.map((view) => groupResource(view, base(request))), GROUP_SCHEMA);
  });

  app.post('/Groups', { config: write }, async (request, reply) => {
    const ctx = domainOf(request);
    const body = requireBody(request.body);
    const name = attribute(body, 'displayName');
    if (name === undefined) throw new ScimError(400, 'displayName is required', 'invalidValue');
    const group = await provisioning.provisionGroup(ctx, {
      name,
      externalId: attribute(body, 'externalId'),
      memberIds: memberIds(attribute(body, 'members') ?? []),
    });
    return respond(reply, request, await answer(request, ctx, group), GROUP_SCHEMA, 201);
  });

  app.get('/Groups/:id', { config: read }, async (request, reply) => {
    const ctx = domainOf(request);
    return respond(reply, request, await answer(request, ctx, await findGroup(ctx, resourceId(request, 'Group'))), GROUP_SCHEMA);
  });

  app.put('/Groups/:id', { config: change }, async (request, reply) => {
    const ctx = domainOf(request);
    const body = requireBody(request.body);
    const name = attribute(body, 'displayName');
    if (name === undefined) throw new ScimError(400, 'displayName is required', 'invalidValue');
    const group = await provisioning.updateProvisionedGroup(
      ctx,
      resourceId(request, 'Group'),
      { name, externalId: attribute(body, 'externalId') ?? null, members: { replace: memberIds(attribute(body, 'members') ?? []) } },
      expectedVersion(request.headers['if-match']),
    );
    return respond(reply, request, await answer(request, ctx, group), GROUP_SCHEMA);
  });

  app.patch('/Groups/:id', { config: change }, async (request, reply) => {
    const ctx = domainOf(request);
    const change = patchChange(request.body);
    const group = await provisioning.updateProvisionedGroup(ctx, resourceId(request, 'Group'), change, expectedVersion(request.headers['if-match']));
    // 204 as IdPs expect; the resource when the client asks for attributes of it.
    if ((request.query as { attributes?: string }).attributes === undefined) return reply.code(204).header('etag', versionTag(group.version)).send();
    return respond(reply, request, await answer(request, ctx, group), GROUP_SCHEMA);
  });

  app.delete('/Groups/:id', { config: write }, async (request, reply) => {
    await provisioning.deprovisionGroup(domainOf(request), resourceId(request, 'Group'), expectedVersion(request.headers['if-match']));
    return reply.code(204).send();
  });
}
