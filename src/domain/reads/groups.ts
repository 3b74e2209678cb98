// The tree's reads: groups by id, the workspace's groups listed and counted, and, a page at a time
// for the GraphQL loaders, each group's children and descendants in tree order (one statement for
// the links of every group asked, pages-of-owners.ts, one for the rows).
import { readerOf, selectColumns } from '../../db/reader';
import { Prisma } from '../../generated/prisma/client';
import type { Group } from '../../generated/prisma/client';
import type { DomainContext } from '../context';
import { workspaceCounts } from '../counts';
import { ValidationError } from '../errors';
import { ID_ORDER, type Page, type SortKey, type SortableSql, type Window, idPage } from '../pages';
import { rowsById } from '../rows';
import { type PageArgs, containsText, searchPattern } from '../validate';
import { visibilityFilter, visibleSql } from '../visibility';
import { ownerIds, pagesOfOwners } from './pages-of-owners';

/** Loads group rows by id for pagesOfOwners (each distinct id once). */
export const groupRows = (ctx: DomainContext) => (ids: number[]) =>
  rowsById(ids, (distinct) => ctx.db.group.findMany({ where: { tenantId: ctx.tenantId, id: { in: distinct } } }));

/** What groups (alias `g`) sort by: the expressions of the sorting migration's indexes. */
export const GROUP_SORTABLE: SortableSql = { NAME: Prisma.sql`lower(g.name) COLLATE "C"`, CREATED_AT: Prisma.sql`g.created_at` };

/** A page of each group's children, by id or in the window's order. */
export function childrenPages(ctx: DomainContext, ids: readonly number[], window: Window<number | SortKey>): Promise<Page<Group>[]> {
  const items = {
    from: Prisma.sql`groups g`,
    id: Prisma.sql`g.id`,
    where: Prisma.sql`g.tenant_id = ${ctx.tenantId}::int AND g.parent_group_id = k.id AND ${visibleSql(ctx, 'g')}`,
    sortable: GROUP_SORTABLE,
  };
  return pagesOfOwners(ctx, { owners: ownerIds(ids), items: [items] }, window, groupRows(ctx));
}

/**
 * A page of every group below each group, in tree order (by path: depth first, siblings by id).
 * The subtree of a group with path P is the range P < path < P with its last id + 1 of the
 * (tenant_id, path) index, so a page reads only its own rows, however big the subtree.
 */
export function descendantPages(ctx: DomainContext, ids: readonly number[], window: Window<readonly number[]>): Promise<Page<Group>[]> {
  const owners = {
    ids,
    from: Prisma.sql`groups o`,
    id: Prisma.sql`o.id`,
    where: Prisma.sql`o.tenant_id = ${ctx.tenantId}::int AND o.id = ANY(${[...ids]}::int[]) AND ${visibleSql(ctx, 'o')}`,
  };
  const items = {
    from: Prisma.sql`groups g`,
    id: Prisma.sql`g.id`,
    key: Prisma.sql`g.path`,
    where: Prisma.sql`g.tenant_id = o.tenant_id AND g.path > o.path
      AND g.path < o.path[1:cardinality(o.path) - 1] || (o.path[cardinality(o.path)] + 1)`,
  };
  return pagesOfOwners(ctx, { owners, items: [items] }, window, groupRows(ctx));
}

/**
 * Groups by id in the order asked; null where unknown, of another tenant, or not visible.
 * `ignoreVisibility` is for authorization checks that must see the whole tree.
 */
export async function groupsByIds(
  ctx: DomainContext,
  ids: readonly number[],
  options: { ignoreVisibility?: boolean } = {},
): Promise<(Group | null)[]> {
  const roots = options.ignoreVisibility ? null : ctx.access.visibleRoots;
  const reader = readerOf(ctx.db);
  const rows = reader
    ? await reader.query<Group>(
        `SELECT ${GROUP_COLUMNS} FROM groups g WHERE g.tenant_id = $1 AND g.id = ANY($2::int[])${roots ? ' AND g.path && $3::int[]' : ''}`,
        roots ? [ctx.tenantId, ids, roots] : [ctx.tenantId, ids],
      )
    : await ctx.db.group.findMany({ where: { tenantId: ctx.tenantId, id: { in: [...ids] }, ...(roots ? visibilityFilter(ctx) : {}) } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** Every column of a group row, as the Prisma client names them (for the reads below Prisma). */
const GROUP_COLUMNS = selectColumns('g', Prisma.GroupScalarFieldEnum);

export interface GroupListFilter {
  parentId?: number | null;
  rootsOnly?: boolean;
  search?: string | null;
}

function listWhere(ctx: DomainContext, filter: GroupListFilter): Prisma.GroupWhereInput {
  if (filter.rootsOnly && filter.parentId != null) {
    throw new ValidationError('rootsOnly', 'rootsOnly and parentId cannot be combined');
  }
  const search = searchPattern(filter.search);
  return {
    tenantId: ctx.tenantId,
    ...(filter.rootsOnly ? { parentGroupId: null } : {}),
    ...(filter.parentId != null ? { parentGroupId: filter.parentId } : {}),
    ...(search ? { name: containsText(search) } : {}),
    ...visibilityFilter(ctx),
  };
}

/**
 * Where a scan of the workspace's groups in id order starts: above its group id floor (the groups
 * sequence's value when it was made, so below all its groups), in the same statement. Read by the
 * primary key with `tenant_id` as a filter, such a scan would otherwise first read and throw away
 * every row of the workspaces made before it: the planner takes a workspace holding most of the
 * table to be spread evenly through it (BENCHMARKS.md, "A million groups": 101,000 rows, 114 ms, for
 * a page of 100 of a 1,000,000-group workspace created after a 100,000-group one).
 */
const aboveIdFloor = (ctx: DomainContext): Prisma.GroupWhereInput => ({ id: { gt: ctx.groupIdFloor ?? 0 } });

/** An offset page of groups by id (REST): its cost grows with the offset, not with the workspace. */
export async function listGroups(ctx: DomainContext, filter: GroupListFilter & PageArgs): Promise<{ nodes: Group[]; total: number }> {
  const where = { AND: [listWhere(ctx, filter), aboveIdFloor(ctx)] };
  const [nodes, total] = await Promise.all([
    ctx.db.group.findMany({ where, orderBy: { id: 'asc' }, skip: filter.offset, take: filter.limit }),
    countGroups(ctx, filter),
  ]);
  return { nodes, total };
}

/** The same filter as listWhere, as SQL over `g`. */
function listSql(ctx: DomainContext, filter: GroupListFilter): Prisma.Sql {
  listWhere(ctx, filter); // the same checks
  const search = searchPattern(filter.search);
  return Prisma.join(
    [
      filter.rootsOnly ? Prisma.sql`g.parent_group_id IS NULL` : Prisma.sql`TRUE`,
      filter.parentId != null ? Prisma.sql`g.parent_group_id = ${filter.parentId}::int` : Prisma.sql`TRUE`,
      search ? Prisma.sql`g.name ILIKE ${`%${containsText(search).contains}%`}` : Prisma.sql`TRUE`,
      visibleSql(ctx, 'g'),
    ],
    ' AND ',
  );
}

/** A keyset page of groups (GraphQL `groups`), by id or in the window's order. */
export async function groupPage(ctx: DomainContext, window: Window<number | SortKey>, filter: GroupListFilter): Promise<Page<Group>> {
  if (window.order === ID_ORDER) {
    const where = listWhere(ctx, filter);
    return idPage(window as Window<number>, (args) => ctx.db.group.findMany({ ...args, where: { AND: [where, aboveIdFloor(ctx), args.where] } }));
  }
  // The workspace as the one owner of the list: the same page query as a group's children.
  const items = { from: Prisma.sql`groups g`, id: Prisma.sql`g.id`, where: Prisma.sql`g.tenant_id = k.id AND ${listSql(ctx, filter)}`, sortable: GROUP_SORTABLE };
  const [page] = await pagesOfOwners(ctx, { owners: ownerIds([ctx.tenantId]), items: [items] }, window, groupRows(ctx));
  return page;
}

/**
 * How many groups a list holds, from the counts the writes keep (see the scale migration): the
 * workspace's (src/domain/counts.ts), a parent's children, or the subtrees a restricted credential
 * sees. Only a name search, and the roots, are counted by reading (the roots alone, through an index).
 */
export async function countGroups(ctx: DomainContext, filter: GroupListFilter): Promise<number> {
  const where = listWhere(ctx, filter);
  const roots = ctx.access.visibleRoots;
  if (searchPattern(filter.search) || filter.rootsOnly) return ctx.db.group.count({ where });
  if (filter.parentId != null) {
    const [parent] = await groupsByIds(ctx, [filter.parentId]);
    // A parent the credential cannot see may still hold visible groups (the roots of its subtrees).
    return parent ? parent.childCount : ctx.db.group.count({ where });
  }
  if (roots === null) {
    return (await workspaceCounts(ctx.db, ctx.tenantId)).groups;
  }
  const tops = await ctx.db.group.findMany({ where: { tenantId: ctx.tenantId, id: { in: [...roots] } }, select: { id: true, path: true, subtreeSize: true } });
  const ids = new Set(tops.map((top) => top.id));
  // A subtree inside another one the credential sees is counted with it.
  return tops.filter((top) => !top.path.slice(0, -1).some((id) => ids.has(id))).reduce((sum, top) => sum + top.subtreeSize, 0);
}
