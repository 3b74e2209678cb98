// Groups as an identity provider provisions them (SCIM). An IdP's groups are flat and matched by
// name, ours form a tree: a provisioned group is made where the credential may make groups (under
// the root of its `groups:write@<id>` subtree, or as a root), its name is unique among its siblings
// as every group's is (src/domain/sibling-names.ts), and its members are set in the same
// transaction. Every step is the same domain write GraphQL and REST make, with the same checks and
// audit events.
import type { DomainContext, Tx } from './context';
import { ForbiddenError, NotFoundError } from './errors';
import { type Group, applyGroupUpdate, findGroupForWrite, insertGroup, removeGroup } from './groups';
import { type MemberDelta, applyMemberDelta, replaceMembers } from './members';
import { lockTree } from './tree-lock';
import { lockVersion } from './versions';
import { optionalText } from './validate';
import { writeTransaction } from './write-turn';

/** Where the credential's new groups go: the one subtree root it may write in, or the top level. */
export function provisioningParent(ctx: DomainContext): number | null {
  const roots = ctx.access.groupWriteRoots;
  if (roots === null) return null;
  if (roots.length !== 1) {
    throw new ForbiddenError(
      roots.length === 0
        ? 'creating groups needs the groups:write scope'
        : `the credential may create groups in several subtrees (${roots.join(', ')}); provisioning needs a key restricted to one`,
      [['groups:write']],
    );
  }
  return roots[0];
}

const externalIdOf = (value: unknown) => optionalText(value, 'externalId', 255);

/** The group a write names, locked at `expectedVersion` (any version when null). */
async function groupAtVersion(tx: Tx, ctx: DomainContext, id: number, expectedVersion: number | null): Promise<Group> {
  const group = await findGroupForWrite(tx, ctx, id, 'id');
  await lockVersion(tx, 'groups', ctx.tenantId, id, expectedVersion, () => new NotFoundError('Group', id, 'id'));
  return group;
}

export interface ProvisionedGroupInput {
  name: unknown;
  externalId?: unknown;
  memberIds?: readonly number[];
}

/** Creates a group where the credential provisions groups, with its first members. */
export function provisionGroup(ctx: DomainContext, input: ProvisionedGroupInput): Promise<Group> {
  return writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
    await lockTree(tx, ctx.tenantId, 'exclusive');
    const parentId = provisioningParent(ctx);
    const group = await insertGroup(tx, ctx, { name: input.name, parentId, externalId: externalIdOf(input.externalId) ?? null });
    if (input.memberIds && input.memberIds.length > 0) {
      ctx.access.requireGroupWrite('groups:members:write', group.path);
      await applyMemberDelta(tx, ctx, group, { add: input.memberIds, remove: [] });
    }
    return tx.group.findUniqueOrThrow({ where: { id: group.id } });
  });
}

export interface ProvisionedGroupChange {
  name?: unknown;
  externalId?: unknown;
  /** The exact members, or what to add and remove. */
  members?: { replace: readonly number[] } | MemberDelta;
}

/**
 * Renames a group, changes its externalId and its members in one transaction. With
 * `expectedVersion`, a group changed since is refused (PreconditionFailedError) and nothing is written.
 */
export function updateProvisionedGroup(
  ctx: DomainContext,
  id: number,
  change: ProvisionedGroupChange,
  expectedVersion: number | null = null,
): Promise<Group> {
  const renames = change.name !== undefined || change.externalId !== undefined;
  return writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
    // A rename must see its siblings' names as they are; member changes only depend on the tree.
    await lockTree(tx, ctx.tenantId, renames ? 'exclusive' : 'shared');
    let group = await groupAtVersion(tx, ctx, id, expectedVersion);
    const externalId = externalIdOf(change.externalId);
    // The same name and externalId again (a PUT of the members, say) is no rename and needs no groups:write.
    const sameName = change.name === undefined || (typeof change.name === 'string' && change.name.trim() === group.name);
    if (renames && !(sameName && (externalId === undefined || externalId === group.externalId))) {
      group = await applyGroupUpdate(tx, ctx, group, { name: change.name, externalId });
    }
    const members = change.members;
    if (members) {
      ctx.access.requireGroupWrite('groups:members:write', group.path);
      if ('replace' in members) await replaceMembers(tx, ctx, group, members.replace);
      else await applyMemberDelta(tx, ctx, group, members);
    }
    return tx.group.findUniqueOrThrow({ where: { id } });
  });
}

/** Deletes a provisioned group (its children become roots, as for any group), if still at `expectedVersion`. */
export function deprovisionGroup(ctx: DomainContext, id: number, expectedVersion: number | null = null): Promise<number> {
  return writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
    await lockTree(tx, ctx.tenantId, 'exclusive');
    return removeGroup(tx, ctx, await groupAtVersion(tx, ctx, id, expectedVersion));
  });
}
