// The REST compatibility layer, mounted at /t/:slug/api/v1: its own validation, body parsing,
// authentication, scope check, error envelope and OpenAPI document, none of which leaks
// into the rest of the app (GraphQL keeps its own).
import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { domainContextOf } from '../auth/principal';
import { type ScopeName, holdsAny } from '../policy/scopes';
import type { Db } from '../domain/context';
import { ForbiddenError } from '../domain/errors';
import { type Admission, admitRequest } from '../edge/admission';
import { serviceError } from '../edge/failures';
import { INTERNAL_ERROR, type RestError, envelope, toRestError } from './errors';
import { groupRoutes } from './groups';
import { requireDeclaredScope } from '../edge/route-guard';
import { type SlugParams, sharedSchemas } from './schemas';
import { validatorCompiler } from './validator';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a REST route needs in some form (subtree restrictions are the domain's to check). */
    scope?: ScopeName;
    /** Served without credentials. */
    public?: boolean;
  }
}

export interface RestPluginOptions {
  db: Db;
  admission: Admission;
  maxGroupDepth: number;
}

const OPENAPI_INFO = {
  title: 'kauth groups REST API',
  version: '1',
  description:
    'The documented Groups API of a workspace. Authenticate with `Authorization: Bearer <API key>`; ' +
    'errors are `{ "error": { "code", "message", "details"? } }`.',
};

/** Only JSON bodies; an empty JSON body counts as no body (clients often send the header on every request). */
function acceptJsonOnly(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    return parseJson(request, body as string, done);
  });
}

function sendError(reply: FastifyReply, error: RestError): FastifyReply {
  return reply.code(error.status).headers(error.headers ?? {}).send(envelope(error));
}

export async function restPlugin(app: FastifyInstance, options: RestPluginOptions): Promise<void> {
  app.addHook('onRoute', requireDeclaredScope); // routes deny by default: each one declares its scope
  app.setValidatorCompiler(validatorCompiler);
  acceptJsonOnly(app);
  app.setErrorHandler((error, request, reply) => {
    const mapped = toRestError(serviceError(error, request.work) ?? error);
    if (mapped?.code === 'unavailable') {
      options.admission.metrics.databaseErrors.inc();
      request.log.error({ err: error }, 'database unavailable in a REST request');
    }
    if (!mapped) request.log.error({ err: error }, 'internal error in a REST request');
    return sendError(reply, mapped ?? INTERNAL_ERROR);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, { status: 404, code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  // Each REST request costs one point of the credential's budget.
  const authenticate = admitRequest(options.admission, { slugOf: (request) => (request.params as Partial<SlugParams>).slug, points: 1 });
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.config.public) return;
    return authenticate(request, reply);
  });
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const scope = request.routeOptions.config.scope;
    if (scope && !holdsAny(request.principal!.grants, scope)) {
      throw new ForbiddenError(`this operation requires the ${scope} scope`, [[scope]]);
    }
  });

  for (const schema of sharedSchemas) app.addSchema(schema);
  await app.register(fastifySwagger, {
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    openapi: {
      openapi: '3.1.0',
      info: OPENAPI_INFO,
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key kauth_<slug>_…, or a JWT where the server accepts them' } } },
    },
  });
  // The document holds no workspace data, and answering it alike for every slug keeps it from
  // telling which workspaces exist.
  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());

  groupRoutes(app, (request) => domainContextOf(options.db, request.principal!, options.maxGroupDepth, request.id));
}
