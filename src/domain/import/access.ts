// What a credential must hold to import a file (README "Import and export", "Through the API"):
// the write scopes its contents need, and, for scopes restricted to subtrees, every group it
// creates, updates, names or links confined to them. Checked before anything is written; the
// first breach is FORBIDDEN at the JSON pointer of its entry.
import { type GroupAccess, type WriteScope, isVisible } from '../context';
import { ForbiddenError } from '../errors';
import type { WorkspaceFile } from './format';
import type { ExistingGroup, ImportPlan } from './plan';

/** The scope each part of the file needs, in the order they are checked. */
const SCOPES_BY_PART: readonly (readonly [keyof Omit<WorkspaceFile, 'format' | 'version'>, WriteScope])[] = [
  ['groups', 'groups:write'],
  ['users', 'users:write'],
  ['roles', 'roles:write'],
  ['memberships', 'groups:members:write'],
  ['roleAssignments', 'roles:write'],
];

/** Refuses a file whose non-empty parts need a scope the credential does not hold at all. */
export function requireImportScopes(access: GroupAccess, file: WorkspaceFile): void {
  for (const [part, scope] of SCOPES_BY_PART) {
    if (file[part].length === 0) continue;
    at(`/${part}`, () => access.requireScope(scope), `importing ${part} needs ${scope}`);
  }
}

/** Runs an access check; its refusal is placed at `pointer`, with `why` before its own reason. */
function at(pointer: string, check: () => void, why: string): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error;
    throw new ForbiddenError(`${pointer}: ${why}: ${error.message}`, error.requiredScopes, { pointer });
  }
}

const parentPath = (path: readonly number[]) => (path.length > 1 ? path.slice(0, -1) : null);

/**
 * Confines the import to the subtrees of restricted scopes, as the single writes are: a new group
 * under a parent the credential may write in (never a root), an existing group named by the file
 * inside its subtree (moved only from strictly below a restriction root, to a parent inside one),
 * memberships on groups it may change, group role assignments on groups it may read.
 */
export function confineImport(access: GroupAccess, file: WorkspaceFile, existing: ReadonlyMap<number, ExistingGroup>, plan: ImportPlan): void {
  file.groups.forEach((g, i) => {
    const id = plan.resolveGroup(g.externalId, `/groups/${i}/externalId`);
    const after = plan.pathAfter(id);
    const before = existing.get(id);
    const pointer = `/groups/${i}`;
    if (!before) {
      const parent = parentPath(after);
      // Under a new parent, the parent's own entry decides (it is inside, or it is refused).
      if (parent === null || parent[parent.length - 1] > 0) at(`${pointer}/parent`, () => access.requireGroupWrite('groups:write', parent), 'creating this group');
      return;
    }
    at(pointer, () => access.requireGroupWrite('groups:write', before.path), `updating group ${id}`);
    const movedTo = parentPath(after);
    if ((movedTo?.at(-1) ?? null) !== before.parentId) {
      at(`${pointer}/parent`, () => access.requireGroupWrite('groups:write', before.path, { strictlyBelow: true }), `moving group ${id}`);
      at(`${pointer}/parent`, () => access.requireGroupWrite('groups:write', movedTo), `moving group ${id}`);
    }
  });
  file.memberships.forEach((m, i) => {
    const pointer = `/memberships/${i}/group`;
    const path = plan.pathAfter(plan.resolveGroup(m.group, pointer));
    at(pointer, () => access.requireGroupWrite('groups:members:write', path), 'adding a member');
  });
  file.roleAssignments.forEach((a, i) => {
    if (a.group === null) return;
    const pointer = `/roleAssignments/${i}/group`;
    const path = plan.pathAfter(plan.resolveGroup(a.group, pointer));
    if (!isVisible(access, path)) {
      throw new ForbiddenError(`${pointer}: assigning a role: the credential's scopes do not allow groups:read on group ${path.at(-1)}`, [['groups:read']], { pointer });
    }
  });
}
