// Creates this run's PostgreSQL database and its embedded-database template, and asks whether the
// tests' Redis answers. Under CI=true an unreachable PostgreSQL fails the run; elsewhere the
// PostgreSQL half of the suite is skipped with a loud warning, as are the suites that need Redis
// without it (./services.ts).
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { makePgliteTemplate } from './pglite-template';
import { ADMIN_URL, databaseUrl, withAdmin } from './postgres';
import { REDIS_URL, redisReachable } from './redis';
import { servicesRequired } from './services';

const STALE_AFTER_MS = 6 * 3600_000;

/** Drops the databases of earlier runs that were killed before their teardown. */
async function dropStale(client: Client): Promise<void> {
  const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'kauth\\_test\\_%'");
  for (const { datname } of rows) {
    const started = Number(/^kauth_test_(\d+)_/.exec(datname)?.[1]);
    if (started && Date.now() - started > STALE_AFTER_MS) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
}

export default async function globalSetup(): Promise<void> {
  await makePgliteTemplate();
  const redis = await redisReachable(REDIS_URL);
  if (!redis) process.stderr.write(`\n*** Redis unreachable at ${REDIS_URL}: the suites that need it ${servicesRequired() ? 'fail' : 'are skipped'} ***\n\n`);
  process.env.KAUTH_TEST_REDIS_URL = redis ? REDIS_URL : '';
  const name = `kauth_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  try {
    await withAdmin(async (client) => {
      await dropStale(client);
      await client.query(`CREATE DATABASE "${name}"`);
    });
  } catch (error) {
    if (servicesRequired()) {
      throw new Error(`PostgreSQL is required for the test suite but ${ADMIN_URL} is unreachable: ${(error as Error).message}`);
    }
    process.stderr.write(`\n*** PostgreSQL unreachable at ${ADMIN_URL}: running the PGlite half of the suite only ***\n\n`);
    process.env.KAUTH_TEST_POSTGRES_URL = '';
    return;
  }
  process.env.KAUTH_TEST_POSTGRES_DB = name;
  process.env.KAUTH_TEST_POSTGRES_URL = databaseUrl(name);
}
