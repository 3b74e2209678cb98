// Benchmark: what refusing costs. A 2,000-alias query (refused before it runs) against one
// normal request, sequentially, in-process: wall time and this process's CPU time per request.
//   npx tsx bench/refusal.ts                      # embedded PGlite in a temporary directory
//   DATABASE_URL=postgres://…/scratch npx tsx bench/refusal.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makePrincipal } from '../src/auth/principal';
import { ALL_SCOPES } from '../src/policy/scopes';
import { databaseConfig, trafficLimits, treeLimits } from '../src/config';
import { openDatabase } from '../src/db';
import { createApiKey } from '../src/domain/apikeys';
import { fullAccessContext } from '../src/domain/context';
import { createGroup } from '../src/domain/groups';
import { createTenant } from '../src/domain/tenants';
import { buildApp } from '../src/http/app';

const RUNS = 200;
const REFUSED = `{ ${Array.from({ length: 2000 }, (_, i) => `a${i}: viewer { scopes }`).join(' ')} }`;
const NORMAL = (id: number) => `{ group(id: "${id}") { id name depth ancestors { id name } children { id name } } }`;

async function main() {
  const tmp = process.env.DATABASE_URL ? null : mkdtempSync(path.join(tmpdir(), 'kauth-bench-'));
  const config = tmp ? { kind: 'pglite' as const, dataDir: tmp } : databaseConfig();
  const db = await openDatabase(config);
  const tenant = await createTenant(db.prisma, { slug: `bench-${Date.now().toString(36)}` });
  const limits = treeLimits();
  const ctx = fullAccessContext(db.prisma, tenant.id, limits);
  const root = await createGroup(ctx, { name: 'root' });
  const child = await createGroup(ctx, { name: 'child', parentId: root.id });
  for (let i = 0; i < 5; i += 1) await createGroup(ctx, { name: `leaf ${i}`, parentId: child.id });
  const { key } = await createApiKey(ctx, makePrincipal(tenant, ALL_SCOPES), { name: 'bench', scopes: ['groups:read'] });
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
  await db.prisma.tenant.delete({ where: { id: tenant.id } });
  await db.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
