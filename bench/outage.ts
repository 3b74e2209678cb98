// How fast the service answers 503 once PostgreSQL is cut off, and how fast it serves again once
// it is back: the README promises a 503 "within DB_CONNECT_TIMEOUT_MS". The app runs in this
// process on a database reached through a loopback TCP proxy (test/support/tcp-proxy.ts) that
// cuts every connection ('reset': a restart, a firewall reset) or stops answering ('blackhole': a
// partition, a hung middlebox). For each mode, RUNS times: a REST read, a GraphQL read, a SCIM
// read, a REST write and /readyz, one after the other, timed from request to 503; then the time
// from restoring the link to the first 200. The tests (test/outage.test.ts) check what is answered;
// this measures how long it takes, on this machine.
//
//   npx tsx bench/outage.ts                # postgres://postgres@127.0.0.1:5432/kauth_bench unless DATABASE_URL (created if missing)
//   RUNS=10 DB_CONNECT_TIMEOUT_MS=1500 npx tsx bench/outage.ts
import { trafficLimits } from '../src/config';
import { DEFAULT_POOL, openDatabase } from '../src/db';
import { OPERATOR, createApiKey } from '../src/domain/apikeys';
import { buildApp } from '../src/http/app';
import { TcpProxy } from '../test/support/tcp-proxy';
import { DEFAULT_BENCH_URL, ensureDatabase } from './seed';
import { openBenchWorkspace, percentile, runBench } from './support';

const RUNS = Number(process.env.RUNS ?? 5);
const CONNECT_TIMEOUT_MS = Number(process.env.DB_CONNECT_TIMEOUT_MS ?? 1000);

runBench(async () => {
  const url = (process.env.DATABASE_URL ||= DEFAULT_BENCH_URL);
  await ensureDatabase(url);
  const bench = await openBenchWorkspace();
  const target = new URL(url);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(await proxy.start());
  const db = await openDatabase({ kind: 'postgres', url: proxied.toString() }, { migrate: false, pool: { ...DEFAULT_POOL, connectTimeoutMs: CONNECT_TIMEOUT_MS } });
  const app = await buildApp({
    db: db.prisma,
    maxGroupDepth: bench.limits.maxGroupDepth,
    jwt: null,
    traffic: { ...trafficLimits(), pointsPerWindow: 1e9, requestsPerAddress: 1e9 },
    readiness: () => db.readiness(1000),
    poolStats: () => db.poolStats(),
  });
  try {
    const { key } = await createApiKey(bench.ctx, OPERATOR, { name: 'bench', scopes: ['groups:read', 'groups:write', 'users:read'] });
    const headers = { authorization: `Bearer ${key}` };
    const slug = bench.tenant.slug;
    const requests = {
      'REST read': () => app.inject({ method: 'GET', url: `/t/${slug}/api/v1/groups`, headers }),
      'GraphQL read': () => app.inject({ method: 'POST', url: '/graphql', headers, payload: { query: '{ groups { totalCount } }' } }),
      'SCIM read': () => app.inject({ method: 'GET', url: `/t/${slug}/scim/v2/Users`, headers }),
      'REST write': () => app.inject({ method: 'POST', url: `/t/${slug}/api/v1/groups`, headers, payload: { name: 'written during the outage' } }),
      '/readyz': () => app.inject({ method: 'GET', url: '/readyz' }),
    };
    const served = async () => (await requests['REST read']()).statusCode === 200;
    console.log(`DB_CONNECT_TIMEOUT_MS ${CONNECT_TIMEOUT_MS}; ${RUNS} runs per mode`);
    console.log('| mode | answer | p50 ms | max ms | not 503 |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const mode of ['reset', 'blackhole'] as const) {
      const times: Record<string, number[]> = Object.fromEntries([...Object.keys(requests), 'served again'].map((name) => [name, []]));
      const wrong: Record<string, number> = {};
      for (let run = 0; run < RUNS; run += 1) {
        if (!(await served())) throw new Error('not serving before the cut');
        proxy.cut(mode);
        for (const [name, send] of Object.entries(requests)) {
          const started = performance.now();
          const res = await send();
          times[name].push(performance.now() - started);
          if (res.statusCode !== 503) wrong[name] = (wrong[name] ?? 0) + 1;
        }
        proxy.restore();
        const restored = performance.now();
        while (!(await served())) {
          if (performance.now() - restored > 60_000) throw new Error('not serving 60 s after the link was restored');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        times['served again'].push(performance.now() - restored);
      }
      for (const [name, values] of Object.entries(times)) {
        console.log(`| ${mode} | ${name === 'served again' ? 'restored → 200' : `${name} → 503`} | ${percentile(values, 50).toFixed(0)} | ${Math.max(...values).toFixed(0)} | ${name === 'served again' ? '' : (wrong[name] ?? 0)} |`);
      }
    }
  } finally {
    await app.close();
    await db.close();
    await proxy.stop();
    await bench.close();
  }
});
