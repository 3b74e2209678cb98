// GraphQL subscriptions over WebSocket (the graphql-ws protocol) at /graphql/ws.
//
// Why graphql-ws rather than Server-Sent Events (graphql-sse): graphql-ws sends each event and
// waits until the socket has taken it before pulling the next one from the subscription, so a
// client that stops reading stops the pull, its queue in the hub fills, and it is ended with
// SLOW_SUBSCRIBER (src/feed/hub.ts). graphql-sse's handler reads the subscription eagerly into
// an unbounded array, which is the buffering the service must not do. Browsers cannot set
// headers on a WebSocket, so the credential travels in the connection_init payload
// (`connectionParams: { authorization: "Bearer <key>" }`); an `Authorization` header on the
// upgrade request is accepted too.
//
// Only subscriptions run here: queries and mutations go to POST /graphql, where they are priced
// and charged. Each subscription is checked by the same validation rules (depth, aliases,
// directives) and the same @requiresScope guards as any query, and costs one rate-limit point.
import type { FastifyInstance } from 'fastify';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema, getOperationAST, parse, specifiedRules, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Principal } from '../auth/principal';
import type { Clock } from '../clock';
import type { QueryLimits } from '../config';
import type { Db } from '../domain/context';
import { DomainError } from '../domain/errors';
import type { ChangeHub } from '../feed/hub';
import { type Admission, credentialOf } from '../http/admission';
import { RequestWork } from '../http/request-work';
import type { SubscriptionContext } from './audit';
import { createContext } from './context';
import { formatGraphQLError } from './errors';
import { createLoaders } from './loaders';
import { validationRules } from './limits';

export const SUBSCRIPTIONS_PATH = '/graphql/ws';
/** Subscriptions one connection may hold at once: each may hold up to the hub's queue of events. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 20;

export interface WebSocketOptions {
  schema: GraphQLSchema;
  db: Db;
  admission: Admission;
  maxGroupDepth: number;
  limits: QueryLimits;
  clock: Clock;
  hub: ChangeHub;
  /** Deadline for resolving one event's selection. */
  eventDeadlineMs: number;
}

type Extra = { principal?: Principal } & Record<PropertyKey, unknown>;

export function mountSubscriptions(app: FastifyInstance, options: WebSocketOptions): void {
  const { admission, limits, schema } = options;
  const rules = [...specifiedRules, ...validationRules(limits, admission.metrics)];
  const format = formatGraphQLError(app.log);
  /**
   * A parse or validation error (no error underneath: the client's document) keeps its message,
   * with the code Apollo would give it over HTTP; what a resolver threw is mapped as over HTTP.
   */
  const formatError = (error: GraphQLError): GraphQLFormattedError => {
    // graphql-ws wraps what a subscription's stream throws (the hub ending it) without a path, where
    // Apollo's unwrapping does not look: hand the domain error over as it is.
    if (error.originalError instanceof DomainError) return format(error.toJSON(), error.originalError);
    if (error.originalError) return format(error.toJSON(), error);
    const { http: _, ...extensions } = error.extensions ?? {};
    const code = extensions.code ?? (error.message.startsWith('Syntax Error') ? 'GRAPHQL_PARSE_FAILED' : 'GRAPHQL_VALIDATION_FAILED');
    return { ...error.toJSON(), extensions: { ...extensions, code } };
  };
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  app.server.on('upgrade', (request, socket, head) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== SUBSCRIPTIONS_PATH) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });

  useServer<Record<string, unknown> | undefined, Extra>(
    {
      onConnect: async (ctx) => {
        const given = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization ?? ctx.extra.request.headers.authorization;
        try {
          ctx.extra.principal = await admission.authenticator.authenticate(typeof given === 'string' ? given : undefined);
          return true;
        } catch {
          return false; // closes with 4403 Forbidden
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const principal = ctx.extra.principal!;
        // graphql-ws has already registered this one.
        if (Object.keys(ctx.subscriptions).length > MAX_SUBSCRIPTIONS_PER_CONNECTION) {
          return [
            new GraphQLError(`a connection may hold at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions at once`, {
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', maximum: MAX_SUBSCRIPTIONS_PER_CONNECTION },
            }),
          ];
        }
        let document;
        try {
          document = parse(payload.query, { maxTokens: limits.maxTokens });
        } catch (error) {
          return [error as GraphQLError];
        }
        const errors = validate(schema, document, rules);
        if (errors.length > 0) return errors;
        const operation = getOperationAST(document, payload.operationName);
        if (operation?.operation !== 'subscription') {
          return [new GraphQLError('only subscriptions run over WebSocket; send queries and mutations to POST /graphql', { extensions: { code: 'BAD_REQUEST' } })];
        }
        try {
          await admission.rateLimits.charge(credentialOf(principal), 1);
        } catch (error) {
          // Formatted by onError like any error with an error underneath (RATE_LIMITED, UNAVAILABLE).
          return [new GraphQLError((error as Error).message, { originalError: error as Error })];
        }
        let work = new RequestWork(options.eventDeadlineMs);
        const context: SubscriptionContext = {
          ...createContext(options.db, principal, options.maxGroupDepth, work, options.clock, null),
          feed: options.hub,
          renew() {
            work.end();
            work = new RequestWork(options.eventDeadlineMs);
            context.work = work;
            context.loaders = createLoaders(context.domain);
          },
        };
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables ?? undefined, contextValue: context };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map(formatError),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map(formatError) as never } : undefined,
    },
    wss,
  );

  app.addHook('onClose', async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
}
