// Mounts Apollo Server on Fastify at /graphql (POST, and GET for queries).
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../auth/authenticate';
import type { Db } from '../domain/context';
import { authenticateRequest } from '../http/auth-hook';
import { type GraphQLContext, createContext } from './context';
import { formatGraphQLError } from './errors';
import { buildSchema } from './schema';

export interface GraphQLPluginOptions {
  db: Db;
  authenticator: Authenticator;
  maxGroupDepth: number;
}

export async function graphqlPlugin(app: FastifyInstance, options: GraphQLPluginOptions): Promise<void> {
  const apollo = new ApolloServer<GraphQLContext>({
    schema: buildSchema(),
    formatError: formatGraphQLError(app.log),
    includeStacktraceInErrorResponses: false,
    // Every request carries `Authorization`, which a browser cannot send cross-site without a preflight.
    csrfPrevention: { requestHeaders: ['authorization', 'x-apollo-operation-name', 'apollo-require-preflight'] },
    plugins: [fastifyApolloDrainPlugin(app), ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  app.addHook('preHandler', authenticateRequest(options.authenticator, (error) => ({
    errors: [{ message: error.message, extensions: { code: 'UNAUTHENTICATED' } }],
  })));
  await app.register(fastifyApollo(apollo), {
    path: '/graphql',
    method: ['GET', 'POST'],
    context: async (request) => createContext(options.db, request.principal!, options.maxGroupDepth),
  });
}
