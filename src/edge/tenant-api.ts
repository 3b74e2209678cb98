// A workspace's HTTP API under /t/:slug/…, as REST and SCIM both serve one: JSON bodies only,
// routes that deny by default, each request admitted (credential of the URL's workspace, one point
// of its budget) and held to its route's scope, failures answered through one error handler. Each
// API brings its media types, its renderer of failure bodies and its routes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { domainContextOf } from '../auth/principal';
import type { Db, DomainContext } from '../domain/context';
import { ForbiddenError } from '../domain/errors';
import { checkInputBounds } from '../domain/validate';
import { type ScopeName, holdsAny } from '../policy/scopes';
import { type Admission, admitRequest, boundInput } from './admission';
import { type RenderFailure, failureHandler } from './failures';
import { NoRouteError, requireDeclaredScope } from './route-guard';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs in some form (subtree restrictions are the domain's to check). */
    scope?: ScopeName;
    /** Served without credentials. */
    public?: boolean;
  }
}

/** The domain context of an admitted request: its principal's workspace and grants. */
export type DomainOf = (request: FastifyRequest) => DomainContext;

export interface TenantApi {
  /** Its name in logs: "REST", "SCIM". */
  name: string;
  /** The media types its bodies may have; an empty body counts as none. */
  mediaTypes: string[];
  /** The type of every answer, failures included, where it is not JSON's. */
  contentType?: string;
  renderFailure: RenderFailure;
  routes(app: FastifyInstance, domainOf: DomainOf): Promise<void> | void;
}

export interface TenantApiOptions {
  api: TenantApi;
  db: Db;
  admission: Admission;
  maxGroupDepth: number;
}

function acceptJson(app: FastifyInstance, mediaTypes: string[]): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  // Clients often send the header on every request, bodiless ones included.
  app.addContentTypeParser(mediaTypes, { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    return parseJson(request, body as string, done);
  });
}

/** Refuses (FORBIDDEN, naming it) a request whose credential does not hold `scope` in some form: a route's scope, or one a route needs for part of its answer. */
export function requireScope(request: FastifyRequest, scope: ScopeName): void {
  if (!holdsAny(request.principal!.grants, scope)) throw new ForbiddenError(`this operation requires the ${scope} scope`, [[scope]]);
}

export async function tenantApiPlugin(app: FastifyInstance, options: TenantApiOptions): Promise<void> {
  const { api, admission } = options;
  app.addHook('onRoute', requireDeclaredScope); // routes deny by default: each one declares its scope
  acceptJson(app, api.mediaTypes);
  app.setErrorHandler(failureHandler(admission.metrics, api.name, api.renderFailure, api.contentType));
  app.setNotFoundHandler((request) => {
    throw new NoRouteError(request.method, request.url.split('?')[0]);
  });

  app.addHook(
    'preValidation',
    boundInput(admission.metrics, (request) => {
      checkInputBounds(request.body, '');
      checkInputBounds(request.query, '', { location: 'query' });
    }),
  );
  // Each request costs one point of the credential's budget.
  const admit = admitRequest(admission, { slugOf: (request) => (request.params as { slug?: string }).slug, points: 1 });
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public) return;
    await admit(request);
    const scope = request.routeOptions.config.scope;
    if (scope) requireScope(request, scope);
  });

  await api.routes(app, (request) => domainContextOf(options.db, request.principal!, options.maxGroupDepth, request.id));
}
