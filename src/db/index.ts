// Opens the database the configuration names: embedded PGlite (default) or PostgreSQL.
// Both are reached by Prisma through a driver adapter; `raw` is for migrations and locks.
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { Client, Pool } from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { DatabaseConfig, PoolConfig } from '../config';
import { PrismaClient } from '../generated/prisma/client';
import { type Session, keepInBackground, settleAfterBulkWrite } from './analyze';
import { foldCountDeltas } from './count-deltas';
import { keepPrivate, lockDataDir } from './data-dir-lock';
import { migrate, readMigrations } from './migrator';
import type { RawSql } from './raw';
import { registerReader } from './reader';
import { type StatisticsPlan, readAutovacuumSettings, statisticsPlan } from './statistics';
import { countingAdapter, StatementCounter } from './statement-counter';
import { cancelStatementsOnStop } from './cancel';
import { watchPool } from './watchdog';
import { WriteQueue, registerWriteQueue } from './write-queue';

export type { RawSql } from './raw';
export { StatementCounter } from './statement-counter';
export { readerOf, selectColumns } from './reader';
export { analyzeStaleTables, keepStatistics, keepingRound, STATISTICS_LOCK, type Session } from './analyze';
export { foldCountDeltas } from './count-deltas';
export {
  type AutovacuumSettings, type StatisticsKeeper, type StatisticsPlan, type StatisticsReport, readAutovacuumSettings, statisticsLine, statisticsPlan, statisticsReport,
} from './statistics';
export { migrate, MigrationError } from './migrator';
export { DataDirError, DataDirInUseError } from './data-dir-lock';
export { isDatabaseUnavailable, isUniqueViolation, isWriteConflict } from './errors';
export { workScope, throwIfStopped, type WorkScope } from './work-scope';
export { WriteQueue, WriteQueueTimeoutError, writeQueueOf } from './write-queue';

export type Prisma = PrismaClient;

/** Connections of the PostgreSQL pool; null for the embedded database (one connection). */
export interface PoolStats {
  inUse: number;
  idle: number;
  waiting: number;
}

export interface Readiness {
  ready: boolean;
  reason?: string;
}

export interface Database {
  kind: DatabaseConfig['kind'];
  prisma: PrismaClient;
  raw: RawSql;
  statements: StatementCounter;
  poolStats(): PoolStats | null;
  /**
   * Calls `onPayload` with each NOTIFY on `channel` (committed transactions only), from this
   * process or any other on the same database; `onReconnect` after notifications may have been
   * missed (a dropped listening connection). Resolves to a function that stops listening.
   */
  listen: Listen;
  /** Who keeps table statistics and vacuums dead rows: the database's autovacuum or this service (decided at start). */
  statistics: StatisticsPlan;
  /** Runs a function on a connection of its own, outside any transaction (src/db/analyze.ts). */
  session: Session;
  /** Reachable, and every migration this version knows is applied. */
  readiness(timeoutMs?: number): Promise<Readiness>;
  close(): Promise<void>;
}

export type Listen = (channel: string, onPayload: (payload: string) => void, onReconnect?: () => void) => Promise<() => Promise<void>>;

export const DEFAULT_POOL: PoolConfig = {
  size: 10,
  connectTimeoutMs: 1500,
  statementTimeoutMs: 10_000,
  transactionMaxWaitMs: 2000,
  transactionTimeoutMs: 5000,
  writeQueueWaitMs: 8000,
  writeConcurrency: 2,
};

export class DatabaseUnavailableError extends Error {}

function pgliteRaw(db: PGlite | Parameters<Parameters<PGlite['transaction']>[0]>[0]): RawSql {
  return {
    exec: async (sql) => {
      await db.exec(sql);
    },
    query: async <T>(sql: string, params: unknown[] = []) => (await db.query<T>(sql, params)).rows,
    transaction: async (fn) => {
      if (!('transaction' in db)) throw new Error('nested transactions are not supported');
      return db.transaction((tx) => fn(pgliteRaw(tx)));
    },
  };
}

function pgRaw(pool: Pool): RawSql {
  return {
    exec: async (sql) => {
      await pool.query(sql);
    },
    query: async <T>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows as T[],
    transaction: async (fn) => {
      const client = await pool.connect();
      const tx: RawSql = {
        exec: async (sql) => {
          await client.query(sql);
        },
        query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
        transaction: () => Promise.reject(new Error('nested transactions are not supported')),
      };
      try {
        await client.query('BEGIN');
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

async function openPGlite(dataDir: string) {
  const release = lockDataDir(dataDir);
  try {
    const pglite = await PGlite.create(dataDir);
    keepPrivate(dataDir);
    const raw = pgliteRaw(pglite);
    return {
      raw,
      session: ((fn) => fn(raw)) as Session,
      endSessions: async () => undefined, // the one connection: a round in progress finishes before it closes
      factory: new PrismaPGlite(pglite) as SqlDriverAdapterFactory,
      poolStats: () => null,
      listen: (async (channel, onPayload) => pglite.listen(channel, onPayload)) as Listen,
      close: async () => {
        await pglite.close();
        keepPrivate(dataDir);
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

async function openPostgres(url: string, config: PoolConfig) {
  const pool = new Pool({
    connectionString: url,
    max: config.size,
    connectionTimeoutMillis: config.connectTimeoutMs,
    statement_timeout: config.statementTimeoutMs,
    // A transaction whose client vanished mid-way must not hold locks (the tree lock) for long.
    idle_in_transaction_session_timeout: Math.max(config.transactionTimeoutMs * 2, 10_000),
  });
  pool.on('error', () => undefined); // idle-client errors surface on the next query instead
  cancelStatementsOnStop(pool);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    const safeUrl = url.replace(/\/\/[^@/]*@/, '//***@');
    throw new DatabaseUnavailableError(`cannot connect to PostgreSQL at ${safeUrl}: ${(error as Error).message}`);
  }
  // A connection out for half a second while a fresh one cannot be made either is on a dead link.
  const sessions = sessionsOn(url, config.connectTimeoutMs);
  const stopWatching = watchPool(pool, { url, suspectAfterMs: 500, probeTimeoutMs: Math.min(config.connectTimeoutMs, 700) });
  return {
    raw: pgRaw(pool),
    session: sessions.session,
    endSessions: sessions.end,
    factory: new PrismaPg(pool) as SqlDriverAdapterFactory,
    poolStats: (): PoolStats => ({ inUse: pool.totalCount - pool.idleCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    listen: (channel: string, onPayload: (payload: string) => void, onReconnect?: () => void) => listenPostgres(url, channel, onPayload, onReconnect),
    close: () => {
      stopWatching();
      return pool.end();
    },
  };
}

/**
 * A connection of its own for each call, so that a long VACUUM holds no pooled one and no statement
 * timeout applies; `end` closes those open, failing their statements, so that stopping never waits on one.
 */
function sessionsOn(url: string, connectTimeoutMs: number): { session: Session; end: () => Promise<void> } {
  const open = new Set<Client>();
  // Named in pg_stat_activity whatever the URL names the service's connections (the URL's name would win over an option).
  const named = new URL(url);
  named.searchParams.set('application_name', 'kauth statistics');
  const session: Session = async (fn) => {
    const client = new Client({ connectionString: named.toString(), connectionTimeoutMillis: connectTimeoutMs });
    client.on('error', () => undefined); // a dropped connection fails the statement in progress instead
    open.add(client);
    try {
      await client.connect();
      return await fn({
        exec: async (sql) => {
          await client.query(sql);
        },
        query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
        transaction: () => Promise.reject(new Error('a statistics session runs outside transactions')),
      });
    } finally {
      open.delete(client);
      await client.end().catch(() => undefined);
    }
  };
  return { session, end: async () => void (await Promise.all([...open].map((client) => client.end().catch(() => undefined)))) };
}

/**
 * LISTEN on a connection of its own (a pooled one would be handed to other work). A dropped
 * connection is re-opened after a second, then `onReconnect` tells the listener it may have
 * missed notifications meanwhile.
 */
async function listenPostgres(url: string, channel: string, onPayload: (payload: string) => void, onReconnect?: () => void) {
  let client: Client | null = null;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const next = new Client({ connectionString: url });
    next.on('notification', (message) => {
      if (message.channel === channel && message.payload !== undefined) onPayload(message.payload);
    });
    next.on('error', () => {
      if (client === next) client = null;
      next.end().catch(() => undefined);
      if (!stopped) retry = setTimeout(() => void reconnect(), 1000).unref();
    });
    await next.connect();
    await next.query(`LISTEN ${next.escapeIdentifier(channel)}`);
    client = next;
  };
  const reconnect = async () => {
    if (stopped) return;
    try {
      await connect();
      onReconnect?.();
    } catch {
      retry = setTimeout(() => void reconnect(), 1000).unref();
    }
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => undefined);
  };
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function checkReadiness(raw: RawSql, timeoutMs: number): Promise<Readiness> {
  try {
    const rows = await withTimeout(
      raw.query<{ migration_name: string }>(
        'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
      ),
      timeoutMs,
      `no answer from the database within ${timeoutMs} ms`,
    );
    const applied = new Set(rows.map((row) => row.migration_name));
    const pending = readMigrations().filter((m) => !applied.has(m.name));
    if (pending.length > 0) return { ready: false, reason: `migrations pending: ${pending.map((m) => m.name).join(', ')}` };
    return { ready: true };
  } catch (error) {
    return { ready: false, reason: `database unreachable: ${(error as Error).message.split('\n')[0]}` };
  }
}

export interface OpenOptions {
  migrate?: boolean;
  pool?: PoolConfig;
  /** false: decide who keeps statistics, but never keep them nor fold the count deltas in the background (tests that do it by hand). */
  keepStatistics?: boolean;
}

const bulkWriteSettlers = new WeakMap<object, (tenantId: number, tables: readonly string[]) => Promise<void>>();

/**
 * Tells the database of a client opened by openDatabase that a bulk write (an import) of workspace
 * `tenantId` just committed changes to `tables` (plain names): before this resolves, the
 * workspace's count deltas are folded (so an import leaves no pile of them, src/db/count-deltas.ts)
 * and the tables' statistics are brought up to date (src/db/analyze.ts, settleAfterBulkWrite).
 * Never fails: the write is done, and the keeper's next round catches up if this could not.
 */
export async function afterBulkWrite(prisma: object, tenantId: number, tables: readonly string[]): Promise<void> {
  await bulkWriteSettlers.get(prisma)?.(tenantId, tables).catch(() => undefined);
}

export async function openDatabase(config: DatabaseConfig, options: OpenOptions = {}): Promise<Database> {
  const pool = options.pool ?? DEFAULT_POOL;
  const opened = config.kind === 'pglite' ? await openPGlite(config.dataDir) : await openPostgres(config.url, pool);
  let statistics: StatisticsPlan;
  try {
    // The tables' reloptions count too: a database the migrations are about to make has none yet.
    statistics = statisticsPlan(config.kind, config.kind === 'postgres' ? await readAutovacuumSettings(opened.raw) : null);
  } catch (error) {
    await opened.close();
    throw error;
  }
  let stopKeeping: () => Promise<void> = async () => undefined;
  const statements = new StatementCounter();
  const prisma = new PrismaClient({
    adapter: countingAdapter(opened.factory, statements),
    transactionOptions: { maxWait: pool.transactionMaxWaitMs, timeout: pool.transactionTimeoutMs },
  });
  const database: Database = {
    kind: config.kind,
    prisma,
    raw: opened.raw,
    statements,
    poolStats: opened.poolStats,
    listen: opened.listen,
    statistics,
    session: opened.session,
    readiness: (timeoutMs = 1000) => checkReadiness(opened.raw, timeoutMs),
    close: async () => {
      const stopped = stopKeeping(); // no round starts after this
      await opened.endSessions();
      await stopped;
      await prisma.$disconnect();
      await opened.close();
    },
  };
  if (config.kind === 'postgres') registerReader(prisma, opened.raw, statements);
  registerWriteQueue(prisma, new WriteQueue(pool.writeQueueWaitMs, pool.writeConcurrency));
  bulkWriteSettlers.set(prisma, async (tenantId, tables) => {
    await foldCountDeltas(opened.raw, tenantId).catch(() => undefined);
    // Where the service keeps only some tables (autovacuum_enabled = false on them), it vacuums only those.
    const kept = (name: string) => statistics.only === null || statistics.only.some((table) => table.endsWith(`.${name}`));
    return settleAfterBulkWrite(opened.session, statistics.keeper, tables.map((name) => ({ name, vacuum: kept(name) })));
  });
  if (options.migrate !== false) {
    try {
      await migrate(opened.raw);
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  if (options.keepStatistics !== false) {
    stopKeeping = keepInBackground(opened.session, { statistics: statistics.keeper === 'service', only: statistics.only });
  }
  return database;
}
