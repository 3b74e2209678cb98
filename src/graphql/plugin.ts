// Mounts Apollo Server on Fastify at /graphql (POST, and GET for queries), with the query
// limits and the rate-limit charge of ./limits.ts around every operation.
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../clock';
import type { QueryLimits, TrafficLimits } from '../config';
import type { Db } from '../domain/context';
import type { ChangeHub } from '../feed/hub';
import { type Admission, admitRequest } from '../edge/admission';
import { type GraphQLContext, createContext } from './context';
import { costModel } from './cost';
import { formatGraphQLError } from './errors';
import { limitsPlugin, validationRules } from './limits';
import { buildSchema, listSizeOverrides } from './schema';
import { mountSubscriptions } from './websocket';

export interface GraphQLPluginOptions {
  db: Db;
  admission: Admission;
  maxGroupDepth: number;
  limits: QueryLimits;
  clock: Clock;
  hub: ChangeHub;
  traffic: TrafficLimits;
  /** Client addresses come from X-Forwarded-For (as Fastify's trustProxy). */
  trustProxy: boolean;
}

export async function graphqlPlugin(app: FastifyInstance, options: GraphQLPluginOptions): Promise<void> {
  const { limits, admission } = options;
  const { metrics } = admission;
  const schema = buildSchema(options.maxGroupDepth);
  const cost = costModel(schema, listSizeOverrides(options.maxGroupDepth));
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError: formatGraphQLError(app.log),
    includeStacktraceInErrorResponses: false,
    introspection: limits.introspection,
    hideSchemaDetailsFromClientErrors: !limits.suggestions,
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: validationRules(limits, metrics),
    // Every request carries `Authorization`, which a browser cannot send cross-site without a preflight.
    csrfPrevention: { requestHeaders: ['authorization', 'x-apollo-operation-name', 'apollo-require-preflight'] },
    plugins: [
      fastifyApolloDrainPlugin(app),
      ApolloServerPluginLandingPageDisabled(),
      // Apollo's default cache-control plugin hooks every field (willResolveField) to compute
      // Cache-Control hints nobody sets here (authenticated, per-credential answers): 3% of a small query.
      ApolloServerPluginCacheControlDisabled(),
      limitsPlugin({ schema, limits, cost, rateLimits: admission.rateLimits, metrics }),
    ],
  });
  await apollo.start();
  mountSubscriptions(app, { ...options, schema, cost });
  app.addHook('preHandler', admitRequest(admission));
  // The cost bounds what a query may return; this bounds what one response may weigh.
  app.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string' || Buffer.byteLength(payload) <= limits.maxResponseBytes) return payload;
    metrics.refused('response_size');
    request.log.warn({ bytes: Buffer.byteLength(payload) }, 'GraphQL response over the size cap');
    reply.code(400);
    return JSON.stringify({
      errors: [{ message: `the response is larger than ${limits.maxResponseBytes} bytes; ask for fewer fields or smaller pages`, extensions: { code: 'RESPONSE_TOO_LARGE', maximum: limits.maxResponseBytes } }],
    });
  });
  const observeBatch = (loader: string, size: number) => metrics.batchSize.observe({ loader }, size);
  await app.register(fastifyApollo(apollo), {
    path: '/graphql',
    method: ['GET', 'POST'],
    context: async (request) => createContext(options.db, request.principal!, options.maxGroupDepth, request.work, options.clock, request.id, observeBatch),
  });
}
