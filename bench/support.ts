// What every in-process benchmark starts from: a database (embedded PGlite in a temporary
// directory, or the PostgreSQL of DATABASE_URL: use a scratch database such as kauth_bench, never
// one the tests or the service use), a fresh workspace in it, and the operator's domain context.
// `close()` removes the workspace, closes the database and deletes the temporary directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { type DatabaseConfig, type TreeLimits, databaseConfig, treeLimits } from '../src/config';
import { type Database, openDatabase } from '../src/db';
import { type DomainContext, fullAccessContext } from '../src/domain/context';
import { createTenant } from '../src/domain/tenants';
import type { Tenant } from '../src/generated/prisma/client';

export interface BenchWorkspace {
  config: DatabaseConfig;
  db: Database;
  tenant: Tenant;
  limits: TreeLimits;
  ctx: DomainContext;
  close(): Promise<void>;
}

export async function openBenchWorkspace(): Promise<BenchWorkspace> {
  const tmp = process.env.DATABASE_URL ? null : mkdtempSync(path.join(tmpdir(), 'kauth-bench-'));
  const config: DatabaseConfig = tmp ? { kind: 'pglite', dataDir: tmp } : databaseConfig();
  const db = await openDatabase(config);
  const tenant = await createTenant(db.prisma, { slug: `bench-${Date.now().toString(36)}` });
  const limits = treeLimits();
  return {
    config,
    db,
    tenant,
    limits,
    ctx: fullAccessContext(db.prisma, tenant.id, limits),
    async close() {
      await db.prisma.tenant.delete({ where: { id: tenant.id } });
      await db.close();
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Runs a benchmark's main function, printing a failure and exiting 1. */
/**
 * One query on a connection of its own, opened and closed around it: for a bench's setup and
 * checks, outside the service's pool (whose watchdog takes a connection that is out for seconds,
 * while a fresh one is slow to open on a loaded machine, for a dead link and cuts it).
 */
export async function queryOnce<T = any>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

export function runBench(main: () => Promise<void>): void {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

/** The p-th percentile (0–100) of `values`, nearest rank below: percentile(v, 50) is the median. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** POSTs a GraphQL operation to a running server with `key` as the bearer credential. */
export async function gql(base: string, key: string, query: string, variables?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}
