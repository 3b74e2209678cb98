// What every SCIM route shares: the domain context, resource URLs, ids in paths, paging, and
// answering with a resource (projected, with its ETag and Location) or a ListResponse.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DomainOf } from '../edge/tenant-api';
import { SCIM_CONTENT_TYPE, ScimError } from './errors';
import { LIST_SCHEMA, type Resource, parseAttributeList, project } from './resources';

/** The most resources one list response holds (ServiceProviderConfig's filter.maxResults). */
export const MAX_COUNT = 200;
export const DEFAULT_COUNT = 100;

export interface ScimRoutes {
  domainOf: DomainOf;
  /** The SCIM base URL of the request's workspace, for `location` and `$ref`. */
  base: (request: FastifyRequest) => string;
}

export function baseUrl(request: FastifyRequest): string {
  const { slug } = request.params as { slug: string };
  return `${request.protocol}://${request.host}/t/${encodeURIComponent(slug)}/scim/v2`;
}

/** The id in the path; one that cannot be an id is as unknown as one that does not exist. */
export function resourceId(request: FastifyRequest, resourceType: 'User' | 'Group'): number {
  const { id } = request.params as { id: string };
  if (!/^[1-9][0-9]{0,9}$/.test(id) || Number(id) > 2_147_483_647) throw new ScimError(404, `${resourceType} ${id} not found`);
  return Number(id);
}

function integer(value: string | undefined, name: string): number | null {
  if (value === undefined || value === '') return null;
  if (!/^-?[0-9]{1,10}$/.test(value.trim())) throw new ScimError(400, `${name} must be an integer, not ${JSON.stringify(value)}`, 'invalidValue');
  return Number(value);
}

export interface ScimPage {
  startIndex: number;
  offset: number;
  limit: number;
}

/** startIndex is 1-based (below 1 counts as 1); count defaults to 100, is at most 200, below 0 counts as 0. */
export function pageOf(query: Record<string, string | undefined>): ScimPage {
  const startIndex = Math.max(1, integer(query.startIndex, 'startIndex') ?? 1);
  const count = Math.min(MAX_COUNT, Math.max(0, integer(query.count, 'count') ?? DEFAULT_COUNT));
  return { startIndex, offset: startIndex - 1, limit: count };
}

function projected(request: FastifyRequest, resource: Resource, coreSchema: string): Resource {
  const query = request.query as Record<string, string | undefined>;
  return project(resource, parseAttributeList(query.attributes, coreSchema), parseAttributeList(query.excludedAttributes, coreSchema));
}

export function respond(reply: FastifyReply, request: FastifyRequest, resource: Resource, coreSchema: string, status = 200): FastifyReply {
  const meta = resource.meta as { location: string; version: string };
  reply.code(status).type(SCIM_CONTENT_TYPE).header('etag', meta.version);
  if (status === 201) reply.header('location', meta.location);
  return reply.send(projected(request, resource, coreSchema));
}

export function listResponse(reply: FastifyReply, request: FastifyRequest, total: number, page: ScimPage, resources: Resource[], coreSchema: string): FastifyReply {
  return reply.type(SCIM_CONTENT_TYPE).send({
    schemas: [LIST_SCHEMA],
    totalResults: total,
    itemsPerPage: resources.length,
    startIndex: page.startIndex,
    Resources: resources.map((resource) => projected(request, resource, coreSchema)),
  });
}
