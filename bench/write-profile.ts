// Profile of single writes (issue 29, "Single writes"): each SQL statement a create, a move and a
// membership change send, timed in the process, at 1,000 and at 100,000 groups (npm run bench:write-profile).
//
//   npm run bench:write-profile                         # scratch database kauth_bench_profile
//   npm run bench:write-profile -- --large 100000 --count 40
//
// Both workspaces are imported (bench/import-file.ts); then, one at a time, `count` of each write
// through the domain (what GraphQL, REST and SCIM call): createGroup under a random parent,
// updateGroup moving one of the groups it made under another random parent, addGroupMember and
// removeGroupMember. Printed per write and workspace: the median wall time, the statements sent,
// and each statement's median time (the round trip as the service sees it), slowest first.
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { databaseConfig, treeLimits } from '../src/config';
import { openDatabase } from '../src/db';
import { fullAccessContext } from '../src/domain/context';
import { createGroup, updateGroup } from '../src/domain/groups';
import { importWorkspace } from '../src/domain/import';
import { addGroupMember, removeGroupMember } from '../src/domain/members';
import { createTenant } from '../src/domain/tenants';
import { generateWorkspace } from './import-file';
import { percentile, runBench } from './support';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/kauth_bench_profile';

runBench(async () => {
  const { values } = parseArgs({ options: { small: { type: 'string', default: '1000' }, large: { type: 'string', default: '100000' }, count: { type: 'string', default: '40' }, keep: { type: 'boolean' } } });
  const url = process.env.DATABASE_URL ?? DEFAULT_URL;
  const admin = new Client({ connectionString: Object.assign(new URL(url), { pathname: '/postgres' }).toString() });
  await admin.connect();
  const name = new URL(url).pathname.slice(1);
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  process.env.DATABASE_URL = url;
  const db = await openDatabase(databaseConfig());
  const count = Number(values.count);
  try {
    for (const [size, groups] of [['small', Number(values.small)], ['large', Number(values.large)]] as const) {
      const tenant = await createTenant(db.prisma, { slug: `profile-${size}` });
      const ctx = fullAccessContext(db.prisma, tenant.id, treeLimits());
      await importWorkspace(ctx, tenant.slug, generateWorkspace(groups));
      const rows = await db.prisma.$queryRaw<{ id: number; depth: number }[]>`SELECT id, cardinality(path) AS depth FROM groups WHERE tenant_id = ${tenant.id}::int`;
      const parents = rows.filter((g) => g.depth < 8).map((g) => g.id);
      const users = (await db.prisma.user.findMany({ where: { tenantId: tenant.id }, select: { id: true } })).map((u) => u.id);
      const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)];
      const made: number[] = [];
      const writes: [string, (i: number) => Promise<unknown>][] = [
        ['create', async (i) => made.push((await createGroup(ctx, { name: `profile ${i}`, parentId: pick(parents) })).id)],
        ['move', (i) => updateGroup(ctx, made[i], { parentId: pick(parents) })],
        ['add member', (i) => addGroupMember(ctx, made[i], users[i])],
        ['remove member', (i) => removeGroupMember(ctx, made[i], users[i])],
      ];
      console.log(`\n## ${size}: ${groups} groups (median of ${count}; statement: median ms, share of the write's median)\n`);
      for (const [write, run] of writes) {
        const walls: number[] = [];
        const statements = new Map<string, number[]>();
        let sent = 0;
        for (let i = 0; i < count; i += 1) {
          const seen: [string, number][] = [];
          db.statements.trace = (sql, ms) => seen.push([sql.replace(/\s+/g, ' ').slice(0, 110), ms]);
          const started = performance.now();
          await run(i);
          walls.push(performance.now() - started);
          db.statements.trace = null;
          sent = seen.length;
          for (const [sql, ms] of seen) statements.set(sql, [...(statements.get(sql) ?? []), ms]);
        }
        const wall = percentile(walls, 50);
        console.log(`${write}: median ${wall.toFixed(2)} ms, p95 ${percentile(walls, 95).toFixed(2)} ms, ${sent} statements`);
        const rowsOut = [...statements].map(([sql, ms]) => [sql, percentile(ms, 50)] as const).sort((a, b) => b[1] - a[1]);
        for (const [sql, ms] of rowsOut) console.log(`  ${ms.toFixed(2).padStart(6)} ms ${((100 * ms) / wall).toFixed(0).padStart(3)}%  ${sql}`);
      }
    }
  } finally {
    await db.close();
    if (!values.keep) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
});
