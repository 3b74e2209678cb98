// The PostgreSQL the tests run against: a fresh database per test run on the local server
// (TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards.
import { Client } from 'pg';

export const ADMIN_URL = process.env.TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 30_000 }); // slow on a busy machine is not unreachable
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
