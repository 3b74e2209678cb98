// The Fastify app: request ids, health, the GraphQL endpoint (and the REST layer).
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Authenticator } from '../auth/authenticate';
import type { JwtConfig } from '../config';
import type { Db } from '../domain/context';
import { graphqlPlugin } from '../graphql/plugin';
import { restPlugin } from '../rest/plugin';

export interface AppOptions {
  db: Db;
  maxGroupDepth: number;
  jwt: JwtConfig | null;
  logger?: FastifyServerOptions['logger'];
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 1024 * 1024,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  app.decorateRequest('principal', null);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.get('/healthz', async () => ({ status: 'ok' }));

  const authenticator = new Authenticator(options.db, options.jwt, app.log);
  await authenticator.ready();
  await app.register(graphqlPlugin, { db: options.db, authenticator, maxGroupDepth: options.maxGroupDepth });
  await app.register(restPlugin, { prefix: '/t/:slug/api/v1', db: options.db, authenticator, maxGroupDepth: options.maxGroupDepth });
  return app;
}
