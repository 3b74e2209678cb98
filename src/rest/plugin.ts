// The REST compatibility layer, mounted at /t/:slug/api/v1 as a tenant API (src/edge/tenant-api.ts):
// its own validation, error envelope and OpenAPI document, none of which leaks into the rest of
// the app (GraphQL keeps its own).
import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { DomainOf, TenantApi } from '../edge/tenant-api';
import { restFailure } from './errors';
import { groupRoutes } from './groups';
import { sharedSchemas } from './schemas';
import { validatorCompiler } from './validator';

const OPENAPI_INFO = {
  title: 'kauth groups REST API',
  version: '1',
  description:
    'The documented Groups API of a workspace. Authenticate with `Authorization: Bearer <API key>`; ' +
    'errors are `{ "error": { "code", "message", "details"? } }`.',
};

async function routes(app: FastifyInstance, domainOf: DomainOf): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
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
  groupRoutes(app, domainOf);
}

export const restApi: TenantApi = {
  name: 'REST',
  mediaTypes: ['application/json'],
  renderFailure: restFailure,
  routes,
};
