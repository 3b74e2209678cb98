// `kauth doctor`: recomputes every group's path from the parent links alone and reports each
// group whose stored path disagrees, or whose parent links cannot give it one (like GitLab's
// traversal_ids consistency check), each group whose id is not above its workspace's group id
// floor (where scans in id order start, so such a group would be left out of the workspace's lists),
// each workspace whose kept counts of groups and users disagree with its rows, and each workspace
// with a user whose id is not above its user id floor. Reads only; each check one statement, so it
// sees one snapshot.
import { Prisma } from '../generated/prisma/client';
import type { Db } from './context';
import { keptCountSql } from './counts';
import { NotFoundError } from './errors';

/**
 * One disagreement. `expected` is what the parent links say, `actual` what is stored:
 * - path_mismatch: the path root..self from the parent links · the stored path
 * - depth_mismatch: the depth from the parent links · the stored path's depth
 * - dangling_parent: null · the parent id, which names no group
 * - cross_tenant_parent: the group's tenant slug · the parent's tenant slug
 * - cycle: null · the ids met going up from the group until it comes back to itself
 * - broken_ancestor: null · the ancestor with a dangling, cross-tenant or cyclic link
 * - id_below_floor: the workspace's group id floor, which every id must be above · the group's id
 */
export type TreeFinding = { tenant: string; groupId: number; parentGroupId: number | null } & (
  | { kind: 'path_mismatch'; expected: number[]; actual: number[] }
  | { kind: 'depth_mismatch'; expected: number; actual: number }
  | { kind: 'dangling_parent'; expected: null; actual: number }
  | { kind: 'cross_tenant_parent'; expected: string; actual: string }
  | { kind: 'cycle'; expected: null; actual: number[] }
  | { kind: 'broken_ancestor'; expected: null; actual: number }
  | { kind: 'id_below_floor'; expected: number; actual: number }
);

interface WalkRow {
  groupId: number;
  tenant: string;
  parentGroupId: number | null;
  parentTenant: string | null;
  path: number[];
  /** The workspace's group id floor. */
  idFloor: number;
  /** The ids met walking up the parent links, topmost first, the group itself last. */
  chain: number[];
  /** The walk stopped on an id it had already met. */
  looped: boolean;
  /** The walk stopped on a parent of another tenant (chain[0]). */
  crossed: boolean;
  /** The walk stopped on a parent id that names no group. */
  dangling: boolean;
}

/** Every disagreement in one workspace's tree (`slug`), or in every workspace's. */
export async function checkTree(db: Db, options: { slug?: string } = {}): Promise<TreeFinding[]> {
  const slug = options.slug ?? null;
  if (slug !== null && !(await db.tenant.findUnique({ where: { slug }, select: { id: true } }))) {
    throw new NotFoundError('Workspace', slug);
  }
  // Walks up from every group, one parent per step, stopping at a root, a missing parent, a
  // parent of another tenant, or an id already met; keeps each walk's last step where it went wrong.
  const rows = await db.$queryRaw<WalkRow[]>`
    WITH RECURSIVE up AS (
      SELECT g.id AS group_id, g.tenant_id, g.parent_group_id AS next_id, ARRAY[g.id] AS chain,
             false AS looped, false AS crossed
      FROM groups g JOIN tenants t ON t.id = g.tenant_id
      WHERE ${slug}::text IS NULL OR t.slug = ${slug}::text
      UNION ALL
      SELECT u.group_id, u.tenant_id, p.parent_group_id, p.id || u.chain,
             p.id = ANY(u.chain), p.tenant_id <> u.tenant_id
      FROM up u JOIN groups p ON p.id = u.next_id
      WHERE NOT u.looped AND NOT u.crossed
    ),
    walked AS (
      SELECT DISTINCT ON (group_id) * FROM up ORDER BY group_id, cardinality(chain) DESC
    )
    SELECT g.id AS "groupId", t.slug AS tenant, g.parent_group_id AS "parentGroupId", pt.slug AS "parentTenant",
           g.path, t.group_id_floor AS "idFloor", w.chain, w.looped, w.crossed,
           (w.next_id IS NOT NULL AND NOT w.looped AND NOT w.crossed) AS dangling
    FROM walked w
    JOIN groups g ON g.id = w.group_id
    JOIN tenants t ON t.id = g.tenant_id
    LEFT JOIN groups p ON p.id = g.parent_group_id
    LEFT JOIN tenants pt ON pt.id = p.tenant_id
    WHERE w.looped OR w.crossed OR w.next_id IS NOT NULL OR w.chain <> g.path OR g.id <= t.group_id_floor
    ORDER BY t.slug, g.id`;
  return rows.flatMap((row) => [...linkFindingsOf(row), ...floorFindingsOf(row)]);
}

function floorFindingsOf(row: WalkRow): TreeFinding[] {
  const { groupId, tenant, parentGroupId, idFloor } = row;
  return groupId > idFloor ? [] : [{ tenant, groupId, parentGroupId, kind: 'id_below_floor', expected: idFloor, actual: groupId }];
}

const sameIds = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((id, i) => id === b[i]);

function linkFindingsOf(row: WalkRow): TreeFinding[] {
  const { groupId, tenant, parentGroupId, chain } = row;
  const at = { tenant, groupId, parentGroupId };
  if (row.looped) {
    // chain[0] is the id met twice; the walk went round a cycle through the group or above it.
    if (chain[0] !== groupId) return [{ ...at, kind: 'broken_ancestor', expected: null, actual: chain[0] }];
    return [{ ...at, kind: 'cycle', expected: null, actual: [...chain].reverse().slice(0, -1) }];
  }
  if (row.crossed) {
    // chain[0] is the other tenant's group; chain[1] the group that names it as parent.
    if (chain[1] !== groupId) return [{ ...at, kind: 'broken_ancestor', expected: null, actual: chain[1] }];
    return [{ ...at, kind: 'cross_tenant_parent', expected: tenant, actual: row.parentTenant! }];
  }
  if (row.dangling) {
    if (chain[0] !== groupId) return [{ ...at, kind: 'broken_ancestor', expected: null, actual: chain[0] }];
    return [{ ...at, kind: 'dangling_parent', expected: null, actual: parentGroupId! }];
  }
  if (sameIds(chain, row.path)) return [];
  const findings: TreeFinding[] = [{ ...at, kind: 'path_mismatch', expected: chain, actual: row.path }];
  if (chain.length !== row.path.length) {
    findings.push({ ...at, kind: 'depth_mismatch', expected: chain.length - 1, actual: row.path.length - 1 });
  }
  return findings;
}

/**
 * A workspace whose kept count (folded in tenants plus its deltas, src/domain/counts.ts) is not the
 * number of its rows: `expected` is count(*), `actual` the kept count; or (`user_id_below_floor`)
 * one with a user whose id is not above its user id floor: `expected` the floor, `actual` the
 * lowest such id (such a user would be left out of the workspace's lists in id order).
 */
export interface CountFinding {
  tenant: string;
  kind: 'group_count_mismatch' | 'user_count_mismatch' | 'user_id_below_floor';
  expected: number;
  actual: number;
}

/** Every workspace (or `slug`'s) whose kept counts disagree with its rows; one statement, one snapshot. */
export async function checkCounts(db: Db, options: { slug?: string } = {}): Promise<CountFinding[]> {
  const slug = options.slug ?? null;
  const t = Prisma.sql`t`;
  const rows = await db.$queryRaw<{ tenant: string; keptGroups: number; groups: number; keptUsers: number; users: number; userFloor: number; lowUser: number | null }[]>`
    SELECT t.slug AS tenant, t.user_id_floor AS "userFloor",
           (SELECT min(u.id) FROM users u WHERE u.tenant_id = t.id AND u.id <= t.user_id_floor) AS "lowUser",
           ${keptCountSql(t, 'groups')} AS "keptGroups", (SELECT count(*)::int FROM groups g WHERE g.tenant_id = t.id) AS groups,
           ${keptCountSql(t, 'users')} AS "keptUsers", (SELECT count(*)::int FROM users u WHERE u.tenant_id = t.id) AS users
    FROM tenants t
    WHERE ${slug}::text IS NULL OR t.slug = ${slug}::text
    ORDER BY t.slug`;
  return rows.flatMap((row): CountFinding[] => [
    ...(row.keptGroups === row.groups ? [] : [{ tenant: row.tenant, kind: 'group_count_mismatch' as const, expected: row.groups, actual: row.keptGroups }]),
    ...(row.keptUsers === row.users ? [] : [{ tenant: row.tenant, kind: 'user_count_mismatch' as const, expected: row.users, actual: row.keptUsers }]),
    ...(row.lowUser === null ? [] : [{ tenant: row.tenant, kind: 'user_id_below_floor' as const, expected: row.userFloor, actual: row.lowUser }]),
  ]);
}
