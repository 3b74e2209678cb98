// SCIM 2.0 (RFC 7643, RFC 7644) at /t/:slug/scim/v2, for identity providers that provision users,
// groups and memberships: a tenant API (src/edge/tenant-api.ts) with its own media type
// (application/scim+json) and error schema. Every write goes through the domain layer, as
// GraphQL's and REST's do.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RenderFailure } from '../edge/failures';
import type { DomainOf, TenantApi } from '../edge/tenant-api';
import { RESOURCE_TYPES, SCHEMAS, SERVICE_PROVIDER_CONFIG } from './discovery';
import { SCIM_CONTENT_TYPE, ScimError, scimFailure } from './errors';
import { groupRoutes } from './groups';
import { LIST_SCHEMA } from './resources';
import { baseUrl } from './respond';
import { userRoutes } from './users';

const list = <T>(resources: T[]) => ({ schemas: [LIST_SCHEMA], totalResults: resources.length, itemsPerPage: resources.length, startIndex: 1, Resources: resources });

function discoveryRoutes(app: FastifyInstance): void {
  const open = { config: { public: true } };
  const send = (reply: FastifyReply, body: unknown) => reply.type(SCIM_CONTENT_TYPE).send(body);
  const byId = <T extends { id: string }>(items: T[], kind: string) => (request: FastifyRequest, reply: FastifyReply) => {
    const { id } = request.params as { id: string };
    const found = items.find((item) => item.id === id);
    if (!found) throw new ScimError(404, `no ${kind} ${id}`);
    return send(reply, found);
  };
  app.get('/ServiceProviderConfig', open, (_request, reply) => send(reply, SERVICE_PROVIDER_CONFIG));
  app.get('/ResourceTypes', open, (_request, reply) => send(reply, list(RESOURCE_TYPES)));
  app.get('/ResourceTypes/:id', open, byId(RESOURCE_TYPES, 'resource type'));
  app.get('/Schemas', open, (_request, reply) => send(reply, list(SCHEMAS)));
  app.get('/Schemas/:id', open, byId(SCHEMAS, 'schema'));
}

async function routes(app: FastifyInstance, domainOf: DomainOf): Promise<void> {
  discoveryRoutes(app);
  const routes = { domainOf, base: baseUrl };
  userRoutes(app, routes);
  groupRoutes(app, routes);
}

export const scimApi: TenantApi = {
  name: 'SCIM',
  mediaTypes: ['application/scim+json', 'application/json'],
  contentType: SCIM_CONTENT_TYPE,
  renderFailure: scimFailure as RenderFailure,
  routes,
};
