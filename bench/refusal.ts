// Benchmark: what refusing costs. A 2,000-alias query (refused before it runs) against one
// normal request, sequentially, in-process: wall time and this process's CPU time per request.
//   npx tsx bench/refusal.ts                      # embedded PGlite in a temporary directory
//   DATABASE_URL=postgres://…/scratch npx tsx bench/refusal.ts
import { trafficLimits } from '../src/config';
import { OPERATOR, createApiKey } from '../src/domain/apikeys';
import { createGroup } from '../src/domain/groups';
import { buildApp } from '../src/http/app';
import { openBenchWorkspace, runBench } from './support';

const RUNS = 200;
const REFUSED = `{ ${Array.from({ length: 2000 }, (_, i) => `a${i}: viewer { scopes }`).join(' ')} }`;
const NORMAL = (id: number) => `{ group(id: "${id}") { id name depth ancestors { id name } children { id name } } }`;

async function main() {
  const bench = await openBenchWorkspace();
  const { config, db, limits, ctx } = bench;
  const root = await createGroup(ctx, { name: 'root' });
  const child = await createGroup(ctx, { name: 'child', parentId: root.id });
  for (let i = 0; i < 5; i += 1) await createGroup(ctx, { name: `leaf ${i}`, parentId: child.id });
  const { key } = await createApiKey(ctx, OPERATOR, { name: 'bench', scopes: ['groups:read'] });
  const app = await buildApp({ db: db.prisma, maxGroupDepth: limits.maxGroupDepth, jwt: null, traffic: { ...trafficLimits(), pointsPerWindow: 1e9, requestsPerAddress: 1e9 } });

  const measure = async (label: string, query: string, expectStatus: number) => {
    const walls: number[] = [];
    const cpu = process.cpuUsage();
    let statements = 0;
    for (let i = 0; i < RUNS; i += 1) {
      const before = db.statements.total;
      const started = process.hrtime.bigint();
      const res = await app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${key}` }, payload: { query } });
      walls.push(Number(process.hrtime.bigint() - started) / 1e6);
      statements = db.statements.total - before;
      if (res.statusCode !== expectStatus) throw new Error(`${label}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    const used = process.cpuUsage(cpu);
    walls.sort((a, b) => a - b);
    const cpuMs = (used.user + used.system) / 1000 / RUNS;
    console.log(
      `${label.padEnd(34)} ${String(query.length).padStart(6)} chars; statements ${statements}; wall p50 ${walls[RUNS / 2].toFixed(2)} ms, p95 ${walls[Math.floor(RUNS * 0.95)].toFixed(2)} ms; CPU ${cpuMs.toFixed(2)} ms/request`,
    );
  };
  await measure('warm-up', NORMAL(child.id), 200);
  console.log(`backend: ${config.kind}; ${RUNS} sequential requests each; in-process HTTP (inject)`);
  await measure('normal: group with ancestors/children', NORMAL(child.id), 200);
  await measure('refused: 2,000 aliases', REFUSED, 400);
  await app.close();
  await bench.close();
}

runBench(main);
