// The hottest point reads (a group by id: every REST and GraphQL read of a group starts with one)
// go below Prisma, straight to the pg pool: measured on the bench database, a findMany costs
// 0.29 ms of CPU, a $queryRaw 0.15 ms, the pool's query 0.04 ms (BENCHMARKS.md). Only with
// PostgreSQL: embedded PGlite has one connection, which Prisma's transactions hold. Statements
// are counted and a stopped request is kept from sending one, as for Prisma's (statement-counter.ts).
import type { RawSql } from './raw';
import type { StatementCounter } from './statement-counter';
import { throwIfStopped } from './work-scope';

export interface Reader {
  query<T>(sql: string, params: unknown[]): Promise<T[]>;
}

const readers = new WeakMap<object, Reader>();

export function registerReader(prisma: object, raw: RawSql, statements: StatementCounter): void {
  readers.set(prisma, {
    query<T>(sql: string, params: unknown[]) {
      throwIfStopped();
      statements.record();
      return raw.query<T>(sql, params);
    },
  });
}

/** The reader of a client opened on PostgreSQL; null for PGlite and for a transaction's client (its reads stay in it). */
export function readerOf(prisma: object): Reader | null {
  return readers.get(prisma) ?? null;
}

/** A model's columns as `"db_name" AS "fieldName"`, from the generated client's field list (snake_case names, as the schema maps them). */
export function selectColumns(alias: string, fields: Record<string, string>): string {
  return Object.values(fields)
    .map((field) => `${alias}."${field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}" AS "${field}"`)
    .join(', ');
}
