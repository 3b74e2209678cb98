import { removePgliteTemplate } from './pglite-template';
import { withAdmin } from './postgres';

export default async function globalTeardown(): Promise<void> {
  removePgliteTemplate();
  const name = process.env.KAUTH_TEST_POSTGRES_DB;
  if (!name) return;
  await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
