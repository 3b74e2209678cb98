// After a test that changes trees: every group's stored path still agrees with its parent links.
import { checkTree } from '../../src/domain/doctor';
import type { Harness } from './harness';

/**
 * Runs the `kauth doctor` check and fails with its findings. `since`: only workspaces with a
 * larger id (those made after it was read); on PostgreSQL the database is shared by the whole
 * run, and another suite's broken tree is that suite's failure.
 */
export async function expectTreeConsistent(h: Harness, since = 0): Promise<void> {
  const recent = await h.db.prisma.tenant.findMany({ where: { id: { gt: since } }, select: { slug: true } });
  const findings = [];
  for (const { slug } of recent) findings.push(...(await checkTree(h.db.prisma, { slug })));
  if (findings.length > 0) {
    throw new Error(`the group tree disagrees with its parent links (${findings.length} findings):\n${JSON.stringify(findings, null, 2)}`);
  }
}

/** Checks, after each test of the suite, the trees of the workspaces made during the test. */
export function checkTreesAfterEach(h: Harness): void {
  let since = 0;
  beforeEach(async () => {
    since = (await h.db.prisma.tenant.aggregate({ _max: { id: true } }))._max.id ?? 0;
  });
  afterEach(() => expectTreeConsistent(h, since));
}
