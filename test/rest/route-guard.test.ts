// REST routes deny by default: the onRoute guard stops start-up on a route that declares
// neither the scope it needs nor that it is public, and lets every declared route through.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Db } from '../../src/domain/context';
import type { Admission } from '../../src/edge/admission';
import { requireDeclaredScope } from '../../src/edge/route-guard';
import { tenantApiPlugin } from '../../src/edge/tenant-api';
import { restApi } from '../../src/rest/plugin';
import { scimApi } from '../../src/scim/plugin';

function guarded(): FastifyInstance {
  const app = Fastify({ logger: false });
  app.addHook('onRoute', requireDeclaredScope);
  return app;
}

describe('REST route guard (requireDeclaredScope)', () => {
  it('stops start-up on a route without config.scope or config.public, naming its method and URL', async () => {
    const app = guarded();
    app.register(async (scope) => {
      scope.get('/groups/:groupId/secrets', async () => ({ leaked: true }));
    });
    await expect(app.ready()).rejects.toThrow(/GET \/groups\/:groupId\/secrets/);
    await app.close();
  });

  it.each([
    ['an empty config', {}],
    ['a blank scope', { scope: '' }],
    ['a misspelt scope', { scope: 'groups:raed' }],
    ['public: false', { public: false }],
  ])('stops start-up on a route with %s', async (_, config) => {
    const app = guarded();
    app.register(async (scope) => {
      scope.post('/groups', { config: config as object }, async () => ({}));
    });
    await expect(app.ready()).rejects.toThrow(/POST \/groups/);
    await app.close();
  });

  it('lets a route with a scope, and a public route, start', async () => {
    const app = guarded();
    app.register(async (scope) => {
      scope.get('/groups', { config: { scope: 'groups:read' } }, async () => []);
      scope.get('/openapi.json', { config: { public: true } }, async () => ({}));
    });
    await expect(app.ready()).resolves.toBeDefined();
    expect(app.hasRoute({ method: 'GET', url: '/groups' })).toBe(true);
    await app.close();
  });

  it.each([
    ['REST', restApi, '/t/:slug/api/v1', { method: 'DELETE', url: '/t/:slug/api/v1/groups/:groupId/members/:userId' }],
    ['SCIM', scimApi, '/t/:slug/scim/v2', { method: 'PATCH', url: '/t/:slug/scim/v2/Groups/:id' }],
  ])('lets every route of the %s API start: each one declares its scope or that it is public', async (_, api, prefix, route) => {
    const app = Fastify({ logger: false }); // the tenant API guards its own routes
    const admission = { authenticator: {}, rateLimits: {}, gate: {}, metrics: {} } as unknown as Admission;
    await app.register(tenantApiPlugin, { prefix, api, db: {} as Db, admission, maxGroupDepth: 8 });
    await expect(app.ready()).resolves.toBeDefined();
    expect(app.hasRoute(route)).toBe(true);
    await app.close();
  });

  it('guards the routes of a tenant API: one without a scope stops start-up', async () => {
    const app = Fastify({ logger: false });
    const admission = { authenticator: {}, rateLimits: {}, gate: {}, metrics: {} } as unknown as Admission;
    const api = { ...restApi, routes: (scope: FastifyInstance) => void scope.get('/secrets', async () => ({ leaked: true })) };
    const start = async () => {
      await app.register(tenantApiPlugin, { prefix: '/t/:slug/api/v1', api, db: {} as Db, admission, maxGroupDepth: 8 });
      await app.ready();
    };
    await expect(start()).rejects.toThrow(/GET \/t\/:slug\/api\/v1\/secrets/);
    await app.close();
  });
});
