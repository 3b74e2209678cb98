// Roles, their assignment to groups and users, and the effective roles that follow
// from the tree: a group has the roles of itself and every ancestor; a user has
// their direct roles plus the effective roles of every group they are a member of.
import { type Group, Prisma, type Role, type User } from '../generated/prisma/client';
import { type AuditEntry, changed, eventsOnGroups, recordEvents } from './audit';
import type { DomainContext, Tx } from './context';
import { NotFoundError } from './errors';
import { findGroupForWrite } from './groups';
import { groupByOwner, rowsById } from './rows';
import { conflictOnDuplicate } from './unique';
import { optionalText, requiredName } from './validate';
import { type Page, type Window, idPage } from './pages';
import { writeTransaction } from './write-turn';

export type { Role } from '../generated/prisma/client';

export async function rolesByIds(ctx: DomainContext, ids: readonly number[]): Promise<(Role | null)[]> {
  const rows = await ctx.db.role.findMany({ where: { tenantId: ctx.tenantId, id: { in: [...ids] } } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? null);
}

/** A page of the workspace's roles by id. */
export function rolePage(ctx: DomainContext, window: Window<number>): Promise<Page<Role>> {
  return idPage(window, (args) => ctx.db.role.findMany({ ...args, where: { ...args.where, tenantId: ctx.tenantId } }));
}

export function countRoles(ctx: DomainContext): Promise<number> {
  return ctx.db.role.count({ where: { tenantId: ctx.tenantId } });
}

export async function createRole(ctx: DomainContext, input: { name: unknown; description?: unknown }): Promise<Role> {
  const name = requiredName(input.name, 'name', 255);
  const description = optionalText(input.description, 'description', 4000) ?? null;
  return conflictOnDuplicate(
    writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
      const role = await tx.role.create({ data: { tenantId: ctx.tenantId, name, description } });
      await recordEvents(tx, ctx, [
        {
          action: 'ROLE_CREATED',
          target: { type: 'Role', id: role.id },
          changes: { name: { before: null, after: name }, description: { before: null, after: description } },
        },
      ]);
      return role;
    }),
    `a role named "${name}" already exists in this workspace`,
    'name',
  );
}

/** The role, its row locked until the transaction ends: concurrent changes of one role apply one after the other. */
async function lockedRole(tx: Tx, ctx: DomainContext, roleId: number): Promise<Role> {
  const locked = await tx.$queryRaw<{ id: number }[]>`
    SELECT id FROM roles WHERE tenant_id = ${ctx.tenantId}::int AND id = ${roleId}::int FOR UPDATE`;
  if (locked.length === 0) throw new NotFoundError('Role', roleId, 'id');
  return tx.role.findUniqueOrThrow({ where: { id: roleId } });
}

/** Renames or re-describes a role: absent fields stay, a null description clears it; a name another role has is a CONFLICT. */
export async function updateRole(ctx: DomainContext, roleId: number, input: { name?: unknown; description?: unknown }): Promise<Role> {
  const name = input.name === undefined ? undefined : requiredName(input.name, 'name', 255);
  const description = input.description === undefined ? undefined : (optionalText(input.description, 'description', 4000) ?? null);
  return conflictOnDuplicate(
    writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
      const before = await lockedRole(tx, ctx, roleId);
      const changes = changed({
        name: { before: before.name, after: name ?? before.name },
        description: { before: before.description, after: description === undefined ? before.description : description },
      });
      if (Object.keys(changes).length === 0) return before;
      const role = await tx.role.update({ where: { id: roleId }, data: { name, description } });
      await recordEvents(tx, ctx, [{ action: 'ROLE_UPDATED', target: { type: 'Role', id: roleId }, changes }]);
      return role;
    }),
    `a role named "${name}" already exists in this workspace`,
    'name',
  );
}

/**
 * Deletes a role and, in the same transaction, every assignment of it (to groups and to users):
 * nobody's effective roles include it afterwards. Each assignment removed records its own
 * GROUP_ROLE_UNASSIGNED or USER_ROLE_UNASSIGNED event, as if unassigned on its own, so readers of a
 * subtree's trail and feed see the role go.
 */
export async function deleteRole(ctx: DomainContext, roleId: number): Promise<number> {
  return writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
    const role = await lockedRole(tx, ctx, roleId);
    const groups = await tx.$queryRaw<{ id: number; path: number[] }[]>`
      DELETE FROM group_roles gr USING groups g
      WHERE gr.tenant_id = ${ctx.tenantId}::int AND gr.role_id = ${roleId}::int AND g.id = gr.group_id
      RETURNING g.id, g.path`;
    const users = await tx.$queryRaw<{ id: number }[]>`
      DELETE FROM user_roles WHERE tenant_id = ${ctx.tenantId}::int AND role_id = ${roleId}::int RETURNING user_id AS id`;
    await tx.role.delete({ where: { id: roleId } });
    const unassigned = { roleId: { before: roleId, after: null } };
    await recordEvents(tx, ctx, [
      {
        action: 'ROLE_DELETED',
        target: { type: 'Role', id: roleId },
        changes: { name: { before: role.name, after: null }, description: { before: role.description, after: null } },
      },
      ...eventsOnGroups('GROUP_ROLE_UNASSIGNED', groups, unassigned),
      ...users
        .sort((a, b) => a.id - b.id)
        .map((user) => ({ action: 'USER_ROLE_UNASSIGNED' as const, target: { type: 'User' as const, id: user.id }, changes: unassigned })),
    ]);
    return roleId;
  });
}

async function requireRole(tx: Tx, ctx: DomainContext, roleId: number): Promise<void> {
  const role = await tx.role.findFirst({ where: { tenantId: ctx.tenantId, id: roleId }, select: { id: true } });
  if (!role) throw new NotFoundError('Role', roleId, 'roleId');
}

/** The event of a role (un)assignment that changed something: the role id appears or goes. */
function recordAssignment(tx: Tx, ctx: DomainContext, assigned: boolean, roleId: number, about: Omit<AuditEntry, 'changes'>) {
  const roleChange = assigned ? { before: null, after: roleId } : { before: roleId, after: null };
  return recordEvents(tx, ctx, [{ ...about, changes: { roleId: roleChange } }]);
}

/** Whose roles an assignment gives: a group's members' (group_roles) or one user's (user_roles). */
const HOLDERS = {
  group: { table: Prisma.raw('group_roles'), column: Prisma.raw('group_id') },
  user: { table: Prisma.raw('user_roles'), column: Prisma.raw('user_id') },
};

/** Assigns (once) or unassigns a role of a group or user: the rows changed, 0 where it already was as asked. */
function changeAssignment(tx: Tx, ctx: DomainContext, holder: keyof typeof HOLDERS, holderId: number, roleId: number, assigned: boolean): Promise<number> {
  const { table, column } = HOLDERS[holder];
  return assigned
    ? tx.$executeRaw`INSERT INTO ${table} (tenant_id, ${column}, role_id)
        VALUES (${ctx.tenantId}::int, ${holderId}::int, ${roleId}::int) ON CONFLICT DO NOTHING`
    : tx.$executeRaw`DELETE FROM ${table} WHERE tenant_id = ${ctx.tenantId}::int AND ${column} = ${holderId}::int AND role_id = ${roleId}::int`;
}

/** Assigning twice or unassigning what is not assigned is not an error: the end state is what was asked. */
export async function setGroupRole(ctx: DomainContext, groupId: number, roleId: number, assigned: boolean): Promise<Group> {
  return writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
    // A group the credential cannot read is not found, or roles:write alone would probe group ids.
    const group = await findGroupForWrite(tx, ctx, groupId, 'groupId');
    await requireRole(tx, ctx, roleId);
    if ((await changeAssignment(tx, ctx, 'group', groupId, roleId, assigned)) > 0) {
      await recordAssignment(tx, ctx, assigned, roleId, {
        action: assigned ? 'GROUP_ROLE_ASSIGNED' : 'GROUP_ROLE_UNASSIGNED',
        target: { type: 'Group', id: groupId },
        group: { id: groupId, paths: [group.path] },
      });
    }
    return group;
  });
}

export async function setUserRole(ctx: DomainContext, userId: number, roleId: number, assigned: boolean): Promise<User> {
  return writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
    const user = await tx.user.findFirst({ where: { tenantId: ctx.tenantId, id: userId } });
    if (!user) throw new NotFoundError('User', userId, 'userId');
    await requireRole(tx, ctx, roleId);
    if ((await changeAssignment(tx, ctx, 'user', userId, roleId, assigned)) > 0) {
      await recordAssignment(tx, ctx, assigned, roleId, {
        action: assigned ? 'USER_ROLE_ASSIGNED' : 'USER_ROLE_UNASSIGNED',
        target: { type: 'User', id: userId },
      });
    }
    return user;
  });
}

interface RoleLink {
  ownerId: number;
  roleId: number;
}

/** The roles the links point to, loaded through the client (every column of the model). */
function rolesOfLinks(ctx: DomainContext, links: readonly RoleLink[]): Promise<Map<number, Role>> {
  return rowsById(links.map((link) => link.roleId), (ids) =>
    ctx.db.role.findMany({ where: { tenantId: ctx.tenantId, id: { in: ids } } }),
  );
}

async function ownedRoles(ctx: DomainContext, ownerIds: readonly number[], links: readonly RoleLink[]): Promise<Role[][]> {
  const roles = await rolesOfLinks(ctx, links);
  return groupByOwner(ownerIds, links, (link) => roles.get(link.roleId));
}

/** Roles assigned directly to each group or user, by role id. */
async function directRoles(ctx: DomainContext, holder: keyof typeof HOLDERS, ownerIds: readonly number[]): Promise<Role[][]> {
  const { table, column } = HOLDERS[holder];
  const links = await ctx.db.$queryRaw<RoleLink[]>`
    SELECT ${column} AS "ownerId", role_id AS "roleId" FROM ${table}
    WHERE tenant_id = ${ctx.tenantId}::int AND ${column} = ANY(${[...ownerIds]}::int[])
    ORDER BY role_id`;
  return ownedRoles(ctx, ownerIds, links);
}

/** Roles assigned directly to each group, by role id. */
export const rolesOfGroups = (ctx: DomainContext, groupIds: readonly number[]): Promise<Role[][]> => directRoles(ctx, 'group', groupIds);

/** Roles assigned to each group or any of its ancestors, each once, by role id. */
export async function effectiveRolesOfGroups(ctx: DomainContext, groupIds: readonly number[]): Promise<Role[][]> {
  const links = await ctx.db.$queryRaw<RoleLink[]>`
    SELECT DISTINCT g.id AS "ownerId", gr.role_id AS "roleId"
    FROM groups g
    JOIN group_roles gr ON gr.tenant_id = g.tenant_id AND gr.group_id = ANY(g.path)
    WHERE g.tenant_id = ${ctx.tenantId}::int AND g.id = ANY(${[...groupIds]}::int[])
    ORDER BY "roleId"`;
  return ownedRoles(ctx, groupIds, links);
}

/** Roles assigned directly to each user, by role id. */
export const rolesOfUsers = (ctx: DomainContext, userIds: readonly number[]): Promise<Role[][]> => directRoles(ctx, 'user', userIds);

export interface EffectiveRole {
  role: Role;
  /** Assigned to the user directly. */
  direct: boolean;
  /** Ids of the groups that grant it: assigned to a group the user is in, or to one of its ancestors. */
  viaGroupIds: number[];
}

/**
 * For each user: direct roles plus the effective roles of every group they are a direct member of.
 * A deactivated user has none until reactivated.
 */
export async function effectiveRolesOfUsers(ctx: DomainContext, userIds: readonly number[]): Promise<EffectiveRole[][]> {
  const links = await ctx.db.$queryRaw<(RoleLink & { viaGroupId: number | null })[]>`
    SELECT ur.user_id AS "ownerId", ur.role_id AS "roleId", NULL::int AS "viaGroupId"
    FROM user_roles ur
    JOIN users u ON u.id = ur.user_id AND u.active
    WHERE ur.tenant_id = ${ctx.tenantId}::int AND ur.user_id = ANY(${[...userIds]}::int[])
    UNION
    SELECT gm.user_id, gr.role_id, gr.group_id
    FROM group_members gm
    JOIN users u ON u.id = gm.user_id AND u.active
    JOIN groups g ON g.id = gm.group_id
    JOIN group_roles gr ON gr.tenant_id = g.tenant_id AND gr.group_id = ANY(g.path)
    WHERE gm.tenant_id = ${ctx.tenantId}::int AND gm.user_id = ANY(${[...userIds]}::int[])
    ORDER BY "ownerId", "roleId", "viaGroupId"`;
  const roles = await rolesOfLinks(ctx, links);
  return userIds.map((userId) => {
    const byRole = new Map<number, EffectiveRole>();
    for (const { ownerId, roleId, viaGroupId } of links) {
      const role = roles.get(roleId);
      if (ownerId !== userId || !role) continue;
      const entry = byRole.get(roleId) ?? { role, direct: false, viaGroupIds: [] };
      if (viaGroupId === null) entry.direct = true;
      else entry.viaGroupIds.push(viaGroupId);
      byRole.set(roleId, entry);
    }
    return [...byRole.values()];
  });
}
