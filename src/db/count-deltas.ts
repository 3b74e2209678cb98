// Folding the workspaces' count deltas (the count_deltas migration) into their rows in tenants: one
// statement, so a reader in any snapshot sees a delta either as a row of tenant_count_deltas or
// inside tenants.group_count/user_count, never both and never neither. Run by the statistics
// keeper's round (src/db/analyze.ts) in every process, whoever keeps the statistics, and after an import.
import type { RawSql } from './raw';

/**
 * The deltas are locked in id order before they are deleted, so two folds at once (two server
 * processes) never deadlock: the second waits for the first, then finds the rows it folded gone
 * and folds only what is left. Each workspace's row is rewritten once per fold, not once per write.
 */
const FOLD = `
  WITH d AS (
    DELETE FROM tenant_count_deltas
    WHERE id IN (SELECT id FROM tenant_count_deltas WHERE $1::int IS NULL OR tenant_id = $1::int ORDER BY id FOR UPDATE)
    RETURNING tenant_id, groups, users
  )
  UPDATE tenants t SET group_count = t.group_count + s.groups, user_count = t.user_count + s.users
  FROM (SELECT tenant_id, sum(groups)::int AS groups, sum(users)::int AS users FROM d GROUP BY tenant_id) s
  WHERE t.id = s.tenant_id
  RETURNING t.id`;

/** Folds the deltas of one workspace, or (null) of all; returns how many workspaces it folded. */
export async function foldCountDeltas(raw: Pick<RawSql, 'query'>, tenantId: number | null = null): Promise<number> {
  return (await raw.query<{ id: number }>(FOLD, [tenantId])).length;
}
