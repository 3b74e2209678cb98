// After a test that changes trees: every group's stored path still agrees with its parent links.
import { checkTree } from '../../src/domain/doctor';
import type { Harness } from './harness';

/**
 * Runs the `kauth doctor` check over every workspace of the harness's database and fails with
 * its findings. On PostgreSQL that database is shared by the whole run, so a finding may name a
 * workspace of another suite: it is a broken tree all the same.
 */
export async function expectTreeConsistent(h: Harness): Promise<void> {
  const findings = await checkTree(h.db.prisma);
  if (findings.length > 0) {
    throw new Error(`the group tree disagrees with its parent links (${findings.length} findings):\n${JSON.stringify(findings, null, 2)}`);
  }
}
