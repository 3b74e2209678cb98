// The Fastify app: request ids and deadlines, per-address limits, health, readiness and
// metrics, the GraphQL endpoint and the REST layer, and one log line per request.
import { randomUUID, timingSafeEqual } from 'node:crypto';
import fastifyCors from '@fastify/cors';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { Authenticator } from '../auth/authenticate';
import { CredentialCache, type CredentialCacheOptions, DEFAULT_CREDENTIAL_CACHE } from '../auth/credential-cache';
import { type Clock, systemClock } from '../clock';
import { type JwtConfig, type QueryLimits, type TrafficLimits, corsOrigins, credentialCacheEnabled, queryLimits, trafficLimits } from '../config';
import type { Listen, PoolStats, Readiness, StatisticsKeeper } from '../db';
import { pruneAuditEvents } from '../domain/audit';
import { ChangeHub, DEFAULT_HUB_OPTIONS, type HubOptions } from '../feed/hub';
import type { Db } from '../domain/context';
import type { Admission } from '../edge/admission';
import { ClientGoneError, RateLimitedError } from '../edge/errors';
import { failureHandler } from '../edge/failures';
import { Metrics } from '../edge/metrics';
import { ALLOWED_METHODS, EXPOSED_HEADERS, PREFLIGHT_MAX_AGE_SECONDS } from '../edge/origins';
import { trackRequestWork } from '../edge/request-work';
import { tenantApiPlugin } from '../edge/tenant-api';
import { CredentialGate, RateLimits, SubscriptionSlots, connectRedis } from '../edge/traffic';
import { graphqlPlugin } from '../graphql/plugin';
import { restFailure } from '../rest/errors';
import { restApi } from '../rest/plugin';
import { scimApi } from '../scim/plugin';
import { mountWebPages } from './web';

export interface AppOptions {
  db: Db;
  maxGroupDepth: number;
  jwt: JwtConfig | null;
  logger?: FastifyServerOptions['logger'];
  /** Defaults: the environment's (src/config.ts). */
  query?: QueryLimits;
  traffic?: TrafficLimits;
  /** Shares rate-limit budgets between server processes. */
  redisUrl?: string | null;
  redisPrefix?: string;
  /** Bearer token for GET /metrics; without one, /metrics is not served. */
  metricsToken?: string | null;
  trustProxy?: boolean;
  readiness?: () => Promise<Readiness>;
  /** Who keeps table statistics (the database's autovacuum or this service), shown by /readyz. */
  statistics?: StatisticsKeeper;
  poolStats?: () => PoolStats | null;
  /** The time key expiry and lastUsedAt are judged by; tests set it. */
  clock?: Clock;
  /** LISTEN for committed audit events (every process's); without it the change hub polls each second. */
  listen?: Listen | null;
  hub?: Partial<HubOptions>;
  /** Days audit events are kept (AUDIT_RETENTION_DAYS); pruned once an hour. */
  auditRetentionDays?: number;
  /** Serve the GraphiQL playground and the tree explorer (KAUTH_PLAYGROUND); off unless asked. */
  playground?: boolean;
  /**
   * Keep live API keys in memory (default: KAUTH_CREDENTIAL_CACHE, on). Only with `listen`: without
   * hearing other processes' revocations, every request looks its key up.
   */
  credentialCache?: boolean | Partial<CredentialCacheOptions>;
  /** Origins whose pages may call the service, over HTTP (CORS) and WebSocket (default: CORS_ORIGINS). */
  corsOrigins?: string[];
}

const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Prunes the trail now and then once an hour (the first run is a minute after start-up). */
function pruneInBackground(app: FastifyInstance, db: Db, days: number, clock: Clock): void {
  const prune = () => {
    const before = new Date(clock.now().getTime() - days * 86_400_000);
    pruneAuditEvents(db, before).then(
      (count) => count > 0 && app.log.info({ count, before }, 'pruned audit events past retention'),
      (error) => app.log.warn({ err: error }, 'pruning audit events failed; trying again in an hour'),
    );
  };
  const first = setTimeout(prune, 60_000).unref();
  const every = setInterval(prune, PRUNE_EVERY_MS).unref();
  app.addHook('onClose', async () => {
    clearTimeout(first);
    clearInterval(every);
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Resolves once the work requests leave behind them (lastUsedAt writes) is done. */
    settled(): Promise<void>;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Probes and scrapes are not client traffic: no per-address limit. */
const INFRASTRUCTURE = new Set(['/healthz', '/readyz', '/metrics']);

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function routeLabel(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unknown';
}

/** The fields of a request's line; its `reqId` is the request logger's own (Fastify binds it). */
function logLine(request: FastifyRequest, reply: FastifyReply) {
  const work = request.work;
  return {
    method: request.method,
    route: routeLabel(request),
    status: reply.statusCode,
    workspace: request.principal?.tenant.slug ?? (request.params as { slug?: string } | undefined)?.slug ?? null,
    credential: work?.credential ?? null,
    operation: work?.operationName ?? null,
    cost: work?.cost ?? null,
    durationMs: Math.round((work?.elapsedMs() ?? 0) * 10) / 10,
  };
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const query = options.query ?? queryLimits();
  const traffic = options.traffic ?? trafficLimits();
  const app = Fastify({
    logger: options.logger ?? false,
    logController: new LogController({ disableRequestLogging: true }), // one line per request, ours (onResponse)
    trustProxy: options.trustProxy ?? false,
    bodyLimit: 1024 * 1024,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const metrics = new Metrics(options.poolStats ?? (() => null));
  const redis = options.redisUrl ? connectRedis(options.redisUrl) : null;
  const rateLimits = new RateLimits(traffic, redis, options.redisPrefix);
  app.addHook('onClose', async () => {
    redis?.disconnect();
  });

  app.decorateRequest('principal', null);
  trackRequestWork(app, traffic.requestTimeoutMs);
  // The app's own routes (health, metrics, pages, unknown URLs) answer failures in REST's envelope;
  // each transport sets its own handler.
  app.setErrorHandler(failureHandler(metrics, 'HTTP', restFailure));
  // Before every refusal (address, credential, share): a listed origin's preflight is answered and
  // its refusals carry CORS headers, so its page reads the 401 or the 429's Retry-After. Any other
  // origin gets no CORS header at all.
  const origins = new Set(options.corsOrigins ?? corsOrigins());
  await app.register(fastifyCors, {
    origin: (origin, callback) => callback(null, origin !== undefined && origins.has(origin) ? origin : false),
    methods: ALLOWED_METHODS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  });
  // A refusal is thrown: the error handler of the route's transport answers it, in its shape.
  app.addHook('onRequest', async (request) => {
    if (INFRASTRUCTURE.has(request.url.split('?')[0])) return;
    try {
      await rateLimits.chargeAddress(request.ip);
    } catch (error) {
      if (error instanceof RateLimitedError) metrics.refused('address');
      throw error;
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const budget = request.work?.budget;
    if (budget) {
      // GitHub's convention: the window's budget, what is left and used, and when it resets (epoch seconds).
      reply.header('x-ratelimit-limit', budget.limit);
      reply.header('x-ratelimit-remaining', budget.remaining);
      reply.header('x-ratelimit-used', budget.used);
      reply.header('x-ratelimit-reset', Math.ceil(budget.resetAt.getTime() / 1000));
    }
  });
  const logRequest = (request: FastifyRequest, line: ReturnType<typeof logLine>, message: string) => {
    const labels = { route: line.route, operation: request.work?.operationField ?? '' };
    metrics.requests.inc({ ...labels, status: String(line.status) });
    metrics.duration.observe(labels, line.durationMs / 1000);
    request.log.info(line, message);
  };
  // A client that leaves before its answer is logged when it leaves, as 499 (nginx's "client
  // closed request"): its work stops then (src/edge/request-work.ts), and no answer is sent.
  app.addHook('onRequest', async (request, reply) => {
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) logRequest(request, { ...logLine(request, reply), status: 499 }, 'client gone');
    });
  });
  app.addHook('onResponse', async (request, reply) => {
    if (request.work?.signal.reason instanceof ClientGoneError) return; // logged when it left
    logRequest(request, logLine(request, reply), 'request');
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const readiness = options.readiness ? await options.readiness() : { ready: true };
    const body = readiness.ready ? { status: 'ready' } : { status: 'unavailable', reason: readiness.reason };
    return reply.code(readiness.ready ? 200 : 503).send(options.statistics ? { ...body, statistics: options.statistics } : body);
  });
  const metricsToken = options.metricsToken;
  if (metricsToken) {
    app.get('/metrics', async (request, reply) => {
      const given = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
      if (!sameSecret(given, metricsToken)) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: { code: 'unauthenticated', message: 'GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>"' } });
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }

  const clock = options.clock ?? systemClock;
  // Cached keys only where other processes' revocations are heard.
  const cacheOption = options.credentialCache ?? credentialCacheEnabled();
  const credentialCache = options.listen && cacheOption !== false
    ? new CredentialCache(clock, { ...DEFAULT_CREDENTIAL_CACHE, ...(cacheOption === true ? {} : cacheOption) })
    : null;
  const authenticator = new Authenticator(options.db, options.jwt, app.log, clock, credentialCache);
  await authenticator.ready();
  if (credentialCache && options.listen) app.addHook('onClose', await credentialCache.start(options.db, options.listen));
  app.decorate('settled', () => authenticator.settled());
  app.addHook('onClose', () => authenticator.settled());
  const gate = new CredentialGate(traffic.concurrentPerCredential, traffic.concurrencyWaitMs);
  const subscriptions = new SubscriptionSlots(traffic.subscriptionsPerCredential, redis, options.redisPrefix);
  app.addHook('onClose', async () => subscriptions.stop());
  const admission: Admission = { authenticator, rateLimits, gate, subscriptions, metrics };
  const hub = new ChangeHub(options.db, { ...DEFAULT_HUB_OPTIONS, ...options.hub });
  await hub.start(options.listen ?? null);
  app.addHook('onClose', () => hub.stop());
  if (options.auditRetentionDays) pruneInBackground(app, options.db, options.auditRetentionDays, clock);
  await mountWebPages(app, { enabled: options.playground ?? false });
  await app.register(graphqlPlugin, {
    db: options.db,
    admission,
    maxGroupDepth: options.maxGroupDepth,
    limits: query,
    clock,
    hub,
    traffic,
    trustProxy: options.trustProxy ?? false,
    origins,
  });
  const tenantApi = { db: options.db, admission, maxGroupDepth: options.maxGroupDepth };
  await app.register(tenantApiPlugin, { prefix: '/t/:slug/api/v1', api: restApi, ...tenantApi });
  await app.register(tenantApiPlugin, { prefix: '/t/:slug/scim/v2', api: scimApi, ...tenantApi });
  return app;
}
