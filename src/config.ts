// Every environment variable the service reads, parsed and validated once.
import path from 'node:path';

export class ConfigError extends Error {}

export type DatabaseConfig =
  | { kind: 'pglite'; dataDir: string }
  | { kind: 'postgres'; url: string };

/** JWT bearer tokens for frontend apps; off unless a key source is configured. */
export interface JwtConfig {
  jwksUrl?: string;
  publicKey?: string;
  secret?: string;
  issuer?: string;
  audience?: string;
}

/** What a GraphQL request may ask for, checked before it runs. */
export interface QueryLimits {
  /** Nodes a query could return: the product of list bounds along each path, summed. */
  maxCost: number;
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  /** Bytes of one serialised GraphQL response (and of each subscription event). */
  maxResponseBytes: number;
  /** Price of a subscription's selection: objects one event may resolve, for each subscriber. */
  maxSubscriptionCost: number;
  introspection: boolean;
  /** "Did you mean …?" in validation errors. */
  suggestions: boolean;
}

/** Fair share between clients. */
export interface TrafficLimits {
  /** Points a credential may spend per window (a GraphQL request costs 1 + cost/1000, a REST request 1). */
  pointsPerWindow: number;
  /** Requests one client address may make per window, before authentication. */
  requestsPerAddress: number;
  windowSeconds: number;
  /** Requests of one credential running at once in one server process. */
  concurrentPerCredential: number;
  /** How long a request over the concurrency cap waits for a slot before 429. */
  concurrencyWaitMs: number;
  /** Execution deadline of one request. */
  requestTimeoutMs: number;
  /** Subscriptions one credential may hold open at once, across every server process sharing Redis. */
  subscriptionsPerCredential: number;
  /** Subscriptions one WebSocket connection may hold open at once. */
  subscriptionsPerConnection: number;
}

/** The PostgreSQL pool and Prisma's interactive transactions. */
export interface PoolConfig {
  size: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  transactionMaxWaitMs: number;
  transactionTimeoutMs: number;
  /** How long a write waits for its turn among its workspace's writes in this process (src/db/write-queue.ts) before 429. */
  writeQueueWaitMs: number;
  /** Writes of one workspace running at once in this process, each on a pooled connection. */
  writeConcurrency: number;
}

export interface Config {
  host: string;
  port: number;
  production: boolean;
  database: DatabaseConfig;
  pool: PoolConfig;
  maxGroupDepth: number;
  demo: boolean;
  logLevel: string;
  jwt: JwtConfig | null;
  query: QueryLimits;
  traffic: TrafficLimits;
  redisUrl: string | null;
  /** Prefix of this deployment's keys in Redis. */
  redisPrefix: string;
  metricsToken: string | null;
  trustProxy: boolean;
  /** Audit events older than this many days are pruned in the background (AUDIT_RETENTION_DAYS). */
  auditRetentionDays: number;
  /** The GraphiQL playground at /graphql (browsers) and the tree explorer at /explorer (KAUTH_PLAYGROUND; off in production by default). */
  playground: boolean;
  /** Keep recently found live API keys in memory (KAUTH_CREDENTIAL_CACHE; on by default). */
  credentialCache: boolean;
  /** Browser origins allowed to call the service from their pages (CORS_ORIGINS; none in production by default). */
  corsOrigins: string[];
}

/**
 * Every integer setting, one row each: the variable, the part of the configuration it belongs to
 * and the field it fills there, its default, and the range it must fall in.
 */
const INTEGER_SETTINGS = {
  PORT: ['server', 'port', 4000, 0, 65535],
  AUDIT_RETENTION_DAYS: ['server', 'auditRetentionDays', 365, 1, 36_500],
  MAX_GROUP_DEPTH: ['tree', 'maxGroupDepth', 50, 1, 1000],
  GRAPHQL_MAX_COST: ['query', 'maxCost', 500_000, 1, 1_000_000_000],
  GRAPHQL_MAX_DEPTH: ['query', 'maxDepth', 12, 1, 1000],
  GRAPHQL_MAX_ALIASES: ['query', 'maxAliases', 30, 0, 100_000],
  GRAPHQL_MAX_TOKENS: ['query', 'maxTokens', 2000, 100, 1_000_000],
  GRAPHQL_MAX_DIRECTIVES: ['query', 'maxDirectives', 50, 0, 100_000],
  GRAPHQL_MAX_RESPONSE_BYTES: ['query', 'maxResponseBytes', 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024],
  GRAPHQL_MAX_SUBSCRIPTION_COST: ['query', 'maxSubscriptionCost', 1000, 1, 1_000_000_000],
  RATE_LIMIT_POINTS: ['traffic', 'pointsPerWindow', 6000, 1, 1_000_000_000],
  RATE_LIMIT_ADDRESS_REQUESTS: ['traffic', 'requestsPerAddress', 6000, 1, 1_000_000_000],
  RATE_LIMIT_WINDOW_SECONDS: ['traffic', 'windowSeconds', 60, 1, 86_400],
  CONCURRENCY_PER_CREDENTIAL: ['traffic', 'concurrentPerCredential', 4, 1, 10_000],
  CONCURRENCY_WAIT_MS: ['traffic', 'concurrencyWaitMs', 2000, 0, 60_000],
  REQUEST_TIMEOUT_MS: ['traffic', 'requestTimeoutMs', 10_000, 100, 600_000],
  SUBSCRIPTIONS_PER_CREDENTIAL: ['traffic', 'subscriptionsPerCredential', 25, 1, 100_000],
  SUBSCRIPTIONS_PER_CONNECTION: ['traffic', 'subscriptionsPerConnection', 20, 1, 10_000],
  DB_POOL_SIZE: ['pool', 'size', 10, 1, 1000],
  DB_CONNECT_TIMEOUT_MS: ['pool', 'connectTimeoutMs', 1500, 100, 60_000],
  DB_STATEMENT_TIMEOUT_MS: ['pool', 'statementTimeoutMs', 10_000, 100, 3_600_000],
  DB_TX_MAX_WAIT_MS: ['pool', 'transactionMaxWaitMs', 2000, 100, 60_000],
  DB_TX_TIMEOUT_MS: ['pool', 'transactionTimeoutMs', 5000, 100, 600_000],
  WRITE_QUEUE_WAIT_MS: ['pool', 'writeQueueWaitMs', 8000, 0, 600_000],
  WRITE_CONCURRENCY_PER_WORKSPACE: ['pool', 'writeConcurrency', 2, 1, 1000],
} as const;

type IntegerSettings = typeof INTEGER_SETTINGS;
type Part = IntegerSettings[keyof IntegerSettings][0];
/** The integer fields of one part, typed from the table: a field missing from it fails to compile where the part is built. */
type IntegersOf<P extends Part> = {
  [Name in keyof IntegerSettings as IntegerSettings[Name][0] extends P ? IntegerSettings[Name][1] : never]: number;
};

function intFrom(env: NodeJS.ProcessEnv, name: keyof IntegerSettings): number {
  const [, , fallback, min, max] = INTEGER_SETTINGS[name];
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function integersOf<P extends Part>(env: NodeJS.ProcessEnv, part: P): IntegersOf<P> {
  const names = (Object.keys(INTEGER_SETTINGS) as (keyof IntegerSettings)[]).filter((name) => INTEGER_SETTINGS[name][0] === part);
  return Object.fromEntries(names.map((name) => [INTEGER_SETTINGS[name][1], intFrom(env, name)])) as IntegersOf<P>;
}

/** How deep groups may nest: read by the server, the CLI and the demo seed alike. */
export interface TreeLimits {
  maxGroupDepth: number;
}

export function treeLimits(env: NodeJS.ProcessEnv = process.env): TreeLimits {
  return integersOf(env, 'tree');
}

export function databaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const url = urlFrom(env, 'DATABASE_URL', ['postgres', 'postgresql']);
  if (url !== null) return { kind: 'postgres', url };
  return { kind: 'pglite', dataDir: path.resolve(env.DATA_DIR || './data') };
}

export function jwtConfig(env: NodeJS.ProcessEnv = process.env): JwtConfig | null {
  const jwksUrl = env.JWT_JWKS_URL || undefined;
  const publicKey = env.JWT_PUBLIC_KEY || undefined;
  const secret = env.JWT_SECRET || undefined;
  const sources = [jwksUrl, publicKey, secret].filter(Boolean).length;
  if (sources === 0) return null;
  if (sources > 1) throw new ConfigError('set only one of JWT_JWKS_URL, JWT_PUBLIC_KEY and JWT_SECRET');
  if (jwksUrl) {
    try {
      new URL(jwksUrl);
    } catch {
      throw new ConfigError(`JWT_JWKS_URL is not a valid URL: "${jwksUrl}"`);
    }
  }
  if (secret && secret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters');
  return { jwksUrl, publicKey, secret, issuer: env.JWT_ISSUER || undefined, audience: env.JWT_AUDIENCE || undefined };
}

function flagFrom(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw new ConfigError(`${name} must be 1 or 0, got "${raw}"`);
}

export function queryLimits(env: NodeJS.ProcessEnv = process.env): QueryLimits {
  const production = env.NODE_ENV === 'production';
  return {
    ...integersOf(env, 'query'),
    introspection: flagFrom(env, 'GRAPHQL_INTROSPECTION', !production),
    suggestions: !production,
  };
}

export function trafficLimits(env: NodeJS.ProcessEnv = process.env): TrafficLimits {
  return integersOf(env, 'traffic');
}

export function poolConfig(env: NodeJS.ProcessEnv = process.env): PoolConfig {
  return integersOf(env, 'pool');
}

/** A URL variable whose scheme must be one of `schemes`; unset or empty is null. */
function urlFrom(env: NodeJS.ProcessEnv, name: string, schemes: readonly string[]): string | null {
  const url = env[name];
  if (url === undefined || url === '') return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${name} is not a valid URL: "${url}"`);
  }
  if (!schemes.includes(parsed.protocol.slice(0, -1))) {
    const allowed = schemes.map((scheme) => `${scheme}://`).join(' or ');
    throw new ConfigError(`${name} must start with ${allowed}, got "${parsed.protocol}//…"`);
  }
  return url;
}

function metricsTokenFrom(env: NodeJS.ProcessEnv): string | null {
  const token = env.METRICS_TOKEN;
  if (token === undefined || token === '') return null;
  if (token.length < 16) throw new ConfigError('METRICS_TOKEN must be at least 16 characters');
  return token;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    host: env.HOST || '127.0.0.1',
    port: intFrom(env, 'PORT'),
    production: env.NODE_ENV === 'production',
    database: databaseConfig(env),
    pool: poolConfig(env),
    ...treeLimits(env),
    demo: env.KAUTH_DEMO !== '0',
    logLevel: env.LOG_LEVEL || 'info',
    jwt: jwtConfig(env),
    query: queryLimits(env),
    traffic: trafficLimits(env),
    redisUrl: urlFrom(env, 'REDIS_URL', ['redis', 'rediss']),
    redisPrefix: env.REDIS_KEY_PREFIX || 'kauth',
    metricsToken: metricsTokenFrom(env),
    trustProxy: flagFrom(env, 'TRUST_PROXY', false),
    auditRetentionDays: auditRetentionDays(env),
    playground: flagFrom(env, 'KAUTH_PLAYGROUND', env.NODE_ENV !== 'production'),
    credentialCache: credentialCacheEnabled(env),
    corsOrigins: corsOrigins(env),
  };
}

/** AUDIT_RETENTION_DAYS: 1 to 36500, default 365. */
export function auditRetentionDays(env: NodeJS.ProcessEnv = process.env): number {
  return intFrom(env, 'AUDIT_RETENTION_DAYS');
}

/** KAUTH_CREDENTIAL_CACHE: `0` looks every request's API key up in the database (src/auth/credential-cache.ts). */
export function credentialCacheEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return flagFrom(env, 'KAUTH_CREDENTIAL_CACHE', true);
}

/** Where a frontend's dev server (Vite) and its preview serve pages by default. */
export const DEVELOPMENT_ORIGINS = ['http://localhost:5173', 'http://127.0.0.1:5173', 'http://localhost:4173', 'http://127.0.0.1:4173'];

/**
 * CORS_ORIGINS: the exact origins (`scheme://host[:port]`, comma-separated) whose pages may call
 * the service; `none` for none. Default: the local dev servers' origins, none in production.
 */
export function corsOrigins(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env.CORS_ORIGINS?.trim();
  if (raw === undefined || raw === '') return env.NODE_ENV === 'production' ? [] : [...DEVELOPMENT_ORIGINS];
  if (raw === 'none') return [];
  return [...new Set(raw.split(',').map((entry) => originFrom(entry.trim())))];
}

function originFrom(entry: string): string {
  const parsed = URL.canParse(entry) ? new URL(entry) : null;
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== entry) {
    throw new ConfigError(`CORS_ORIGINS: "${entry}" is not an origin; write each as scheme://host[:port] with no path or trailing slash (e.g. https://app.example.com), or set none`);
  }
  return entry;
}
