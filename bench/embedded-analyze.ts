// Why the embedded database analyzes its tables (src/db/analyze.ts): PGlite has no autovacuum, and
// its one session keeps the plans it made while the tables were small, foreign-key checks among
// them. A running server adds members while a workspace has a handful of users; then an identity
// provider brings 10,000 users and puts them all in one group with one PATCH. Timed three ways,
// each on a fresh embedded database: without any ANALYZE, after analyzeStaleTables (what the
// server does every minute), and after DISCARD PLANS (only the cached plans dropped).
//
//   npm run bench:embedded-analyze
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyzeStaleTables, openDatabase } from '../src/db';
import { fullAccessContext } from '../src/domain/context';
import { provisionGroup, updateProvisionedGroup } from '../src/domain/provisioning';
import { createTenant } from '../src/domain/tenants';
import { provisionUser } from '../src/domain/users';
import { runBench } from './support';

const MEMBERS = 10_000;

async function once(before: 'nothing' | 'analyzeStaleTables' | 'DISCARD PLANS'): Promise<{ ms: number; analyzed: string[] }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kauth-bench-analyze-'));
  const db = await openDatabase({ kind: 'pglite', dataDir });
  try {
    const tenant = await createTenant(db.prisma, { slug: 'analyze-bench' });
    const ctx = fullAccessContext(db.prisma, tenant.id, { maxGroupDepth: 8 });
    // The server at work while the workspace is small: a few users in and out of a group.
    const few: number[] = [];
    for (let i = 0; i < 4; i += 1) few.push((await provisionUser(ctx, { userName: `early${i}@example.com` })).id);
    const small = await provisionGroup(ctx, { name: 'Small' });
    for (let i = 0; i < 8; i += 1) {
      await updateProvisionedGroup(ctx, small.id, { members: i % 2 === 0 ? { add: few, remove: [] } : { add: [], remove: few } });
    }
    await db.raw.query(`INSERT INTO users (tenant_id, user_name) SELECT $1, 'bulk' || i FROM generate_series(1, ${MEMBERS}) AS i`, [tenant.id]);
    const ids = (await db.prisma.user.findMany({ where: { tenantId: tenant.id, userName: { startsWith: 'bulk' } }, select: { id: true } })).map((u) => u.id);
    const big = await provisionGroup(ctx, { name: 'Big' });
    let analyzed: string[] = [];
    if (before === 'analyzeStaleTables') analyzed = await analyzeStaleTables(db.raw);
    if (before === 'DISCARD PLANS') await db.raw.exec('DISCARD PLANS');
    const started = performance.now();
    await updateProvisionedGroup(ctx, big.id, { members: { add: ids, remove: [] } });
    return { ms: performance.now() - started, analyzed };
  } finally {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

runBench(async () => {
  console.log(`One member delta adding ${MEMBERS.toLocaleString('en')} users to a group, embedded database (PGlite)\n`);
  console.log('| before the PATCH | ms | tables analyzed |');
  console.log('| --- | --: | --- |');
  for (const before of ['nothing', 'analyzeStaleTables', 'DISCARD PLANS'] as const) {
    const { ms, analyzed } = await once(before);
    console.log(`| ${before} | ${Math.round(ms)} | ${analyzed.join(', ') || '-'} |`);
  }
});
