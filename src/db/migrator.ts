// Applies the hand-written SQL under prisma/migrations/ in order, each in its own
// transaction, and records it in Prisma's `_prisma_migrations` table so that
// `prisma migrate deploy` (where its engine is available) sees the same history.
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RawSql } from './raw';

export const MIGRATIONS_DIR = path.resolve(__dirname, '../../prisma/migrations');

/** Prisma's own advisory lock id for migrations, so the two never run at once. */
const MIGRATION_LOCK_ID = 72707369;

export class MigrationError extends Error {}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

const CREATE_HISTORY_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

function checkHistory(migrations: Migration[], applied: AppliedRow[]): void {
  const known = new Map(migrations.map((m) => [m.name, m]));
  for (const row of applied) {
    if (row.rolled_back_at) continue;
    const migration = known.get(row.migration_name);
    if (!migration) {
      throw new MigrationError(
        `the database has migration "${row.migration_name}" applied, which this version of kauth does not know; refusing to run against a newer schema`,
      );
    }
    if (!row.finished_at) {
      throw new MigrationError(`migration "${row.migration_name}" was started but never finished; repair the database before continuing`);
    }
    if (row.checksum !== migration.checksum) {
      throw new MigrationError(
        `migration "${row.migration_name}" was modified after it was applied (checksum ${row.checksum.slice(0, 12)}… in the database, ${migration.checksum.slice(0, 12)}… on disk)`,
      );
    }
  }
}

async function appliedRows(db: RawSql): Promise<AppliedRow[]> {
  return db.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
}

export async function migrate(db: RawSql, migrations = readMigrations()): Promise<MigrationReport> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
    await tx.exec(CREATE_HISTORY_TABLE);
  });
  checkHistory(migrations, await appliedRows(db));
  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  for (const migration of migrations) {
    const applied = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
      const rows = await appliedRows(tx);
      checkHistory(migrations, rows);
      if (rows.some((r) => r.migration_name === migration.name && !r.rolled_back_at)) return false;
      await tx.exec(migration.sql);
      await tx.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, now(), $3, now(), 1)`,
        [randomUUID(), migration.checksum, migration.name],
      );
      return true;
    });
    (applied ? report.applied : report.alreadyApplied).push(migration.name);
  }
  return report;
}
