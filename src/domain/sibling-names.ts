// One rule for group names, whichever transport writes: a name is unique among its siblings (the
// groups of the workspace under the same parent; roots are siblings of each other), ignoring case.
// The domain checks it before writing, to name the group in the way; the unique index
// `groups_sibling_name_key` (prisma/migrations/20261206000002_sibling_names) holds it whatever the code does.
import { isUniqueViolation } from '../db';
import type { DomainContext, Tx } from './context';
import { ConflictError } from './errors';

export const SIBLING_NAME_INDEX = 'groups_sibling_name_key';

const placeOf = (parentId: number | null) => (parentId === null ? 'at the top level' : `under group ${parentId}`);

/** A name to be given to a group under one parent: the group's id, or null for a group not yet made. */
export interface NamedGroup {
  id: number | null;
  name: string;
}

interface Clash {
  candidateId: number;
  name: string;
  existingId: number;
}

/** The first of `groups` whose name (ignoring case) an existing child of `parentId` already has, other than `exceptId`. */
async function firstClash(tx: Tx, ctx: DomainContext, parentId: number | null, groups: readonly NamedGroup[], exceptId: number): Promise<Clash | null> {
  const [clash] = await tx.$queryRaw<Clash[]>`
    SELECT c.id AS "candidateId", c.name, g.id AS "existingId"
    FROM unnest(${groups.map((g) => g.id ?? 0)}::int[], ${groups.map((g) => g.name)}::text[]) WITH ORDINALITY AS c(id, name, ord)
    JOIN groups g ON g.tenant_id = ${ctx.tenantId}::int AND coalesce(g.parent_group_id, 0) = ${parentId ?? 0}::int
      AND lower(g.name) = lower(c.name) AND g.id <> c.id AND g.id <> ${exceptId}::int
    ORDER BY c.ord, g.id
    LIMIT 1`;
  return clash ?? null;
}

/**
 * Refuses (CONFLICT, naming the group in the way) to give `groups` their names under `parentId`
 * when a sibling there has one of them. With `becauseDeleting`, they are the children of that
 * group, which its deletion would make roots.
 */
export async function requireUniqueSiblingNames(
  tx: Tx,
  ctx: DomainContext,
  parentId: number | null,
  groups: readonly NamedGroup[],
  { exceptId = 0, becauseDeleting }: { exceptId?: number; becauseDeleting?: number } = {},
): Promise<void> {
  if (groups.length === 0) return;
  const clash = await firstClash(tx, ctx, parentId, groups, exceptId);
  if (!clash) return;
  if (becauseDeleting !== undefined) {
    throw new ConflictError(
      `cannot delete group ${becauseDeleting}: its child group ${clash.candidateId} would become a root beside group ${clash.existingId}, also named "${clash.name}" (names are unique among siblings, ignoring case); rename or move one of them first`,
      { field: 'id', existingId: String(clash.existingId), childId: String(clash.candidateId) },
    );
  }
  throw nameTaken(clash.name, parentId, clash.existingId);
}

/** The refusal of a name that the sibling `existingId` under `parentId` already has. */
export function nameTaken(name: string, parentId: number | null, existingId: number): ConflictError {
  return new ConflictError(`a group named "${name}" already exists ${placeOf(parentId)} (group ${existingId}); names are unique among siblings, ignoring case`, {
    field: 'name',
    existingId: String(existingId),
  });
}

/** A write that lost a race for a name under `parentId` to a concurrent writer: CONFLICT, not a failure of the service. */
export async function siblingNameConflicts<T>(write: Promise<T>, parentId: number | null, name: string): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (!isUniqueViolation(error, SIBLING_NAME_INDEX)) throw error;
    throw new ConflictError(`a group named "${name}" already exists ${placeOf(parentId)}; names are unique among siblings, ignoring case`, {
      field: 'name',
    });
  }
}
