// SCIM 2.0 (RFC 7643, RFC 7644) at /t/:slug/scim/v2, for identity providers that provision users,
// groups and memberships: its own body parsing (application/scim+json), authentication, scope
// check and error schema. Every write goes through the domain layer, as GraphQL's and REST's do.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { domainContextOf } from '../auth/principal';
import type { Db } from '../domain/context';
import { ForbiddenError } from '../domain/errors';
import { type Admission, admitRequest } from '../edge/admission';
import { serviceError } from '../edge/failures';
import { holdsAny } from '../policy/scopes';
import { requireDeclaredScope } from '../edge/route-guard';
import { RESOURCE_TYPES, SCHEMAS, SERVICE_PROVIDER_CONFIG } from './discovery';
import { INTERNAL, SCIM_CONTENT_TYPE, ScimError, sendScimError, toScimError } from './errors';
import { groupRoutes } from './groups';
import { LIST_SCHEMA } from './resources';
import { baseUrl } from './respond';
import { userRoutes } from './users';

export interface ScimPluginOptions {
  db: Db;
  admission: Admission;
  maxGroupDepth: number;
}

/** SCIM bodies are JSON under either media type; an empty body counts as none. */
function acceptScimJson(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/scim+json', 'application/json'], { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    return parseJson(request, body as string, done);
  });
}

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

export async function scimPlugin(app: FastifyInstance, options: ScimPluginOptions): Promise<void> {
  app.addHook('onRoute', requireDeclaredScope); // deny by default, as the REST routes do
  acceptScimJson(app);
  app.setErrorHandler((error, request, reply) => {
    const mapped = toScimError(serviceError(error, request.work) ?? error);
    if (!mapped) request.log.error({ err: error }, 'internal error in a SCIM request');
    return sendScimError(reply, mapped ?? INTERNAL);
  });
  app.setNotFoundHandler((request, reply) => sendScimError(reply, new ScimError(404, `no SCIM endpoint ${request.method} ${request.url.split('?')[0]}`)));

  // Each SCIM request costs one point of the credential's budget, as a REST request does.
  const authenticate = admitRequest(options.admission, { slugOf: (request) => (request.params as { slug?: string }).slug, points: 1 });
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.public) return;
    return authenticate(request, reply);
  });
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    if (scope && !holdsAny(request.principal!.grants, scope)) throw new ForbiddenError(`this operation requires the ${scope} scope`, [[scope]]);
  });

  discoveryRoutes(app);
  const routes = {
    domainOf: (request: FastifyRequest) => domainContextOf(options.db, request.principal!, options.maxGroupDepth, request.id),
    base: baseUrl,
  };
  userRoutes(app, routes);
  groupRoutes(app, routes);
}
