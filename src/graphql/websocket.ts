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
// Only subscriptions run here: queries and mutations go to POST /graphql. A subscription is held
// to what a query is (src/graphql/limits.ts), and more, since it runs again on every event:
// - at `subscribe`: the credential is checked again, the document parsed and validated by the
//   same rules, its operation chosen by operationName (./operations.ts) and priced alone with its
//   variables (refused past GRAPHQL_MAX_SUBSCRIPTION_COST), charged its points, and counted
//   against the caps per connection and per credential (every process);
// - on each event: a deadline, a budget of objects (its price) and the response size cap;
// - the connection: its upgrade is refused (403) to a page of an origin neither listed in
//   CORS_ORIGINS nor the service's own; it and every failed connection_init spend the address's budget,
//   and it is closed with 4403 within a second of its key's revocation or its credential's expiry.
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema, parse, specifiedRules, validate } from 'graphql';
import type { Context } from 'graphql-ws';
import { type Extra as SocketExtra, useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Principal } from '../auth/principal';
import type { Clock } from '../clock';
import type { QueryLimits, TrafficLimits } from '../config';
import type { Db } from '../domain/context';
import { UnauthenticatedError } from '../auth/errors';
import type { DomainError } from '../domain/errors';
import { QueryTooComplexError, RateLimitedError, ResponseTooLargeError, UnavailableError } from '../edge/errors';
import { httpAnswer, isKnown, knownError } from '../edge/failures';
import type { ChangeHub } from '../feed/hub';
import { checkInputBounds } from '../domain/validate';
import { pointsForCost } from '../edge/traffic';
import { type Admission, credentialOf } from '../edge/admission';
import { upgradeOriginAllowed } from '../edge/origins';
import { RequestWork } from '../edge/request-work';
import type { SubscriptionContext } from './audit';
import { createContext } from './context';
import type { CostModel } from './cost';
import { errorEntry, formatGraphQLError } from './errors';
import { createLoaders } from './loaders';
import { priceOperation, validationRules } from './limits';
import { selectOperation } from './operations';

export const SUBSCRIPTIONS_PATH = '/graphql/ws';
const ORIGIN_REFUSED = 'this origin may not open a WebSocket to the service; list it in CORS_ORIGINS\n';
/** How often each process checks its connections' credentials: revoked or expired ones are closed within a second. */
const CREDENTIAL_CHECK_MS = 250;
/** A connection whose credential could not be confirmed live for this long (the database is away) is closed: it might be revoked. */
const UNCONFIRMED_MAX_MS = 1000;
/** Close codes: graphql-ws's Forbidden (clients do not retry it), and the WebSocket's "try again later". */
const CLOSE_FORBIDDEN = 4403;
const CLOSE_TRY_LATER = 1013;

export interface WebSocketOptions {
  schema: GraphQLSchema;
  cost: CostModel;
  traffic: TrafficLimits;
  trustProxy: boolean;
  db: Db;
  admission: Admission;
  maxGroupDepth: number;
  limits: QueryLimits;
  clock: Clock;
  hub: ChangeHub;
  /** Origins whose pages may open a connection (CORS_ORIGINS), besides the service's own. */
  origins: ReadonlySet<string>;
}

type Extra = {
  /** The Authorization the connection presented, checked again at each subscribe and every CREDENTIAL_CHECK_MS. */
  authorization?: string;
  principal?: Principal;
  /** When the credential was last found live (ms, performance clock). */
  confirmedAt?: number;
  /** The per-credential slot each open subscription holds, by subscription id. */
  slots?: Map<string, () => void>;
  /** Aborted when the credential is found dead: each subscription ends with the reason, then the socket closes. */
  ending?: AbortController;
} & Record<PropertyKey, unknown>;

type Connection = Context<Record<string, unknown> | undefined, Extra & SocketExtra>;

/** Why a credential that worked no longer does, in the words the subscription ends with. */
function deathOf(principal: Principal | undefined, now: Date): UnauthenticatedError {
  if (principal?.expiresAt && principal.expiresAt <= now) return new UnauthenticatedError('the credential expired');
  return new UnauthenticatedError(principal?.apiKey ? 'the API key was revoked' : 'the credential is no longer valid');
}

/** How long the subscriptions of a dead credential get to send their ending before the socket closes. */
const ENDING_GRACE_MS = 200;

/** The client's address, as Fastify would give it (the first X-Forwarded-For entry behind a trusted proxy). */
function addressOf(request: IncomingMessage, trustProxy: boolean): string {
  const forwarded = request.headers['x-forwarded-for'];
  const first = trustProxy && typeof forwarded === 'string' ? forwarded.split(',')[0].trim() : '';
  return first || request.socket.remoteAddress || 'unknown';
}

const withoutSuggestions = (error: GraphQLError): GraphQLError => {
  error.message = error.message.replace(/ ?Did you mean(.+?)\?$/, '');
  return error;
};

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
    // Apollo's unwrapping does not look: hand the error underneath over as it is.
    if (error.originalError) return format(error.toJSON(), error.originalError);
    const { http: _, ...extensions } = error.extensions ?? {};
    const code = extensions.code ?? (error.message.startsWith('Syntax Error') ? 'GRAPHQL_PARSE_FAILED' : 'GRAPHQL_VALIDATION_FAILED');
    return { ...error.toJSON(), extensions: { ...extensions, code } };
  };
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  const { rateLimits, metrics } = admission;
  // Every upgrade spends one of the address's requests, like any HTTP request: a WebSocket is not a way around the budget.
  app.server.on('upgrade', (request, socket, head) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== SUBSCRIPTIONS_PATH) {
      socket.destroy();
      return;
    }
    // A page of another origin may not use a visitor's connection to the service (cross-site WebSocket hijacking).
    if (!upgradeOriginAllowed(request.headers, options.origins, options.trustProxy)) {
      metrics.refused('origin');
      socket.end(`HTTP/1.1 403 ${STATUS_CODES[403]}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(ORIGIN_REFUSED)}\r\n\r\n${ORIGIN_REFUSED}`);
      return;
    }
    rateLimits.chargeAddress(addressOf(request, options.trustProxy)).then(
      () => wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)),
      (error) => {
        metrics.refused('address');
        // Fails closed: a budget that cannot be read refuses the upgrade, as the database being away would.
        const { status, headers } = httpAnswer(knownError(error) ?? new UnavailableError());
        const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
        socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines}Connection: close\r\nContent-Length: 0\r\n\r\n`);
      },
    );
  });

  /** The connection's principal now, or why it has none: its credential checked again (without SQL while the key is cached). */
  const recheck = async (extra: Extra): Promise<Principal> => {
    const principal = await admission.authenticator.authenticate(extra.authorization);
    if (principal.expiresAt && principal.expiresAt <= options.clock.now()) throw new UnauthenticatedError('the credential expired');
    extra.principal = principal;
    extra.confirmedAt = performance.now();
    return principal;
  };
  const open = new Set<Connection>();
  /** Ends a dead credential's connection: its subscriptions end with the reason (UNAUTHENTICATED), then 4403. */
  const forbid = (ctx: Connection, reason: UnauthenticatedError) => {
    open.delete(ctx);
    ctx.extra.ending!.abort(reason);
    const startedAt = performance.now();
    const close = () => {
      if (Object.keys(ctx.subscriptions).length > 0 && performance.now() - startedAt < ENDING_GRACE_MS) return void setTimeout(close, 10);
      ctx.extra.socket.close(CLOSE_FORBIDDEN, `Forbidden: ${reason.message}`);
    };
    close();
  };
  // Closes connections whose key was revoked (in any process: the cache hears it, or the lookup
  // finds it) or whose credential expired. One check per distinct credential per round.
  const sweep = async () => {
    const byCredential = new Map<string, Promise<unknown>>();
    for (const ctx of open) {
      const { extra } = ctx;
      const key = extra.authorization ?? '';
      let check = byCredential.get(key);
      if (!check) byCredential.set(key, (check = recheck(extra).then(() => null, (error) => error)));
      const failure = await check;
      if (failure === null) {
        extra.confirmedAt = performance.now();
      } else if (failure instanceof UnauthenticatedError) {
        forbid(ctx, deathOf(extra.principal, options.clock.now()));
      } else if (performance.now() - (extra.confirmedAt ?? 0) > UNCONFIRMED_MAX_MS) {
        open.delete(ctx);
        extra.socket.close(CLOSE_TRY_LATER, 'the credential could not be checked; reconnect shortly');
      }
    }
  };
  let sweeping = false;
  const sweeper = setInterval(() => {
    if (sweeping || open.size === 0) return;
    sweeping = true;
    sweep().finally(() => (sweeping = false));
  }, CREDENTIAL_CHECK_MS).unref();
  /** A refusal with an error underneath, formatted by onError as over HTTP (its code: UNAUTHENTICATED, RATE_LIMITED, UNAVAILABLE…). */
  const refusal = (error: Error) => [new GraphQLError(error.message, { originalError: error })];

  useServer<Record<string, unknown> | undefined, Extra>(
    {
      onConnect: async (ctx) => {
        const given = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization ?? ctx.extra.request.headers.authorization;
        ctx.extra.authorization = typeof given === 'string' ? given : undefined;
        try {
          await recheck(ctx.extra);
          ctx.extra.slots = new Map();
          ctx.extra.ending = new AbortController();
          open.add(ctx);
          return true;
        } catch {
          // A failed connection_init spends the address's budget too (guessing keys costs requests).
          await rateLimits.chargeAddress(addressOf(ctx.extra.request, options.trustProxy)).catch(() => metrics.refused('address'));
          return false; // closes with 4403 Forbidden
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        let principal: Principal;
        try {
          if (ctx.extra.ending!.signal.aborted) throw ctx.extra.ending!.signal.reason;
          principal = await recheck(ctx.extra);
        } catch (error) {
          if (!(error instanceof UnauthenticatedError)) return refusal(error as Error);
          const death = deathOf(ctx.extra.principal, options.clock.now());
          forbid(ctx, death);
          return refusal(death);
        }
        // graphql-ws has already registered this one.
        const perConnection = options.traffic.subscriptionsPerConnection;
        if (Object.keys(ctx.subscriptions).length > perConnection) {
          metrics.refused('subscriptions');
          return [
            new GraphQLError(`a connection may hold at most ${perConnection} subscriptions at once`, {
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', maximum: perConnection },
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
        if (errors.length > 0) return limits.suggestions ? errors : errors.map(withoutSuggestions);
        let operation;
        try {
          operation = selectOperation(document, payload.operationName);
        } catch (error) {
          metrics.refused('operations');
          return refusal(isKnown(error) ? error : new QueryTooComplexError('the operation to run could not be chosen, so none runs', {}));
        }
        if (operation.operation !== 'subscription') {
          return [new GraphQLError('only subscriptions run over WebSocket; send queries and mutations to POST /graphql', { extensions: { code: 'BAD_REQUEST' } })];
        }
        let price: number;
        try {
          checkInputBounds(payload.variables, 'variables');
          price = priceOperation(schema, options.cost, document, operation, payload.variables);
        } catch (error) {
          metrics.refused((error as DomainError).code === 'BAD_USER_INPUT' ? 'input' : 'cost');
          return refusal(error as DomainError);
        }
        if (price > limits.maxSubscriptionCost) {
          metrics.refused('cost');
          return refusal(
            new QueryTooComplexError(
              `subscription too complex: each event could return ${price} objects, more than the ${limits.maxSubscriptionCost} allowed; select less of each change`,
              { cost: price, maximum: limits.maxSubscriptionCost },
            ),
          );
        }
        const credential = credentialOf(principal);
        try {
          await rateLimits.charge(credential, pointsForCost(price));
          const release = await admission.subscriptions.take(credential);
          // The socket may have closed meanwhile (onClose has run): give the slot back at once.
          if (!(id in ctx.subscriptions)) release();
          else ctx.extra.slots!.set(id, release);
        } catch (error) {
          if (error instanceof RateLimitedError) metrics.refused(error.details.reason === 'subscriptions' ? 'subscriptions' : 'rate');
          return refusal(error as Error);
        }
        const deadlineMs = options.traffic.requestTimeoutMs;
        const eventWork = () => {
          const work = new RequestWork(deadlineMs);
          work.credential = credential;
          work.cost = price;
          work.objectBudget = price;
          return work;
        };
        let work = eventWork();
        let ended = false;
        const context: SubscriptionContext = {
          ...createContext(options.db, principal, options.maxGroupDepth, work, options.clock, null),
          feed: options.hub,
          connection: ctx.extra.ending!.signal,
          async renew() {
            work.end();
            work = eventWork();
            context.work = work;
            context.loaders = createLoaders(context.domain, work);
            // Each event's work takes its turn with the credential's requests (CONCURRENCY_PER_CREDENTIAL):
            // one credential's subscriptions cannot take the pool from everyone else. A subscriber
            // that falls behind meanwhile is ended by the hub (SLOW_SUBSCRIBER).
            const release = await admission.gate.enter(credential, Number.POSITIVE_INFINITY);
            if (ended) release(); // the subscription ended while it waited
            else work.onEnd(release);
          },
          end() {
            ended = true;
            work.end();
          },
        };
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables ?? undefined, contextValue: context };
      },
      onComplete: (ctx, id) => {
        ctx.extra.slots?.get(id)?.();
        ctx.extra.slots?.delete(id);
      },
      onClose: (ctx) => {
        for (const release of ctx.extra.slots?.values() ?? []) release();
        ctx.extra.slots?.clear();
        open.delete(ctx);
      },
      onError: (_ctx, _id, _payload, errors) => errors.map(formatError),
      onNext: (_ctx, _id, _payload, args, result) => {
        const work = (args.contextValue as SubscriptionContext).work;
        work.end(); // the event is resolved: its slot goes to the next one
        // An event stopped past its budget or deadline carries that reason alone, its partial data dropped.
        const stopped = work.signal.reason;
        if (stopped instanceof QueryTooComplexError || work.timedOut) {
          metrics.refused(work.timedOut ? 'timeout' : 'objects');
          return { data: null, errors: [errorEntry(stopped)] } as never;
        }
        const formatted = result.errors ? { ...result, errors: result.errors.map(formatError) } : result;
        const bytes = Buffer.byteLength(JSON.stringify(formatted));
        if (bytes > limits.maxResponseBytes) {
          metrics.refused('response_size');
          return { data: null, errors: [errorEntry(new ResponseTooLargeError('the event', limits.maxResponseBytes, 'select less of each change'))] } as never;
        }
        return formatted as never;
      },
    },
    wss,
  );

  app.addHook('onClose', async () => {
    clearInterval(sweeper);
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
}
