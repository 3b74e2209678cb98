// Runs a behaviour suite against the real app over real HTTP, once per backend:
// embedded PGlite (a fresh data directory per test file) and PostgreSQL (this run's
// database, see global-setup). Tests isolate themselves by creating their own workspace.
import { rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ALL_SCOPES } from '../../src/policy/scopes';
import { DEFAULT_POOL, type Database, openDatabase } from '../../src/db';
import { OPERATOR, createApiKey } from '../../src/domain/apikeys';
import { type DomainContext, fullAccessContext } from '../../src/domain/context';
import { createTenant } from '../../src/domain/tenants';
import type { Tenant } from '../../src/generated/prisma/client';
import { type PoolConfig, type TrafficLimits, queryLimits, trafficLimits } from '../../src/config';
import { type AppOptions, buildApp } from '../../src/http/app';
import { freshPgliteDir } from './pglite-template';
import { describeOnPostgres, postgresUrl } from './services';
import { waitFor } from './wait';

export type Backend = 'pglite' | 'postgres';

/** Suites that are not about limits get budgets no test reaches; the limit suites set their own. */
export const GENEROUS_TRAFFIC: Partial<TrafficLimits> = {
  pointsPerWindow: 1_000_000_000,
  requestsPerAddress: 1_000_000_000,
  concurrentPerCredential: 1000,
  requestTimeoutMs: 60_000,
  subscriptionsPerCredential: 100_000,
};

/**
 * Suites that are not about the pool or the write queue get waits no test reaches on a busy
 * machine: how long the machine takes must never turn into a 503 or a 429 there.
 */
export const GENEROUS_POOL: Partial<PoolConfig> = {
  connectTimeoutMs: 30_000,
  transactionMaxWaitMs: 30_000,
  transactionTimeoutMs: 60_000,
  writeQueueWaitMs: 60_000,
};

export interface HarnessOptions {
  traffic?: Partial<TrafficLimits>;
  app?: Partial<AppOptions>;
  /** The PostgreSQL pool and write queue of the app's database handle. */
  pool?: Partial<PoolConfig>;
  /** Runs once the test database is open; what it returns overrides the app's options (a proxied database, say). */
  setup?: (h: Harness) => Promise<Partial<AppOptions>>;
  /** On PostgreSQL, the application_name of the app's connections: how a test tells them apart in pg_stat_activity. */
  applicationName?: string;
  /** false: no background keeper round (statistics, folding the count deltas): the test runs them by hand. */
  keepStatistics?: boolean;
}

export const MAX_GROUP_DEPTH = 8;

/**
 * The backends the suites run on: both when PostgreSQL is reachable, else PGlite alone.
 * KAUTH_TEST_BACKENDS=postgres keeps only PostgreSQL (the Node 24 pass of CI: scripts/test-node.sh).
 */
export function backends(): Backend[] {
  const reachable: Backend[] = postgresUrl() ? ['pglite', 'postgres'] : ['pglite'];
  const only = process.env.KAUTH_TEST_BACKENDS;
  if (!only) return reachable;
  const wanted = only.split(',');
  const unknown = wanted.filter((name) => name !== 'pglite' && name !== 'postgres');
  if (unknown.length > 0) throw new Error(`KAUTH_TEST_BACKENDS: unknown backend ${unknown.join(', ')} (pglite, postgres)`);
  const missing = wanted.filter((name) => !reachable.includes(name as Backend));
  if (missing.length > 0) throw new Error(`KAUTH_TEST_BACKENDS asks for ${missing.join(', ')}, which this run cannot reach`);
  return reachable.filter((backend) => wanted.includes(backend));
}

export interface Response<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface GraphQLBody {
  data?: any;
  extensions?: Record<string, any>;
  errors?: { message: string; path?: (string | number)[]; extensions: Record<string, any> }[];
}

let slugCounter = 0;
export function uniqueSlug(prefix = 't'): string {
  slugCounter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${slugCounter}`;
}

/**
 * A database of `backend` for a test, with the generous pool unless told otherwise: a fresh PGlite
 * data directory (removed by `close`), or the test PostgreSQL (its connections named
 * `applicationName`, if given); `keepStatistics: false` runs no keeper round in the background.
 */
export async function openTestDatabase(
  backend: Backend,
  options: { pool?: Partial<PoolConfig>; applicationName?: string; keepStatistics?: boolean } = {},
): Promise<{ db: Database; close(): Promise<void> }> {
  const pool = { ...DEFAULT_POOL, ...GENEROUS_POOL, ...options.pool };
  const keepStatistics = options.keepStatistics;
  if (backend === 'pglite') {
    const dataDir = freshPgliteDir();
    const db = await openDatabase({ kind: 'pglite', dataDir }, { pool, keepStatistics });
    const close = async () => {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    };
    return { db, close };
  }
  const url = new URL(postgresUrl()!);
  if (options.applicationName) url.searchParams.set('application_name', options.applicationName);
  const db = await openDatabase({ kind: 'postgres', url: url.toString() }, { pool, keepStatistics });
  return { db, close: () => db.close() };
}

/** A new workspace on `db` (slug `prefix-…`) and the operator's context in it, for tests that call the domain directly. */
export async function testWorkspace(db: Database, prefix: string): Promise<{ slug: string; ctx: DomainContext }> {
  const tenant = await createTenant(db.prisma, { slug: uniqueSlug(prefix) });
  return { slug: tenant.slug, ctx: fullAccessContext(db.prisma, tenant.id, { maxGroupDepth: MAX_GROUP_DEPTH }) };
}

export class Harness {
  db!: Database;
  app!: FastifyInstance;
  baseUrl!: string;
  private closeDb: (() => Promise<void>) | null = null;

  constructor(
    readonly backend: Backend,
    readonly options: HarnessOptions = {},
  ) {}

  async start(): Promise<void> {
    const opened = await openTestDatabase(this.backend, this.options);
    this.db = opened.db;
    this.closeDb = opened.close;
    this.app = await buildApp({
      db: this.db.prisma,
      maxGroupDepth: MAX_GROUP_DEPTH,
      jwt: null,
      query: queryLimits({}),
      traffic: { ...trafficLimits({}), ...GENEROUS_TRAFFIC, ...this.options.traffic },
      readiness: () => this.db.readiness(),
      statistics: this.db.statistics.keeper,
      poolStats: () => this.db.poolStats(),
      listen: this.db.listen,
      ...this.options.app,
      ...(await this.options.setup?.(this)),
    });
    await this.app.listen({ host: '127.0.0.1', port: 0 });
    const address = this.app.server.address();
    if (!address || typeof address === 'string') throw new Error('no port');
    this.baseUrl = `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.closeDb?.();
  }

  async request<T = any>(method: string, url: string, options: { headers?: Record<string, string>; body?: unknown; rawBody?: string } = {}): Promise<Response<T>> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.baseUrl + url, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  /** POSTs a GraphQL operation with `key` as the bearer credential (omit for none). */
  gql(key: string | null, query: string, variables?: Record<string, unknown>): Promise<Response<GraphQLBody>> {
    return this.request('POST', '/graphql', {
      headers: key ? { authorization: `Bearer ${key}` } : {},
      body: { query, variables },
    });
  }

  /**
   * Resolves once the database's clock reads at least a millisecond past `at`, a time it stamped: a
   * row stamped from then on is stamped later (timestamps are kept to the millisecond, rounded).
   */
  async clockPast(at: Date | string): Promise<void> {
    const iso = new Date(at).toISOString();
    await waitFor(`the database's clock to pass ${iso}`, async () => {
      const [row] = await this.db.raw.query<{ past: boolean }>("SELECT clock_timestamp() >= $1::timestamptz + interval '1 millisecond' AS past", [iso]);
      return row.past;
    });
  }

  /** A new workspace with an all-scopes key, and factories that go through the API. */
  async workspace(): Promise<Workspace> {
    const tenant = await createTenant(this.db.prisma, { slug: uniqueSlug() });
    const ws = new Workspace(this, tenant, '');
    ws.adminKey = await ws.key(ALL_SCOPES);
    return ws;
  }
}

export class Workspace {
  constructor(
    readonly h: Harness,
    readonly tenant: Tenant,
    public adminKey: string,
  ) {}

  /** The same workspace and key, reached through another harness's app (another process's, in effect). */
  through(other: Harness): Workspace {
    return new Workspace(other, this.tenant, this.adminKey);
  }

  get ctx(): DomainContext {
    return fullAccessContext(this.h.db.prisma, this.tenant.id, { maxGroupDepth: MAX_GROUP_DEPTH });
  }

  /** Creates an API key with exactly these scopes. */
  async key(scopes: string[], options: { expiresAt?: Date } = {}): Promise<string> {
    const { key } = await createApiKey(this.ctx, OPERATOR, {
      name: `test ${scopes.join(' ')}`,
      scopes,
      expiresAt: options.expiresAt,
    });
    return key;
  }

  /** Runs an operation as the admin key; fails the test on any GraphQL error. */
  async ok(query: string, variables?: Record<string, unknown>): Promise<any> {
    const res = await this.h.gql(this.adminKey, query, variables);
    if (res.status !== 200 || res.body.errors) {
      throw new Error(`GraphQL failed (${res.status}): ${JSON.stringify(res.body.errors ?? res.body)}`);
    }
    return res.body.data;
  }

  /** Runs an operation as the admin key and returns the response as is. */
  gql(query: string, variables?: Record<string, unknown>, key: string | null = this.adminKey) {
    return this.h.gql(key, query, variables);
  }

  async group(name: string, parentId?: string | null, description?: string): Promise<string> {
    const data = await this.ok(
      'mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }',
      { input: { name, parentId, description } },
    );
    return data.createGroup.id;
  }

  async user(name = 'Someone', email?: string): Promise<string> {
    const data = await this.ok('mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', {
      input: { name, email: email ?? `${uniqueSlug('u')}@example.com` },
    });
    return data.createUser.id;
  }

  async role(name: string): Promise<string> {
    const data = await this.ok('mutation($input: CreateRoleInput!) { createRole(input: $input) { id } }', {
      input: { name },
    });
    return data.createRole.id;
  }

  async addMember(groupId: string, userId: string): Promise<void> {
    await this.ok('mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }', { g: groupId, u: userId });
  }

  async assignGroupRole(groupId: string, roleId: string): Promise<void> {
    await this.ok('mutation($g: ID!, $r: ID!) { assignGroupRole(groupId: $g, roleId: $r) { id } }', { g: groupId, r: roleId });
  }
}

/** A second app on this run's PostgreSQL database with a database handle of its own: what another server process is to the first. */
export function anotherApp(options: HarnessOptions = {}): Harness {
  const other = new Harness('postgres', options);
  beforeAll(() => other.start(), 120_000);
  afterAll(() => other.stop());
  return other;
}

/** Declares `suite` once per backend, each with its own running app. */
export function eachBackend(name: string, suite: (h: Harness) => void, options: HarnessOptions = {}): void {
  for (const backend of backends()) {
    describe(`${name} [${backend}]`, () => {
      const h = new Harness(backend, options);
      beforeAll(() => h.start(), 120_000);
      afterAll(() => h.stop());
      suite(h);
    });
  }
}

/** The error codes of a GraphQL response, in order. */
export const codes = (body: GraphQLBody): string[] => (body.errors ?? []).map((e) => e.extensions.code);

/**
 * Declares `suite` on PostgreSQL only: for what only a server with several connections can show
 * (locks held by another session, concurrency, outages). Without PostgreSQL, a skipped test says
 * why (`why`, if given, says why PGlite cannot stand in), or a failing one under CI=true
 * (./services.ts); a run that leaves PostgreSQL out (KAUTH_TEST_BACKENDS=pglite) skips it too.
 */
export function postgresOnly(name: string, suite: (h: Harness) => void, options: HarnessOptions = {}, why?: string): void {
  if (postgresUrl() && !backends().includes('postgres')) {
    describe.skip(`${name} [postgres: skipped, KAUTH_TEST_BACKENDS leaves it out]`, () => it('runs on PostgreSQL only', () => undefined));
    return;
  }
  describeOnPostgres(`${name} [postgres]`, () => {
    const h = new Harness('postgres', options);
    beforeAll(() => h.start(), 120_000);
    afterAll(() => h.stop());
    suite(h);
  }, why);
}
