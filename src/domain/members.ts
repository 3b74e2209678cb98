// Group membership's writes: idempotent add/remove and an atomic sync. Its reads (members of
// groups, and the pages and counts the loaders read) are in reads/members.ts.
import type { Group } from '../generated/prisma/client';
import { type AuditAction, type Changes, recordEvents } from './audit';
import type { DomainContext, Tx } from './context';
import { NotFoundError } from './errors';
import { findGroupForWrite } from './groups';
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
