// A workspace's counts of groups and users: the part folded into its row in tenants plus the sum of
// the deltas the count triggers inserted since (the count_deltas migration; src/db/count-deltas.ts
// folds them). One statement, so one snapshot: a fold in between cannot count a delta twice or not at all.
import { Prisma } from '../generated/prisma/client';
import type { Db, Tx } from './context';
import { NotFoundError } from './errors';

export interface WorkspaceCounts {
  groups: number;
  users: number;
}

/**
 * A workspace's kept count of `kind` as SQL, for a statement that reads the workspace's row in
 * tenants as `tenant`: the folded part plus the sum of its deltas.
 */
export const keptCountSql = (tenant: Prisma.Sql, kind: keyof WorkspaceCounts): Prisma.Sql => {
  const folded = Prisma.raw(kind === 'groups' ? 'group_count' : 'user_count');
  return Prisma.sql`(${tenant}.${folded} + coalesce((SELECT sum(d.${Prisma.raw(kind)}) FROM tenant_count_deltas d WHERE d.tenant_id = ${tenant}.id), 0))::int`;
};

export async function workspaceCounts(db: Db | Tx, tenantId: number): Promise<WorkspaceCounts> {
  const t = Prisma.sql`t`;
  const [counts] = await db.$queryRaw<WorkspaceCounts[]>`
    SELECT ${keptCountSql(t, 'groups')} AS groups, ${keptCountSql(t, 'users')} AS users FROM tenants t WHERE t.id = ${tenantId}::int`;
  if (!counts) throw new NotFoundError('Workspace', String(tenantId));
  return counts;
}
