// Opens the database the configuration names: embedded PGlite (default) or PostgreSQL.
// Both are reached by Prisma through a driver adapter; `raw` is for migrations and locks.
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { Pool } from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { DatabaseConfig } from '../config';
import { PrismaClient } from '../generated/prisma/client';
import { lockDataDir } from './data-dir-lock';
import { migrate } from './migrator';
import type { RawSql } from './raw';
import { countingAdapter, StatementCounter } from './statement-counter';

export type { RawSql } from './raw';
export { StatementCounter } from './statement-counter';
export { migrate, MigrationError } from './migrator';
export { DataDirError } from './data-dir-lock';

export type Prisma = PrismaClient;

export interface Database {
  kind: DatabaseConfig['kind'];
  prisma: PrismaClient;
  raw: RawSql;
  statements: StatementCounter;
  close(): Promise<void>;
}

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
    return {
      raw: pgliteRaw(pglite),
      factory: new PrismaPGlite(pglite) as SqlDriverAdapterFactory,
      close: async () => {
        await pglite.close();
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

async function openPostgres(url: string) {
  const pool = new Pool({ connectionString: url, max: 10 });
  pool.on('error', () => undefined); // idle-client errors surface on the next query instead
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    const safeUrl = url.replace(/\/\/[^@/]*@/, '//***@');
    throw new DatabaseUnavailableError(`cannot connect to PostgreSQL at ${safeUrl}: ${(error as Error).message}`);
  }
  return {
    raw: pgRaw(pool),
    factory: new PrismaPg(pool) as SqlDriverAdapterFactory,
    close: () => pool.end(),
  };
}

export async function openDatabase(config: DatabaseConfig, options: { migrate?: boolean } = {}): Promise<Database> {
  const opened = config.kind === 'pglite' ? await openPGlite(config.dataDir) : await openPostgres(config.url);
  const statements = new StatementCounter();
  const prisma = new PrismaClient({ adapter: countingAdapter(opened.factory, statements) });
  const database: Database = {
    kind: config.kind,
    prisma,
    raw: opened.raw,
    statements,
    close: async () => {
      await prisma.$disconnect();
      await opened.close();
    },
  };
  if (options.migrate !== false) {
    try {
      await migrate(opened.raw);
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
}
