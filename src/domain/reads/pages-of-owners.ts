// The one batched page query: the same page (window) of a list for each of many owners (a group's
// children, a user's groups…) in one statement, whatever the number of owners. Each owner's page
// is a LATERAL subquery bounded, ordered and limited by the window (src/domain/pages.ts), so it
// reads its own rows through an index however long the list. The statement returns links
// (owner, item id, key); the rows come in one more statement, through the Prisma client. A window
// with an `orderBy` other than by id sorts each page by the items' `sortable` value, then id.
import { Prisma } from '../../generated/prisma/client';
import type { DomainContext } from '../context';
import { type Key, type Page, type SortableSql, type Window, compareKeys, mapPage, pageOf, sortValueOf, sortValueText, windowSql } from '../pages';

/** The owners whose pages are read, one row each in `from`. */
export interface Owners {
  /** In the order the pages are returned. */
  ids: readonly number[];
  from: Prisma.Sql;
  /** The owner's id, a column of `from`. */
  id: Prisma.Sql;
  /** Which rows of `from` are owners asked for, if `from` holds others. */
  where?: Prisma.Sql;
}

/** The ids asked for themselves as owners: `k.id`. */
export const ownerIds = (ids: readonly number[]): Owners => ({ ids, from: Prisma.sql`unnest(${[...ids]}::int[]) AS k(id)`, id: Prisma.sql`k.id` });

/** How an owner's items are found: the rows of `from` that match `where`, which names the owner's columns. */
export interface OwnedItems {
  from: Prisma.Sql;
  where: Prisma.Sql;
  /** The item's id. */
  id: Prisma.Sql;
  /** The list's order when it is not the id (a path: tree order). */
  key?: Prisma.Sql;
  /** Each item once, where `from` reaches one more than once. */
  distinct?: boolean;
  /** What the items can be sorted by besides their id (GraphQL `orderBy`). */
  sortable?: SortableSql;
}

export interface PageQuery {
  /** Common table expressions (`name AS (…)`, comma-separated) that `owners` and `items` may read: computed once per statement. */
  with?: Prisma.Sql;
  owners: Owners;
  /** One way to find an owner's items, or several (UNION ALL) of which each owner takes exactly one. */
  items: readonly OwnedItems[];
}

type Link = { ownerId: number; id: number; key: number | number[]; value: string | null };

function linksSql(owners: Owners, items: OwnedItems, window: Window<Key>): Prisma.Sql {
  const value = sortValueOf(window.order, items.sortable);
  const { bounds, order, limit } = windowSql(items.key ?? items.id, window, value);
  const distinct = items.distinct ? Prisma.sql`DISTINCT ` : Prisma.empty;
  return Prisma.sql`
    SELECT ${owners.id} AS "ownerId", p.id, ${items.key ? Prisma.sql`p.key` : Prisma.sql`p.id`} AS key,
      ${sortValueText(window.order, Prisma.sql`p.value`)} AS value
    FROM ${owners.from}
    CROSS JOIN LATERAL (
      SELECT ${distinct}${items.id} AS id${items.key ? Prisma.sql`, ${items.key} AS key` : Prisma.empty}${value ? Prisma.sql`, ${value} AS value` : Prisma.empty}
      FROM ${items.from}
      WHERE ${items.where} AND ${bounds}
      ORDER BY ${order} LIMIT ${limit}
    ) p${owners.where ? Prisma.sql`
    WHERE ${owners.where}` : Prisma.empty}`;
}

/**
 * For each owner, its page of the window: one statement for the links, then `rowsOf` for the
 * rows (an item whose row is gone meanwhile is left out).
 */
export async function pagesOfOwners<K extends Key, T>(
  ctx: DomainContext,
  query: PageQuery,
  window: Window<K>,
  rowsOf: (ids: number[]) => Promise<Map<number, T>>,
): Promise<Page<T>[]> {
  const union = Prisma.join(query.items.map((items) => linksSql(query.owners, items, window)), ' UNION ALL ');
  const links = await ctx.db.$queryRaw<Link[]>(query.with ? Prisma.sql`WITH ${query.with} ${union}` : union);
  const rows = await rowsOf(links.map((link) => link.id));
  const { ids } = query.owners;
  const byOwner = new Map<number, Link[]>(ids.map((id) => [id, []]));
  for (const link of links) byOwner.get(link.ownerId)?.push(link);
  const keyOf = (link: Link): Key => (link.value === null ? link.key : { value: link.value, id: link.id });
  const direction = (window.backwards ? -1 : 1) * (window.order.direction === 'DESC' ? -1 : 1);
  return ids.map((id) => {
    const owned = byOwner.get(id)!.sort((a, b) => direction * compareKeys(keyOf(a), keyOf(b)));
    return mapPage(pageOf(owned, window, keyOf), (link) => rows.get(link.id));
  });
}
