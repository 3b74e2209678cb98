// Creates this run's PostgreSQL database. Under CI=true an unreachable server fails the run;
// elsewhere the PostgreSQL half of the suite is skipped with a loud warning.
import { randomBytes } from 'node:crypto';
import { withAdmin, databaseUrl, ADMIN_URL } from './postgres';

export default async function globalSetup(): Promise<void> {
  const name = `kauth_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  try {
    await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
  } catch (error) {
    if (process.env.CI === 'true' || process.env.KAUTH_TEST_REQUIRE_POSTGRES === '1') {
      throw new Error(`PostgreSQL is required for the test suite but ${ADMIN_URL} is unreachable: ${(error as Error).message}`);
    }
    process.stderr.write(`\n*** PostgreSQL unreachable at ${ADMIN_URL}: running the PGlite half of the suite only ***\n\n`);
    process.env.KAUTH_TEST_POSTGRES_URL = '';
    return;
  }
  process.env.KAUTH_TEST_POSTGRES_DB = name;
  process.env.KAUTH_TEST_POSTGRES_URL = databaseUrl(name);
}
