// Group membership: idempotent add/remove, an atomic sync, and batched reads.
import { Prisma } from '../generated/prisma/client';
import type { Group, User } from '../generated/prisma/client';
import { type AuditAction, type Changes, recordEvents } from './audit';
import type { DomainContext, Tx } from './context';
import { NotFoundError } from './errors';
import { findGroupForWrite, groupRows, pagesOfOwners, visibleSql } from './groups';
import { type Page, type Window, windowSql } from './pages';
import { groupByOwner, rowsById } from './rows';
import { lockTree } from './tree-lock';
import { writeTransaction } from './write-turn';

/** Locks the tree (shared), finds the group and checks the principal may change its members (inside the caller's transaction). */
export async function groupForMemberWrite(tx: Tx, ctx: DomainContext, groupId: number): Promise<Group> {
  await lockTree(tx, ctx.tenantId, 'shared');
  const group = await findGroupForWrite(tx, ctx, groupId, 'groupId');
  ctx.access.requireGroupWrite('groups:members:write', group.path);
  return group;
}

/** Records a change of the group's members, and counts it as a new version of the group. */
async function recordMembers(tx: Tx, ctx: DomainContext, group: Group, action: AuditAction, changes: Changes): Promise<void> {
  await tx.$executeRaw`UPDATE groups SET version = version + 1, updated_at = now() WHERE id = ${group.id}::int`;
  await recordEvents(tx, ctx, [{ action, target: { type: 'Group', id: group.id }, group: { id: group.id, paths: [group.path] }, changes }]);
}

/** Unknown user ids (or another workspace's) among `userIds`: a NotFoundError naming them, in one statement. */
async function requireUsers(tx: Tx, ctx: DomainContext, userIds: readonly number[], field: string): Promise<void> {
  if (userIds.length === 0) return;
  const missing = await tx.$queryRaw<{ id: number }[]>`
    SELECT k.id FROM unnest(${[...userIds]}::int[]) AS k(id)
    WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = ${ctx.tenantId}::int AND u.id = k.id)
    ORDER BY k.id`;
  if (missing.length > 0) throw new NotFoundError('User', missing.map((row) => row.id).join(', '), field);
}

export interface MemberDelta {
  add: readonly number[];
  remove: readonly number[];
}

/**
 * Adds and removes members of a group the caller has checked (groupForMemberWrite) inside its
 * transaction, as one delta: a fixed number of statements whatever the sizes of the group and of
 * the delta. Adding a member already there or removing one absent changes nothing. A user both
 * added and removed ends up removed. Recorded as MEMBERS_SYNCED with what really changed.
 */
export async function applyMemberDelta(tx: Tx, ctx: DomainContext, group: Group, delta: MemberDelta): Promise<MemberSync> {
  const remove = [...new Set(delta.remove)];
  const removing = new Set(remove);
  const add = [...new Set(delta.add)].filter((id) => !removing.has(id));
  await requireUsers(tx, ctx, add, 'userIds');
  const added = add.length === 0 ? [] : await tx.$queryRaw<{ userId: number }[]>`
    INSERT INTO group_members (tenant_id, group_id, user_id)
    SELECT ${ctx.tenantId}::int, ${group.id}::int, k.id FROM unnest(${add}::int[]) AS k(id)
    ON CONFLICT DO NOTHING
    RETURNING user_id AS "userId"`;
  const removed = remove.length === 0 ? [] : await tx.$queryRaw<{ userId: number }[]>`
    DELETE FROM group_members WHERE group_id = ${group.id}::int AND user_id = ANY(${remove}::int[])
    RETURNING user_id AS "userId"`;
  const sync = {
    group,
    added: added.map((row) => row.userId).sort((a, b) => a - b),
    removed: removed.map((row) => row.userId).sort((a, b) => a - b),
  };
  if (sync.added.length > 0 || sync.removed.length > 0) {
    await recordMembers(tx, ctx, group, 'MEMBERS_SYNCED', {
      added: { before: null, after: sync.added },
      removed: { before: sync.removed, after: null },
    });
  }
  return sync;
}

export async function addGroupMember(ctx: DomainContext, groupId: number, userId: number): Promise<Group> {
  return writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
    const group = await groupForMemberWrite(tx, ctx, groupId);
    await requireUsers(tx, ctx, [userId], 'userId');
    const added = await tx.$executeRaw`
      INSERT INTO group_members (tenant_id, group_id, user_id) VALUES (${ctx.tenantId}::int, ${groupId}::int, ${userId}::int)
      ON CONFLICT DO NOTHING`;
    if (added > 0) await recordMembers(tx, ctx, group, 'MEMBER_ADDED', { userId: { before: null, after: userId } });
    return group;
  });
}

export async function removeGroupMember(ctx: DomainContext, groupId: number, userId: number): Promise<Group> {
  return writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
    const group = await groupForMemberWrite(tx, ctx, groupId);
    await requireUsers(tx, ctx, [userId], 'userId');
    const { count } = await tx.groupMember.deleteMany({ where: { tenantId: ctx.tenantId, groupId, userId } });
    if (count > 0) await recordMembers(tx, ctx, group, 'MEMBER_REMOVED', { userId: { before: userId, after: null } });
    return group;
  });
}

export interface MemberSync {
  group: Group;
  added: number[];
  removed: number[];
}

/** Makes the group's direct members exactly `userIds`, or changes nothing if any id is unknown. */
export function setGroupMembers(ctx: DomainContext, groupId: number, userIds: readonly number[]): Promise<MemberSync> {
  return writeTransaction(ctx.db, ctx.tenantId, async (tx) => replaceMembers(tx, ctx, await groupForMemberWrite(tx, ctx, groupId), userIds));
}

/** setGroupMembers inside the caller's transaction, for a group found by groupForMemberWrite. */
export async function replaceMembers(tx: Tx, ctx: DomainContext, group: Group, userIds: readonly number[]): Promise<MemberSync> {
  const wanted = [...new Set(userIds)];
  const groupId = group.id;
  await requireUsers(tx, ctx, wanted, 'userIds');
  const wantedIds = new Set(wanted);
  // Lock the group's membership rows so concurrent syncs of one group apply one after the other.
  await tx.$executeRaw`SELECT id FROM groups WHERE id = ${groupId}::int FOR NO KEY UPDATE`;
  const current = await tx.groupMember.findMany({ where: { groupId }, select: { userId: true } });
  const currentIds = new Set(current.map((m) => m.userId));
  const added = wanted.filter((id) => !currentIds.has(id)).sort((a, b) => a - b);
  const removed = [...currentIds].filter((id) => !wantedIds.has(id)).sort((a, b) => a - b);
  if (removed.length > 0) await tx.groupMember.deleteMany({ where: { groupId, userId: { in: removed } } });
  if (added.length > 0) {
    await tx.groupMember.createMany({
      data: added.map((userId) => ({ tenantId: ctx.tenantId, groupId, userId })),
      skipDuplicates: true,
    });
  }
  if (added.length > 0 || removed.length > 0) {
    await recordMembers(tx, ctx, group, 'MEMBERS_SYNCED', {
      added: { before: null, after: added },
      removed: { before: removed, after: null },
    });
  }
  return { group, added, removed };
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

/** How many members membersOfGroups would list (deactivated users left out). */
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

/** Inherited members walk the users when the subtree has more than this many groups… */
const WALK_MIN_SUBTREE = 200;
/** …and at least 1 / this share of the workspace's groups. */
const WALK_MIN_SHARE = 50;

/**
 * A page of each group's members by user id: direct, or with `inherited` every user who is a
 * member of the group or of a group below it, once. One statement for the links, one for the rows.
 *
 * Inherited members are found one of two ways, chosen per group by the size of its subtree: a
 * small subtree's memberships are read and de-duplicated (their number is small); a subtree
 * holding a large share of the workspace walks the users in id order and keeps those with a
 * membership inside it, so a page reads about `size / share` users however many members there are.
 */
export async function memberPages(ctx: DomainContext, groupIds: readonly number[], inherited: boolean, window: Window<number>): Promise<Page<User>[]> {
  const links = await (inherited ? inheritedMemberLinks : directMemberLinks)(ctx, groupIds, window);
  return pagesOfOwners(groupIds, links, window, (ids) =>
    rowsById(ids, (distinct) => ctx.db.user.findMany({ where: { tenantId: ctx.tenantId, id: { in: distinct } } })),
  );
}

type MemberLink = { ownerId: number; id: number; key: number };

function directMemberLinks(ctx: DomainContext, groupIds: readonly number[], window: Window<number>): Promise<MemberLink[]> {
  const { bounds, order, limit } = windowSql(Prisma.sql`gm.user_id`, window);
  return ctx.db.$queryRaw<MemberLink[]>`
    SELECT k.id AS "ownerId", m.id, m.id AS key
    FROM unnest(${[...groupIds]}::int[]) AS k(id)
    CROSS JOIN LATERAL (
      SELECT gm.user_id AS id FROM group_members gm JOIN users u ON u.id = gm.user_id AND u.active
      WHERE gm.tenant_id = ${ctx.tenantId}::int AND gm.group_id = k.id AND ${bounds}
      ORDER BY ${order} LIMIT ${limit}
    ) m`;
}

/** Each group (`o`, its tenant `t`) takes exactly one of the two ways: this condition says which. */
const WALKS = Prisma.sql`(o.subtree_size > ${WALK_MIN_SUBTREE}::int AND o.subtree_size * ${WALK_MIN_SHARE}::int >= t.group_count)`;

function inheritedMemberLinks(ctx: DomainContext, groupIds: readonly number[], window: Window<number>): Promise<MemberLink[]> {
  const t = ctx.tenantId;
  const walk = windowSql(Prisma.sql`u.id`, window);
  const gather = windowSql(Prisma.sql`gm.user_id`, window);
  return ctx.db.$queryRaw<MemberLink[]>`
    SELECT o.id AS "ownerId", m.id, m.id AS key
    FROM groups o JOIN tenants t ON t.id = o.tenant_id
    CROSS JOIN LATERAL (
      SELECT u.id FROM users u
      WHERE ${WALKS} AND u.tenant_id = ${t}::int AND u.active AND ${walk.bounds}
        AND EXISTS (SELECT 1 FROM group_members gm JOIN groups g ON g.id = gm.group_id
                    WHERE gm.tenant_id = ${t}::int AND gm.user_id = u.id AND g.path @> ARRAY[o.id])
      ORDER BY ${walk.order} LIMIT ${walk.limit}
    ) m
    WHERE o.tenant_id = ${t}::int AND o.id = ANY(${[...groupIds]}::int[])
    UNION ALL
    SELECT o.id, m.id, m.id
    FROM groups o JOIN tenants t ON t.id = o.tenant_id
    CROSS JOIN LATERAL (
      SELECT DISTINCT gm.user_id AS id FROM groups g
      JOIN group_members gm ON gm.group_id = g.id
      JOIN users u ON u.id = gm.user_id AND u.active
      WHERE NOT ${WALKS} AND g.tenant_id = ${t}::int AND g.path @> ARRAY[o.id] AND ${gather.bounds}
      ORDER BY ${gather.order} LIMIT ${gather.limit}
    ) m
    WHERE o.tenant_id = ${t}::int AND o.id = ANY(${[...groupIds]}::int[])`;
}

/** A page of the groups each user is a direct member of, by group id (groups the credential cannot read are left out). */
export async function groupPagesOfUsers(ctx: DomainContext, userIds: readonly number[], window: Window<number>): Promise<Page<Group>[]> {
  const { bounds, order, limit } = windowSql(Prisma.sql`gm.group_id`, window);
  const links = await ctx.db.$queryRaw<{ ownerId: number; id: number; key: number }[]>`
    SELECT k.id AS "ownerId", m.id, m.id AS key
    FROM unnest(${[...userIds]}::int[]) AS k(id)
    CROSS JOIN LATERAL (
      SELECT gm.group_id AS id FROM group_members gm JOIN groups g ON g.id = gm.group_id
      WHERE gm.tenant_id = ${ctx.tenantId}::int AND gm.user_id = k.id AND ${bounds} AND ${visibleSql(ctx, 'g')}
      ORDER BY ${order} LIMIT ${limit}
    ) m`;
  return pagesOfOwners(userIds, links, window, groupRows(ctx));
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
