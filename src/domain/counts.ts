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

export async function workspaceCounts(db: Db | Tx, tenantId: number): Promise<WorkspaceCounts> {
  const [counts] = await db.$queryRaw<WorkspaceCounts[]>`
    SELECT t.group_count + coalesce(sum(d.groups), 0)::int AS groups, t.user_count + coalesce(sum(d.users), 0)::int AS users
    FROM tenants t LEFT JOIN tenant_count_deltas d ON d.tenant_id = t.id
    WHERE t.id = ${tenantId}::int
    GROUP BY t.id`;
  if (!counts) throw new NotFoundError('Workspace', String(tenantId));
  return counts;
}

/** The same count of groups as SQL, for a statement that reads the workspace's row as `tenant`. */
export const groupCountSql = (tenant: Prisma.Sql): Prisma.Sql =>
  Prisma.sql`(${tenant}.group_count + coalesce((SELECT sum(d.groups) FROM tenant_count_deltas d WHERE d.tenant_id = ${tenant}.id), 0))`;
