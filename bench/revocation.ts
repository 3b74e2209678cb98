// How fast a revoked API key stops working on another server process: the README promises "within
// a second everywhere". Two real server processes (src/main.ts, deployed defaults but for the
// rate limits) on one PostgreSQL; for each of KEYS keys: used on A and B (so both remember it),
// revoked through A's GraphQL, then B asked every POLL_MS until it refuses. Reports revokedAt
// (stamped just before the revoking transaction) → first refused request, and revocation answered
// → first refused request. The tests (test/auth/credential-cache.test.ts) check the bound that holds
// however slow the machine is; this measures the time, on this machine.
//
//   npx tsx bench/revocation.ts          # postgres://postgres@127.0.0.1:5432/kauth_bench unless DATABASE_URL (created if missing)
//   KEYS=100 POLL_MS=2 npx tsx bench/revocation.ts
import { OPERATOR, createApiKey } from '../src/domain/apikeys';
import { ALL_SCOPES } from '../src/policy/scopes';
import { type ServerProcess, startServer, stopServer } from '../test/support/servers';
import { DEFAULT_BENCH_URL, ensureDatabase } from './seed';
import { gql, openBenchWorkspace, percentile, runBench } from './support';

const KEYS = Number(process.env.KEYS ?? 50);
const POLL_MS = Number(process.env.POLL_MS ?? 5);
const PROMISE_MS = 1000;

runBench(async () => {
  const url = (process.env.DATABASE_URL ||= DEFAULT_BENCH_URL);
  await ensureDatabase(url);
  const bench = await openBenchWorkspace();
  const env = { DATABASE_URL: url, RATE_LIMIT_POINTS: '1000000000', RATE_LIMIT_ADDRESS_REQUESTS: '1000000000' };
  const servers: ServerProcess[] = [await startServer(env), await startServer(env)];
  try {
    await Promise.all(servers.map((server) => server.ready));
    const [a, b] = servers.map((server) => server.baseUrl);
    const { key: admin } = await createApiKey(bench.ctx, OPERATOR, { name: 'bench admin', scopes: ALL_SCOPES });
    const fromRevokedAt: number[] = [];
    const fromAnswer: number[] = [];
    for (let i = 0; i < KEYS; i += 1) {
      const { key, apiKey } = await createApiKey(bench.ctx, OPERATOR, { name: `bench ${i}`, scopes: ['groups:read'] });
      for (const server of [a, b, a, b]) {
        const served = await gql(server, key, '{ viewer { scopes } }');
        if (served.status !== 200) throw new Error(`key ${i} not served: ${served.status}`);
      }
      const revoked = await gql(a, admin, 'mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: String(apiKey.id) });
      const answeredAt = Date.now();
      if (revoked.body.errors) throw new Error(`revoke failed: ${JSON.stringify(revoked.body.errors)}`);
      const revokedAt = Date.parse(revoked.body.data.revokeApiKey.revokedAt);
      for (;;) {
        const sentAt = Date.now();
        const res = await gql(b, key, '{ viewer { scopes } }');
        if (res.status === 401) {
          fromRevokedAt.push(sentAt - revokedAt);
          fromAnswer.push(Math.max(0, sentAt - answeredAt));
          break;
        }
        if (sentAt - revokedAt > 30_000) throw new Error(`key ${i} still served on B 30 s after its revocation`);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
    const row = (label: string, values: number[]) =>
      console.log(`| ${label} | ${percentile(values, 50)} | ${percentile(values, 95)} | ${Math.max(...values)} | ${values.filter((v) => v > PROMISE_MS).length} |`);
    console.log(`${KEYS} keys, each revoked through server A and polled on server B every ${POLL_MS} ms`);
    console.log(`| from | p50 ms | p95 ms | max ms | over ${PROMISE_MS} ms |`);
    console.log('| --- | --- | --- | --- | --- |');
    row('revokedAt → first refusal on B', fromRevokedAt);
    row('revocation answered → first refusal on B', fromAnswer);
  } finally {
    await Promise.all(servers.map(stopServer));
    await bench.close();
  }
});
