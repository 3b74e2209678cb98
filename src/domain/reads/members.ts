// Memberships read for the GraphQL loaders, from both sides: a page of each group's members
// (direct or inherited) and how many there are; a page of each user's groups and how many.
// Deactivated users are members for nothing they would be granted: left out of every read here.
import { Prisma } from '../../generated/prisma/client';
import type { Group, User } from '../../generated/prisma/client';
import type { DomainContext } from '../context';
import type { Page, SortKey, Window } from '../pages';
import { USER_SORTABLE } from '../users';
import { groupByOwner, rowsById } from '../rows';
import { visibleSql } from '../visibility';
import { keptCountSql } from '../counts';
import { groupRows } from './groups';
import { type PageQuery, ownerIds, pagesOfOwners } from './pages-of-owners';

/** How many direct (or, with `inherited`, direct and inherited) members each group has. */
export async function memberCountsOfGroups(ctx: DomainContext, groupIds: readonly number[], inherited: boolean): Promise<number[]> {
  const rows = inherited
    ? await ctx.db.$queryRaw<{ groupId: number; count: number }[]>`
        SELECT k.id AS "groupId", count(DISTINCT gm.user_id)::int AS count
        FROM unnest(${[...groupIds]}::int[]) AS k(id)
        JOIN groups g ON g.tenant_id = ${ctx.tenantId}::int AND g.path @> ARRAY[k.id]
        JOIN group_members gm ON gm.group_id = g.id
        JOIN users u ON u.id = gm.user_id AND u.active
        GROUP BY k.id`
    : await ctx.db.$queryRaw<{ groupId: number; count: number }[]>`
        SELECT gm.group_id AS "groupId", count(*)::int AS count FROM group_members gm
        JOIN users u ON u.id = gm.user_id AND u.active
        WHERE gm.tenant_id = ${ctx.tenantId}::int AND gm.group_id = ANY(${[...groupIds]}::int[])
        GROUP BY gm.group_id`;
  const byGroup = new Map(rows.map((row) => [row.groupId, row.count]));
  return groupIds.map((id) => byGroup.get(id) ?? 0);
}

/**
 * A page of each group's members by user id (or in the window's order, by the user's name or
 * creation time, then id): direct, or with `inherited` every user who is a
 * member of the group or of a group below it, once.
 *
 * Inherited members are found one of two ways, chosen per group (waysSql): a subtree's
 * memberships are read and de-duplicated (when their number is small), or the users are walked in
 * the page's order keeping those with a membership inside it, so a page reads about
 * `size / share` users however many members there are.
 */
export function memberPages(ctx: DomainContext, groupIds: readonly number[], inherited: boolean, window: Window<number | SortKey>): Promise<Page<User>[]> {
  return pagesOfOwners(ctx, (inherited ? inheritedMembers : directMembers)(ctx, groupIds), window, (ids) =>
    rowsById(ids, (distinct) => ctx.db.user.findMany({ where: { tenantId: ctx.tenantId, id: { in: distinct } } })),
  );
}

function directMembers(ctx: DomainContext, groupIds: readonly number[]): PageQuery {
  const items = {
    from: Prisma.sql`group_members gm JOIN users u ON u.id = gm.user_id AND u.active`,
    id: Prisma.sql`gm.user_id`,
    where: Prisma.sql`gm.tenant_id = ${ctx.tenantId}::int AND gm.group_id = k.id`,
    sortable: USER_SORTABLE,
  };
  return { owners: ownerIds(groupIds), items: [items] };
}

/** Inherited members gather the subtree's memberships when it has at most this many groups… */
const WALK_MIN_SUBTREE = 200;
/** …and walk the users when it holds at least 1 / this share of the workspace's groups. */
const WALK_MIN_SHARE = 50;
/** Otherwise a subtree of at least this many groups is decided by a sample (below it, gathered)… */
const SAMPLE_MIN_SUBTREE = 1_000;
/** …of this many users spread evenly over the workspace's user ids… */
const SAMPLE_USERS = 30;
/** …and the users are walked when at least 1 / this share of those are members of the subtree. */
const WALK_MIN_MEMBER_SHARE = 10;

/** `u` is an active user of the workspace (above its user id floor, where its users start). */
const activeUserSql = (ctx: DomainContext): Prisma.Sql => Prisma.sql`u.tenant_id = ${ctx.tenantId}::int AND u.id > ${ctx.userIdFloor ?? 0}::int AND u.active`;

/** `user` is a member of the group `o` or of a group below it. */
const memberBelowSql = (ctx: DomainContext, user: Prisma.Sql): Prisma.Sql => Prisma.sql`EXISTS (
  SELECT 1 FROM group_members gm JOIN groups g ON g.id = gm.group_id
  WHERE gm.tenant_id = ${ctx.tenantId}::int AND gm.user_id = ${user} AND g.path @> ARRAY[o.id])`;

/**
 * `ways (id, walks)`: for each group asked for, whether its inherited members are found by walking
 * the users (true) or by gathering its subtree's memberships (false). A walk reads about
 * `page / share` users, where share is the part of the workspace's users who are members of the
 * subtree, testing each user's memberships; a gather reads every membership of the subtree. The
 * subtree's size in groups settles the plain cases. A subtree of SAMPLE_MIN_SUBTREE groups or more
 * that is a small share of a big workspace (a department of 5,000 groups among 1,000,000, whose
 * members may still be a quarter of the users) is decided by a sample: SAMPLE_USERS users at evenly
 * spaced ids, walked when at least 1 / WALK_MIN_MEMBER_SHARE of them are members. Testing a user
 * costs about as much as gathering 15 memberships (at 1,000,000 groups: 48 µs against 3.5 µs), so
 * a page of 100 costs about 1,500 / share memberships' worth by walking, against at least
 * share × users by gathering: even at a share of about 9% with 200,000 users, hence 10% (3 of 30).
 * A sample this small errs mostly near the threshold, where both ways cost about the same: a
 * subtree holding 2.5% of the users walks with a chance of 4%, one holding 25% gathers with 1%. Below
 * SAMPLE_MIN_SUBTREE groups a subtree's memberships usually cost less to gather than the sample
 * costs to test. The sample is read only if some group asked for needs it, once per statement.
 */
function waysSql(ctx: DomainContext, groupIds: readonly number[]): Prisma.Sql {
  const t = ctx.tenantId;
  const floor = ctx.userIdFloor ?? 0;
  // The workspace's first and last user ids, read from the (tenant_id, id) index by row comparisons:
  // without an equality on tenant_id the order asked for is that index's own, so the primary key is
  // no choice (read backwards with tenant_id as a filter, it threw away the 200,000 users of a
  // workspace made later: 458 ms).
  const ownUsers = Prisma.sql`users u WHERE (u.tenant_id, u.id) > (${t}::int, ${floor}::int) AND (u.tenant_id, u.id) < (${t}::int + 1, 0) AND u.active`;
  return Prisma.sql`
    span AS MATERIALIZED (
      SELECT (SELECT u.id FROM ${ownUsers} ORDER BY u.tenant_id, u.id LIMIT 1) AS lo,
             (SELECT u.id FROM ${ownUsers} ORDER BY u.tenant_id DESC, u.id DESC LIMIT 1) AS hi),
    sample AS MATERIALIZED (
      SELECT DISTINCT p.id FROM span CROSS JOIN generate_series(0, ${SAMPLE_USERS - 1}::int) AS i
      CROSS JOIN LATERAL (
        SELECT u.id FROM users u WHERE ${activeUserSql(ctx)} AND u.id >= span.lo + (span.hi - span.lo)::bigint * i / ${SAMPLE_USERS}::int
        ORDER BY u.id LIMIT 1) p),
    ways AS MATERIALIZED (
      SELECT o.id, CASE
        WHEN o.subtree_size <= ${WALK_MIN_SUBTREE}::int THEN false
        WHEN o.subtree_size * ${WALK_MIN_SHARE}::int >= ${keptCountSql(Prisma.sql`t`, 'groups')} THEN true
        WHEN o.subtree_size < ${SAMPLE_MIN_SUBTREE}::int THEN false
        ELSE (SELECT count(*) FILTER (WHERE ${memberBelowSql(ctx, Prisma.sql`s.id`)}) * ${WALK_MIN_MEMBER_SHARE}::int >= greatest(count(*), 1)
              FROM sample s)
      END AS walks
      FROM groups o JOIN tenants t ON t.id = o.tenant_id
      WHERE o.tenant_id = ${t}::int AND o.id = ANY(${[...groupIds]}::int[]))`;
}

/** Which way each group's inherited members are found (see waysSql): true, walking the users. */
export async function inheritedMemberWays(ctx: DomainContext, groupIds: readonly number[]): Promise<Map<number, boolean>> {
  const rows = await ctx.db.$queryRaw<{ id: number; walks: boolean }[]>`WITH ${waysSql(ctx, groupIds)} SELECT id, walks FROM ways`;
  return new Map(rows.map((row) => [row.id, row.walks]));
}

function inheritedMembers(ctx: DomainContext, groupIds: readonly number[]): PageQuery {
  const t = ctx.tenantId;
  const owners = { ids: groupIds, from: Prisma.sql`ways o`, id: Prisma.sql`o.id` };
  const walk = {
    from: Prisma.sql`users u`,
    id: Prisma.sql`u.id`,
    where: Prisma.sql`o.walks AND ${activeUserSql(ctx)} AND ${memberBelowSql(ctx, Prisma.sql`u.id`)}`,
    sortable: USER_SORTABLE,
  };
  const gather = {
    from: Prisma.sql`groups g JOIN group_members gm ON gm.group_id = g.id JOIN users u ON u.id = gm.user_id AND u.active`,
    id: Prisma.sql`gm.user_id`,
    distinct: true,
    sortable: USER_SORTABLE,
    where: Prisma.sql`NOT o.walks AND g.tenant_id = ${t}::int AND g.path @> ARRAY[o.id]`,
  };
  return { with: waysSql(ctx, groupIds), owners, items: [walk, gather] };
}

/** A page of the groups each user is a direct member of, by group id (groups the credential cannot read are left out). */
export function groupPagesOfUsers(ctx: DomainContext, userIds: readonly number[], window: Window<number>): Promise<Page<Group>[]> {
  const items = {
    from: Prisma.sql`group_members gm JOIN groups g ON g.id = gm.group_id`,
    id: Prisma.sql`gm.group_id`,
    where: Prisma.sql`gm.tenant_id = ${ctx.tenantId}::int AND gm.user_id = k.id AND ${visibleSql(ctx, 'g')}`,
  };
  return pagesOfOwners(ctx, { owners: ownerIds(userIds), items: [items] }, window, groupRows(ctx));
}

/** How many groups each user is a direct member of (that the credential can read). */
export async function groupCountsOfUsers(ctx: DomainContext, userIds: readonly number[]): Promise<number[]> {
  const rows = await ctx.db.$queryRaw<{ userId: number; count: number }[]>`
    SELECT gm.user_id AS "userId", count(*)::int AS count
    FROM group_members gm JOIN groups g ON g.id = gm.group_id
    WHERE gm.tenant_id = ${ctx.tenantId}::int AND gm.user_id = ANY(${[...userIds]}::int[]) AND ${visibleSql(ctx, 'g')}
    GROUP BY gm.user_id`;
  const byUser = new Map(rows.map((row) => [row.userId, row.count]));
  return userIds.map((id) => byUser.get(id) ?? 0);
}

/**
 * Direct members of each group, or with `inherited` members of the group and every descendant; by
 * user id. Deactivated users are not members for anything they would be granted, so they are left
 * out unless `includeDeactivated` (SCIM shows an identity provider the members it set).
 */
export async function membersOfGroups(
  ctx: DomainContext,
  groupIds: readonly number[],
  inherited: boolean,
  options: { includeDeactivated?: boolean } = {},
): Promise<User[][]> {
  const anyUser = options.includeDeactivated === true;
  const links = inherited
    ? await ctx.db.$queryRaw<{ ownerId: number; userId: number }[]>`
        SELECT DISTINCT k.id AS "ownerId", gm.user_id AS "userId"
        FROM unnest(${[...groupIds]}::int[]) AS k(id)
        JOIN groups g ON g.tenant_id = ${ctx.tenantId}::int AND g.path @> ARRAY[k.id]
        JOIN group_members gm ON gm.group_id = g.id
        JOIN users u ON u.id = gm.user_id AND (u.active OR ${anyUser})
        ORDER BY "userId"`
    : await ctx.db.$queryRaw<{ ownerId: number; userId: number }[]>`
        SELECT gm.group_id AS "ownerId", gm.user_id AS "userId"
        FROM group_members gm
        JOIN users u ON u.id = gm.user_id AND (u.active OR ${anyUser})
        WHERE gm.tenant_id = ${ctx.tenantId}::int AND gm.group_id = ANY(${[...groupIds]}::int[])
        ORDER BY "userId"`;
  const users = await rowsById(links.map((link) => link.userId), (ids) =>
    ctx.db.user.findMany({ where: { tenantId: ctx.tenantId, id: { in: ids } } }),
  );
  return groupByOwner(groupIds, links, (link) => users.get(link.userId));
}
