// What every domain operation runs with: the database, the tenant, and the
// principal's group access (decided by src/auth, consulted here inside transactions).
import type { PrismaClient } from '../generated/prisma/client';
import type { Prisma } from '../generated/prisma/client';

export type Db = PrismaClient;
export type Tx = Prisma.TransactionClient;

/** Who made a change: an API key, a JWT's subject, or an operator at the command line. */
export type Actor = { kind: 'apikey'; id: number; name: string } | { kind: 'jwt'; subject: string } | { kind: 'cli' };

export const CLI_ACTOR: Actor = { kind: 'cli' };

/** What the audit trail records of the request making a write (src/domain/audit.ts). */
export interface AuditSource {
  tenantId: number;
  /** Who the trail names for the writes. */
  actor: Actor;
  /** The request the writes belong to, recorded with their events; null outside a request. */
  requestId: string | null;
}

export type GroupWriteScope = 'groups:write' | 'groups:members:write';
/** The write scopes a whole-workspace operation (an import) may need, checked by their presence. */
export type WriteScope = GroupWriteScope | 'users:write' | 'roles:write';

export interface GroupAccess {
  /** Roots of the subtrees the principal may read; null means every group of the tenant. */
  readonly visibleRoots: readonly number[] | null;
  /** Roots of the subtrees whose audit events the principal may read (`audit:read@…`); null: every event. */
  readonly auditRoots: readonly number[] | null;
  /** Roots of the subtrees the principal may create groups in (`groups:write@…`); null: anywhere, roots too. */
  readonly groupWriteRoots: readonly number[] | null;
  /**
   * Throws ForbiddenError unless the principal may use `scope` on a group with this
   * path (root..self). `null` is the top level (creating a root). With `strictlyBelow`,
   * a restriction root itself does not qualify (it cannot be moved or deleted).
   */
  requireGroupWrite(scope: GroupWriteScope, path: readonly number[] | null, options?: { strictlyBelow?: boolean }): void;
  /** Throws ForbiddenError naming `scope` unless the principal holds it, restricted or not. */
  requireScope(scope: WriteScope): void;
}

export interface DomainContext extends AuditSource {
  db: Db;
  access: GroupAccess;
  maxGroupDepth: number;
  /**
   * The workspace's group id floor (`tenants.group_id_floor`): each of its groups has a higher id.
   * Scans of its groups in id order start there; 0 (or absent) starts them at the lowest id of all.
   */
  groupIdFloor?: number;
  /** The same for its users (`tenants.user_id_floor`). */
  userIdFloor?: number;
}

const FULL_ACCESS: GroupAccess = {
  visibleRoots: null,
  auditRoots: null,
  groupWriteRoots: null,
  requireGroupWrite: () => undefined,
  requireScope: () => undefined,
};

/**
 * The context of an operator who may do everything in the tenant (CLI, demo seed, tests,
 * benches). The depth limit comes from the configuration (MAX_GROUP_DEPTH), never a literal.
 * The trail names the operator `cli`.
 */
export function fullAccessContext(db: Db, tenantId: number, limits: Pick<DomainContext, 'maxGroupDepth'>): DomainContext {
  const { maxGroupDepth } = limits;
  // 0 or NaN would refuse every group with a misleading "nested at most 0 levels".
  if (!Number.isInteger(maxGroupDepth) || maxGroupDepth < 1) {
    throw new RangeError(`maxGroupDepth must be a positive integer, got ${maxGroupDepth}`);
  }
  return { db, tenantId, access: FULL_ACCESS, maxGroupDepth, actor: CLI_ACTOR, requestId: null };
}

/** True if a path lies inside one of the subtrees (null: every subtree). */
export function withinRoots(roots: readonly number[] | null, path: readonly number[]): boolean {
  return roots === null || roots.some((root) => path.includes(root));
}

/** True if a group with this path lies inside one of the visible subtrees. */
export function isVisible(access: GroupAccess, path: readonly number[]): boolean {
  return withinRoots(access.visibleRoots, path);
}
