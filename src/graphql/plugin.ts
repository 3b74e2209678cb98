// Mounts Apollo Server on Fastify at /graphql (POST, and GET for queries), with the query
// limits and the rate-limit charge of ./limits.ts around every operation, and the schema's SDL
// at GET /schema.graphql (for code generators) under the rule of introspection.
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { FastifyInstance } from 'fastify';
import { printSchema } from 'graphql';
import { checkInputBounds } from '../domain/validate';
import { admitRequest, boundInput } from '../edge/admission';
import { ResponseTooLargeError } from '../edge/errors';
import { failureHandler, httpAnswer } from '../edge/failures';
import { type GraphQLContext, createContext } from './context';
import { costModel } from './cost';
import { IntrospectionDisabledError, errorEntry, formatGraphQLError, graphqlFailure } from './errors';
import { limitsPlugin, validationRules } from './limits';
import { buildSchema, listSizeOverrides } from './schema';
import { type WebSocketOptions, mountSubscriptions } from './websocket';

/** What the app hands the GraphQL endpoint: the WebSocket's options but the schema and its cost model, built here. */
export type GraphQLPluginOptions = Omit<WebSocketOptions, 'schema' | 'cost'>;

export async function graphqlPlugin(app: FastifyInstance, options: GraphQLPluginOptions): Promise<void> {
  const { limits, admission } = options;
  const { metrics } = admission;
  const schema = buildSchema(options.maxGroupDepth);
  const cost = costModel(schema, listSizeOverrides(options.maxGroupDepth));
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError: formatGraphQLError(app.log),
    includeStacktraceInErrorResponses: false,
    // Refused, when GRAPHQL_INTROSPECTION is off, by our rule (validationRules): its message says what to set.
    introspection: true,
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
  app.setErrorHandler(failureHandler(metrics, 'GraphQL', graphqlFailure));
  // A POSTed request's variables are bounded before they are read (GET's are parsed by Apollo: bounded in limits.ts).
  app.addHook('preValidation', boundInput(metrics, (request) => checkInputBounds((request.body as { variables?: unknown } | undefined)?.variables, 'variables')));
  app.addHook('preHandler', admitRequest(admission));
  // The cost bounds what a query may return; this bounds what one response may weigh.
  app.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string' || Buffer.byteLength(payload) <= limits.maxResponseBytes) return payload;
    metrics.refused('response_size');
    request.log.warn({ bytes: Buffer.byteLength(payload) }, 'GraphQL response over the size cap');
    const tooLarge = new ResponseTooLargeError('the response', limits.maxResponseBytes, 'ask for fewer fields or smaller pages');
    reply.code(httpAnswer(tooLarge).status);
    return JSON.stringify({ errors: [errorEntry(tooLarge)] });
  });
  // What introspection would tell, as SDL: where introspection is off it is not there (404), and
  // where it is on it needs what a query needs, a credential of any workspace, and costs a point.
  const sdl = printSchema(schema);
  app.get('/schema.graphql', {
    onRequest: async () => {
      if (!limits.introspection) throw new IntrospectionDisabledError();
    },
  }, async (request, reply) => {
    request.work.budget = await admission.rateLimits.charge(request.work.credential!, 1);
    return reply.type('text/plain; charset=utf-8').send(sdl);
  });
  const observeBatch = (loader: string, size: number) => metrics.batchSize.observe({ loader }, size);
  await app.register(fastifyApollo(apollo), {
    path: '/graphql',
    method: ['GET', 'POST'],
    context: async (request) => createContext(options.db, request.principal!, options.maxGroupDepth, request.work, options.clock, request.id, observeBatch),
  });
}
