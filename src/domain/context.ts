// What every domain operation runs with: the database, the tenant, and the
// principal's group access (decided by src/auth, consulted here inside transactions).
import type { PrismaClient } from '../generated/prisma/client';
import type { Prisma } from '../generated/prisma/client';

export type Db = PrismaClient;
export type Tx = Prisma.TransactionClient;

export type GroupWriteScope = 'groups:write' | 'groups:members:write';

export interface GroupAccess {
  /** Roots of the subtrees the principal may read; null means every group of the tenant. */
  readonly visibleRoots: readonly number[] | null;
  /**
   * Throws ForbiddenError unless the principal may use `scope` on a group with this
   * path (root..self). `null` is the top level (creating a root). With `strictlyBelow`,
   * a restriction root itself does not qualify (it cannot be moved or deleted).
   */
  requireGroupWrite(scope: GroupWriteScope, path: readonly number[] | null, options?: { strictlyBelow?: boolean }): void;
}

export interface DomainContext {
  db: Db;
  tenantId: number;
  access: GroupAccess;
  maxGroupDepth: number;
}

const FULL_ACCESS: GroupAccess = {
  visibleRoots: null,
  requireGroupWrite: () => undefined,
};

/**
 * The context of an operator who may do everything in the tenant (CLI, demo seed, tests,
 * benches). The depth limit comes from the configuration (MAX_GROUP_DEPTH), never a literal.
 */
export function fullAccessContext(db: Db, tenantId: number, limits: Pick<DomainContext, 'maxGroupDepth'>): DomainContext {
  const { maxGroupDepth } = limits;
  // 0 or NaN would refuse every group with a misleading "nested at most 0 levels".
  if (!Number.isInteger(maxGroupDepth) || maxGroupDepth < 1) {
    throw new RangeError(`maxGroupDepth must be a positive integer, got ${maxGroupDepth}`);
  }
  return { db, tenantId, access: FULL_ACCESS, maxGroupDepth };
}

/** True if a group with this path lies inside one of the visible subtrees. */
export function isVisible(access: GroupAccess, path: readonly number[]): boolean {
  return access.visibleRoots === null || access.visibleRoots.some((root) => path.includes(root));
}
