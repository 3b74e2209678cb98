// REST routes deny by default: the onRoute guard stops start-up on a route that declares
// neither the scope it needs nor that it is public, and lets every declared route through.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Db } from '../../src/domain/context';
import type { Admission } from '../../src/edge/admission';
import { restPlugin } from '../../src/rest/plugin';
import { requireDeclaredScope } from '../../src/edge/route-guard';

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

  it('lets every route of the REST plugin start: each one declares its scope or that it is public', async () => {
    const app = guarded();
    const admission = { authenticator: {}, rateLimits: {}, gate: {}, metrics: {} } as unknown as Admission;
    await app.register(restPlugin, { prefix: '/t/:slug/api/v1', db: {} as Db, admission, maxGroupDepth: 8 });
    await expect(app.ready()).resolves.toBeDefined();
    expect(app.hasRoute({ method: 'DELETE', url: '/t/:slug/api/v1/groups/:groupId/members/:userId' })).toBe(true);
    await app.close();
  });
});
