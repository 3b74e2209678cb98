// The group tree's writes, which keep the materialised path (`path` = ids root..self) consistent
// inside one transaction. Its reads (groups by id, lists, pages of children and descendants) are
// in reads/groups.ts.
import type { Group } from '../generated/prisma/client';
import { type AuditEntry, changed, recordEvents } from './audit';
import { createTogether } from './group-creations';
import type { DomainContext, Tx } from './context';
import { ConflictError, DomainError, ForbiddenError, NotFoundError } from './errors';
import { requireUniqueSiblingNames, siblingNameConflicts } from './sibling-names';
import { lockTree } from './tree-lock';
import { checkDepth, optionalText, requiredName } from './validate';
import { visibilityFilter } from './visibility';
import { transactionWithRetries, writeTransaction } from './write-turn';

export type { Group } from '../generated/prisma/client';

export const MAX_GROUP_NAME = 255;
export const MAX_DESCRIPTION = 4000;

export const depthOf = (group: Group): number => group.path.length - 1;
/** Ancestor ids, nearest parent first, root last. */
export const ancestorIdsOf = (group: Group): number[] => group.path.slice(0, -1).reverse();

/**
 * The groups a write names, in the order asked. An unknown id, another tenant's group and a group
 * the principal cannot read are one and the same NotFoundError (naming `field`): a write must not
 * tell a credential that a group it cannot see exists. Writes to readable groups are checked after.
 */
export async function findGroupsForWrite(tx: Tx, ctx: DomainContext, ids: readonly number[], field: string): Promise<Group[]> {
  const rows = await tx.group.findMany({ where: { tenantId: ctx.tenantId, id: { in: [...ids] }, ...visibilityFilter(ctx) } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => {
    const group = byId.get(id);
    if (!group) throw new NotFoundError('Group', id, field);
    return group;
  });
}

export async function findGroupForWrite(tx: Tx, ctx: DomainContext, id: number, field: string): Promise<Group> {
  const [group] = await findGroupsForWrite(tx, ctx, [id], field);
  return group;
}

export interface CreateGroupInput {
  name: unknown;
  description?: unknown;
  parentId?: number | null;
}

/**
 * Creates a group (GraphQL createGroup, REST POST /groups). Made together with the workspace's
 * other creations waiting at the same time (./group-creations), each checked as if alone.
 */
export async function createGroup(ctx: DomainContext, input: CreateGroupInput): Promise<Group> {
  const name = requiredName(input.name, 'name', MAX_GROUP_NAME);
  const description = optionalText(input.description, 'description', MAX_DESCRIPTION) ?? null;
  return createTogether({ ctx, name, description, parentId: input.parentId ?? null, makeAlone: () => createGroupAlone(ctx, input) });
}

/**
 * Creates a group in a transaction of its own, within the write turn its caller holds
 * (createTogether's batch, or no queue at all): taking another turn of the same workspace from
 * inside one would wait behind the writes queued meanwhile, and with one write at a time
 * (WRITE_CONCURRENCY_PER_WORKSPACE=1) for ever.
 */
function createGroupAlone(ctx: DomainContext, input: CreateGroupInput): Promise<Group> {
  return transactionWithRetries(ctx.db, async (tx) => {
    await lockTree(tx, ctx.tenantId, 'exclusive');
    return insertGroup(tx, ctx, input);
  });
}

/** Creates a group inside the caller's transaction, which holds the tree lock exclusively. */
export async function insertGroup(tx: Tx, ctx: DomainContext, input: CreateGroupInput & { externalId?: string | null }): Promise<Group> {
  const name = requiredName(input.name, 'name', MAX_GROUP_NAME);
  const description = optionalText(input.description, 'description', MAX_DESCRIPTION) ?? null;
  const externalId = input.externalId ?? null;
  const parent = input.parentId == null ? null : await findGroupForWrite(tx, ctx, input.parentId, 'parentId');
  ctx.access.requireGroupWrite('groups:write', parent ? parent.path : null);
  const parentPath = parent ? parent.path : [];
  checkDepth(ctx, parentPath.length + 1);
  await requireUniqueSiblingNames(tx, ctx, parent?.id ?? null, [{ id: null, name }]);
  const [created] = await siblingNameConflicts(
    tx.$queryRaw<{ id: number }[]>`
      WITH next AS (SELECT nextval(pg_get_serial_sequence('groups', 'id'))::int AS id)
      INSERT INTO groups (id, tenant_id, name, description, parent_group_id, path, external_id)
      SELECT next.id, ${ctx.tenantId}::int, ${name}, ${description}, ${parent?.id ?? null}::int,
             ${parentPath}::int[] || next.id, ${externalId}
      FROM next
      RETURNING id`,
    parent?.id ?? null,
    name,
  );
  const group = await tx.group.findUniqueOrThrow({ where: { id: created.id } });
  await recordEvents(tx, ctx, [
    {
      action: 'GROUP_CREATED',
      target: { type: 'Group', id: group.id },
      group: { id: group.id, paths: [group.path] },
      changes: changed({
        name: { before: null, after: name },
        description: { before: null, after: description },
        parentId: { before: null, after: group.parentGroupId },
        externalId: { before: null, after: externalId },
      }),
    },
  ]);
  return group;
}

export interface UpdateGroupInput {
  name?: unknown;
  description?: unknown;
  /** An identity provider's id for the group (SCIM); undefined: unchanged. */
  externalId?: string | null;
  /** undefined: keep the parent; null: make the group a root. */
  parentId?: number | null;
}

/** Why a move is refused, by the check that refuses it (a preview reports them; a write throws the first). */
export type MoveRefusalCode = 'FORBIDDEN' | 'NOT_FOUND' | 'CYCLE' | 'DEPTH_LIMIT' | 'SIBLING_NAME';

/** Called with each check a move fails: a write throws the error, a preview records it and goes on. */
export type RefuseMove = (code: MoveRefusalCode, error: DomainError) => void;

/** Runs `check`, passing a domain error it throws to `refuse`. */
function attempt(code: MoveRefusalCode, refuse: RefuseMove, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    refuse(code, error);
  }
}

/**
 * The checks moving `group` under `parentId` (null: a root) named `name` must pass, in order: the
 * scope on the group, the destination (found, not inside the group), the scope there, the depth
 * limit and the sibling names. Returns the destination's row (null: the top level), or undefined
 * when the move cannot even be worked out (no such destination, or a cycle). With
 * `siblingNames: false` the last check is skipped (a preview's for roots its reader cannot see).
 */
export async function checkMove(
  tx: Tx,
  ctx: DomainContext,
  group: Group,
  parentId: number | null,
  name: string,
  refuse: RefuseMove,
  options: { siblingNames?: boolean } = {},
): Promise<Group | null | undefined> {
  attempt('FORBIDDEN', refuse, () => ctx.access.requireGroupWrite('groups:write', group.path, { strictlyBelow: true }));
  let parent: Group | null = null;
  if (parentId === null) {
    attempt('FORBIDDEN', refuse, () => ctx.access.requireGroupWrite('groups:write', null));
  } else {
    try {
      parent = await findGroupForWrite(tx, ctx, parentId, 'parentId');
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      refuse('NOT_FOUND', error);
      return undefined;
    }
    if (parent.path.includes(group.id)) {
      const cycle = `cannot move group ${group.id} under itself or one of its descendants (group ${parent.id})`;
      refuse('CYCLE', new ConflictError(cycle, { field: 'parentId' }));
      return undefined;
    }
    const destination = parent.path;
    attempt('FORBIDDEN', refuse, () => ctx.access.requireGroupWrite('groups:write', destination));
  }
  const [{ deepest }] = await tx.$queryRaw<{ deepest: number }[]>`
    SELECT max(cardinality(path))::int AS deepest FROM groups
    WHERE tenant_id = ${ctx.tenantId}::int AND path @> ARRAY[${group.id}::int]`;
  const newPrefixLength = parent ? parent.path.length : 0;
  attempt('DEPTH_LIMIT', refuse, () => checkDepth(ctx, newPrefixLength + deepest - group.path.length + 1));
  if (options.siblingNames !== false) {
    try {
      await requireUniqueSiblingNames(tx, ctx, parentId, [{ id: group.id, name }]);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      refuse('SIBLING_NAME', error);
    }
  }
  return parent;
}

const throwRefusal: RefuseMove = (_, error) => {
  throw error;
};

/** Moves the group under `parentId` (null: a root) with its subtree, named `name` there (its new name when renamed too). */
async function moveGroup(tx: Tx, ctx: DomainContext, group: Group, parentId: number | null, name: string): Promise<void> {
  const parent = await checkMove(tx, ctx, group, parentId, name, throwRefusal);
  const newPrefix = parent ? parent.path : [];
  // Every group of the subtree has new ancestors: a new version of what SCIM shows of it. The new
  // name is set in the same statement: the old one may clash under the new parent, or the new one under the old.
  await siblingNameConflicts(
    tx.$executeRaw`
      UPDATE groups
      SET path = ${newPrefix}::int[] || path[${group.path.length}:], version = version + 1,
          parent_group_id = CASE WHEN id = ${group.id}::int THEN ${parentId}::int ELSE parent_group_id END,
          name = CASE WHEN id = ${group.id}::int THEN ${name} ELSE name END,
          updated_at = CASE WHEN id = ${group.id}::int THEN now() ELSE updated_at END
      WHERE tenant_id = ${ctx.tenantId}::int AND path @> ARRAY[${group.id}::int]`,
    parentId,
    name,
  );
}

/** One event per kind of change an update made (rename, new description, move); none if nothing changed. */
function updateEvents(before: Group, after: Group): AuditEntry[] {
  // Every event of the write is about the group where it was and where it is now: a rename made
  // while moving the group out of a subtree is still an event about that subtree.
  const about = { target: { type: 'Group' as const, id: after.id }, group: { id: after.id, paths: [before.path, after.path] } };
  const entries: AuditEntry[] = [];
  if (before.name !== after.name) {
    entries.push({ ...about, action: 'GROUP_RENAMED', changes: { name: { before: before.name, after: after.name } } });
  }
  if (before.description !== after.description) {
    entries.push({
      ...about,
      action: 'GROUP_DESCRIPTION_CHANGED',
      changes: { description: { before: before.description, after: after.description } },
    });
  }
  if (before.parentGroupId !== after.parentGroupId) {
    entries.push({
      ...about,
      action: 'GROUP_MOVED',
      changes: { parentId: { before: before.parentGroupId, after: after.parentGroupId } },
    });
  }
  if (before.externalId !== after.externalId) {
    entries.push({ ...about, action: 'GROUP_EXTERNAL_ID_CHANGED', changes: { externalId: { before: before.externalId, after: after.externalId } } });
  }
  return entries;
}

export async function updateGroup(ctx: DomainContext, id: number, input: UpdateGroupInput): Promise<Group> {
  return writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
    await lockTree(tx, ctx.tenantId, 'exclusive');
    return applyGroupUpdate(tx, ctx, await findGroupForWrite(tx, ctx, id, 'id'), input);
  });
}

/** Updates a group inside the caller's transaction, which holds the tree lock exclusively. */
export async function applyGroupUpdate(tx: Tx, ctx: DomainContext, group: Group, input: UpdateGroupInput): Promise<Group> {
  const name = input.name === undefined ? undefined : requiredName(input.name, 'name', MAX_GROUP_NAME);
  const description = optionalText(input.description, 'description', MAX_DESCRIPTION);
  const { id } = group;
  ctx.access.requireGroupWrite('groups:write', group.path);
  const finalName = name ?? group.name;
  if (input.parentId !== undefined && input.parentId !== group.parentGroupId) {
    await moveGroup(tx, ctx, group, input.parentId, finalName);
  } else if (finalName !== group.name) {
    await requireUniqueSiblingNames(tx, ctx, group.parentGroupId, [{ id, name: finalName }]);
  }
  const fields = { name, description, externalId: input.externalId };
  if (Object.entries(fields).some(([field, value]) => value !== undefined && value !== group[field as keyof typeof fields])) {
    const parentId = input.parentId === undefined ? group.parentGroupId : input.parentId;
    await siblingNameConflicts(
      tx.group.update({ where: { id }, data: { ...fields, version: { increment: 1 }, updatedAt: new Date() } }),
      parentId,
      finalName,
    );
  }
  const after = await tx.group.findUniqueOrThrow({ where: { id } });
  await recordEvents(tx, ctx, updateEvents(group, after));
  return after;
}

/** Deletes a group with its memberships and role assignments; its children become roots. */
export async function deleteGroup(ctx: DomainContext, id: number): Promise<number> {
  return writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
    await lockTree(tx, ctx.tenantId, 'exclusive');
    return removeGroup(tx, ctx, await findGroupForWrite(tx, ctx, id, 'id'));
  });
}

/**
 * Deletes a group inside the caller's transaction, which holds the tree lock exclusively. Its
 * children become roots: refused (nothing written) when one is named like an existing root.
 */
export async function removeGroup(tx: Tx, ctx: DomainContext, group: Group): Promise<number> {
  const { id } = group;
  ctx.access.requireGroupWrite('groups:write', group.path, { strictlyBelow: true });
  const childRows = await tx.$queryRaw<{ id: number; name: string }[]>`
    SELECT id, name FROM groups WHERE tenant_id = ${ctx.tenantId}::int AND parent_group_id = ${id}::int ORDER BY id`;
  const children = childRows.map((row) => row.id);
  // Its children become roots, which a key restricted to a subtree may not make.
  if (children.length > 0 && ctx.access.groupWriteRoots !== null) {
    throw new ForbiddenError(
      `not allowed: deleting group ${id} would make its ${children.length} child group${children.length === 1 ? '' : 's'} roots, which needs groups:write without a group restriction; move or delete the children first`,
      [['groups:write']],
    );
  }
  await requireUniqueSiblingNames(tx, ctx, null, childRows, { exceptId: id, becauseDeleting: id });
  // One statement deletes the group and makes its children roots: in two, a child named like its
  // root parent would be a root beside it for a moment, which the sibling-name index refuses.
  await tx.$executeRaw`
    WITH gone AS (DELETE FROM groups WHERE tenant_id = ${ctx.tenantId}::int AND id = ${id}::int RETURNING id)
    UPDATE groups
    SET path = path[${group.path.length + 1}:], version = version + 1,
        parent_group_id = CASE WHEN parent_group_id = ${id}::int THEN NULL ELSE parent_group_id END,
        updated_at = CASE WHEN parent_group_id = ${id}::int THEN now() ELSE updated_at END
    WHERE tenant_id = ${ctx.tenantId}::int AND path @> ARRAY[${id}::int] AND id <> ${id}::int AND EXISTS (SELECT 1 FROM gone)`;
  await recordEvents(tx, ctx, [
    {
      action: 'GROUP_DELETED',
      target: { type: 'Group', id },
      group: { id, paths: [group.path] },
      changes: {
        name: { before: group.name, after: null },
        description: { before: group.description, after: null },
        parentId: { before: group.parentGroupId, after: null },
        // The children it had, now roots (each with its subtree).
        rerootedChildren: { before: null, after: children },
      },
    },
  ]);
  return id;
}
