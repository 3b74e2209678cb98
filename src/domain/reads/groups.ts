// The tree read a page at a time for the GraphQL loaders: each group's children, and each group's
// descendants in tree order. One statement for the links of every group asked (pages-of-owners.ts),
// one for the rows.
import { Prisma } from '../../generated/prisma/client';
import type { Group } from '../../generated/prisma/client';
import type { DomainContext } from '../context';
import type { Page, Window } from '../pages';
import { rowsById } from '../rows';
import { visibleSql } from '../visibility';
import { ownerIds, pagesOfOwners } from './pages-of-owners';

/** Loads group rows by id for pagesOfOwners (each distinct id once). */
export const groupRows = (ctx: DomainContext) => (ids: number[]) =>
  rowsById(ids, (distinct) => ctx.db.group.findMany({ where: { tenantId: ctx.tenantId, id: { in: distinct } } }));

/** A page of each group's children, by id. */
export function childrenPages(ctx: DomainContext, ids: readonly number[], window: Window<number>): Promise<Page<Group>[]> {
  const items = {
    from: Prisma.sql`groups g`,
    id: Prisma.sql`g.id`,
    where: Prisma.sql`g.tenant_id = ${ctx.tenantId}::int AND g.parent_group_id = k.id AND ${visibleSql(ctx, 'g')}`,
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
