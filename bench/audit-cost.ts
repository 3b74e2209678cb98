// What auditing costs a write: statements and time per write, for the kinds of write the service
// makes most. Run it here and in a checkout from before the audit trail (the same script works
// there: it uses only domain functions both have) to compare audited with unaudited writes.
//
//   npx tsx bench/audit-cost.ts                                               # PGlite
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/kauth_bench npx tsx bench/audit-cost.ts
import { createGroup, updateGroup } from '../src/domain/groups';
import { addGroupMember, removeGroupMember, setGroupMembers } from '../src/domain/members';
import { createUser } from '../src/domain/users';
import { openBenchWorkspace, percentile, runBench } from './support';

const RUNS = Number(process.env.RUNS ?? 300);


runBench(async () => {
  const bench = await openBenchWorkspace();
  const { ctx, db } = bench;
  try {
    const parent = await createGroup(ctx, { name: 'parent' });
    const group = await createGroup(ctx, { name: 'target', parentId: parent.id });
    const users = [];
    for (let i = 0; i < 6; i += 1) users.push(await createUser(ctx, { email: `u${i}-${Date.now()}@example.com` }));
    const [u0, u1, u2, u3, u4, u5] = users.map((u) => u.id);
    let n = 0;
    const writes: [string, () => Promise<unknown>][] = [
      ['createGroup', () => createGroup(ctx, { name: `g${(n += 1)}`, parentId: parent.id })],
      ['updateGroup (rename)', () => updateGroup(ctx, group.id, { name: `renamed ${(n += 1)}` })],
      ['addGroupMember', () => addGroupMember(ctx, group.id, u0)],
      ['removeGroupMember', () => removeGroupMember(ctx, group.id, u0)],
      ['setGroupMembers (3 → 3, 2 changes)', () => setGroupMembers(ctx, group.id, (n += 1) % 2 ? [u1, u2, u3] : [u1, u4, u5])],
    ];
    console.log(`backend: ${bench.config.kind}, ${RUNS} runs per write (after 20 warm-up runs)`);
    console.log('| write | statements | p50 ms | p95 ms |');
    console.log('| --- | --- | --- | --- |');
    for (const [name, write] of writes) {
      // add and remove alternate so that every add and every remove changes something
      const pair = name === 'addGroupMember' ? writes[3][1] : name === 'removeGroupMember' ? writes[2][1] : null;
      for (let i = 0; i < 20; i += 1) {
        if (pair && name === 'removeGroupMember') await pair();
        await write();
        if (pair && name === 'addGroupMember') await pair();
      }
      const times: number[] = [];
      let statements = 0;
      for (let i = 0; i < RUNS; i += 1) {
        if (pair && name === 'removeGroupMember') await pair();
        const before = db.statements.total;
        const started = performance.now();
        await write();
        times.push(performance.now() - started);
        statements += db.statements.total - before;
        if (pair && name === 'addGroupMember') await pair();
      }
      console.log(`| ${name} | ${statements / RUNS} | ${percentile(times, 50).toFixed(2)} | ${percentile(times, 95).toFixed(2)} |`);
    }

    // Concurrent writers of one workspace: each adds and removes a member of its own group, so
    // nothing but the workspace's event numbering (and the tree lock, shared) is in common.
    const writers = Number(process.env.WRITERS ?? 8);
    const groups = [];
    for (let i = 0; i < writers; i += 1) groups.push(await createGroup(ctx, { name: `w${i}` }));
    const perWriter = Math.max(10, Math.floor(RUNS / 2));
    const started = performance.now();
    await Promise.all(
      groups.map(async (g) => {
        for (let i = 0; i < perWriter; i += 1) {
          await addGroupMember(ctx, g.id, u0);
          await removeGroupMember(ctx, g.id, u0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(`\n${writers} writers in parallel, ${writers * perWriter * 2} member writes: ${((writers * perWriter * 2) / seconds).toFixed(0)} writes/s`);
  } finally {
    await bench.close();
  }
});
