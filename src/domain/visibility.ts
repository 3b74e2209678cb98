// Which groups a credential sees: every group of the workspace, or those inside the subtrees its
// scopes are restricted to (`visibleRoots`), as a Prisma filter and as SQL.
import { Prisma } from '../generated/prisma/client';
import type { DomainContext } from './context';

export function visibilityFilter(ctx: DomainContext): Prisma.GroupWhereInput {
  const roots = ctx.access.visibleRoots;
  return roots === null ? {} : { OR: roots.map((root) => ({ path: { has: root } })) };
}

/** The same filter as SQL over a groups alias. */
export function visibleSql(ctx: DomainContext, alias: string): Prisma.Sql {
  const roots = ctx.access.visibleRoots;
  return roots === null ? Prisma.sql`TRUE` : Prisma.sql`${Prisma.raw(alias)}.path && ${[...roots]}::int[]`;
}
