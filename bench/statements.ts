// Benchmark: SQL statements and latency of the N+1 query on a page of 5 groups and of 100.
//   npm run bench:statements                      # embedded PGlite in a temporary directory
//   DATABASE_URL=postgres://…/kauth_bench npm run bench:statements   # a scratch PostgreSQL database (a fresh workspace in it)
import { OPERATOR, createApiKey } from '../src/domain/apikeys';
import { createGroup } from '../src/domain/groups';
import { addGroupMember } from '../src/domain/members';
import { createRole, setGroupRole } from '../src/domain/roles';
import { createUser } from '../src/domain/users';
import { buildApp } from '../src/http/app';
import { openBenchWorkspace, runBench } from './support';

const GROUPS = 200;
const RUNS = 30;
const QUERY = (first: number) =>
  `{ groups(first: ${first}) { nodes { parent { id name } children(first: 10) { nodes { id } } ancestors { id } members(first: 10) { nodes { id } } effectiveRoles { id } } } }`;

async function main() {
  const bench = await openBenchWorkspace();
  const { config, db, limits, ctx } = bench;
  const roles = await Promise.all([0, 1, 2, 3].map((i) => createRole(ctx, { name: `role-${i}` })));
  const users = [];
  for (let i = 0; i < 20; i += 1) users.push(await createUser(ctx, { email: `u${i}@bench.example` }));
  let parent: number | null = null;
  for (let i = 0; i < GROUPS; i += 1) {
    const group = await createGroup(ctx, { name: `g${i}`, parentId: i % 5 === 0 ? null : parent });
    parent = group.id;
    await addGroupMember(ctx, group.id, users[i % users.length].id);
    if (i % 3 === 0) await setGroupRole(ctx, group.id, roles[i % roles.length].id, true);
  }
  const { key } = await createApiKey(ctx, OPERATOR, { name: 'bench', scopes: ['groups:read', 'roles:read'] });
  const app = await buildApp({ db: db.prisma, maxGroupDepth: limits.maxGroupDepth, jwt: null });
  const run = async (limit: number) => {
    const before = db.statements.total;
    const started = process.hrtime.bigint();
    const res = await app.inject({ method: 'POST', url: '/graphql', headers: { authorization: `Bearer ${key}` }, payload: { query: QUERY(limit) } });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (res.statusCode !== 200 || res.json().errors) throw new Error(res.body);
    return { statements: db.statements.total - before, ms };
  };
  await run(5); // warm-up (also records the key's first use)
  await app.settled();
  console.log(`backend: ${config.kind}; ${GROUPS} groups; ${RUNS} runs per page size; in-process HTTP (inject)`);
  for (const limit of [5, 100]) {
    const results = [];
    for (let i = 0; i < RUNS; i += 1) results.push(await run(limit));
    const times = results.map((r) => r.ms).sort((a, b) => a - b);
    const statements = [...new Set(results.map((r) => r.statements))].join('/');
    console.log(
      `first ${String(limit).padStart(3)}: statements ${statements}; p50 ${times[Math.floor(RUNS / 2)].toFixed(1)} ms; p95 ${times[Math.floor(RUNS * 0.95)].toFixed(1)} ms`,
    );
  }
  await app.close();
  await bench.close();
}

runBench(main);
