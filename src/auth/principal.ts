// Who is making a request: a tenant, the credential's scopes, and what they allow on the tree.
import type { ApiKey, Tenant } from '../generated/prisma/client';
import type { Actor, Db, DomainContext, GroupAccess } from '../domain/context';
import { ForbiddenError } from '../domain/errors';
import { type Grant, type ScopeName, coveredRoots, coversGroup, expandGrants, holdsAny, knownGrants } from '../policy/scopes';

export interface Principal {
  tenant: Tenant;
  /** The credential's scopes as given. */
  scopes: string[];
  /** The scopes with their implications, parsed. */
  grants: Grant[];
  /** The API key used, or null (JWT, CLI). */
  apiKey: ApiKey | null;
  /** When the credential stops working (an API key's expiresAt, a JWT's exp); null if never. */
  expiresAt: Date | null;
  /** A JWT's `sub` and `iss`: who is charged for its requests. */
  subject?: string;
  issuer?: string;
}

/**
 * The principal of a credential. Scopes this version does not know (another service's in a JWT,
 * or one dropped from the catalog since a key was made) are kept in `scopes` but grant nothing.
 */
export function makePrincipal(
  tenant: Tenant,
  scopes: string[],
  apiKey: ApiKey | null = null,
  expiresAt: Date | null = apiKey?.expiresAt ?? null,
): Principal {
  return { tenant, scopes, grants: expandGrants(knownGrants(scopes)), apiKey, expiresAt };
}

function describeTarget(path: readonly number[] | null): string {
  return path === null ? 'at the top level (a root group)' : `on group ${path[path.length - 1]}`;
}

/** Who the audit trail names for the principal's writes. */
export function actorOf(principal: Principal): Actor {
  if (principal.apiKey) return { kind: 'apikey', id: principal.apiKey.id, name: principal.apiKey.name };
  return { kind: 'jwt', subject: principal.subject ?? '-' };
}

/** What a request of this principal runs the domain with (GraphQL and REST alike). */
export function domainContextOf(db: Db, principal: Principal, maxGroupDepth: number, requestId: string | null): DomainContext {
  const { tenant } = principal;
  return { db, tenantId: tenant.id, groupIdFloor: tenant.groupIdFloor, userIdFloor: tenant.userIdFloor, access: groupAccessOf(principal), maxGroupDepth, actor: actorOf(principal), requestId };
}

/** The principal's group access, as the domain layer consults it inside transactions. */
export function groupAccessOf(principal: Principal): GroupAccess {
  return {
    visibleRoots: coveredRoots(principal.grants, 'groups:read'),
    auditRoots: coveredRoots(principal.grants, 'audit:read'),
    groupWriteRoots: coveredRoots(principal.grants, 'groups:write'),
    requireGroupWrite(scope: ScopeName, path, options = {}) {
      if (coversGroup(principal.grants, scope, path, options.strictlyBelow)) return;
      const where = options.strictlyBelow && path ? `group ${path[path.length - 1]} itself or outside its subtree` : describeTarget(path);
      throw new ForbiddenError(`the credential's scopes do not allow ${scope} ${options.strictlyBelow ? `for ${where}` : where}`, [[scope]]);
    },
    requireScope(scope) {
      if (!holdsAny(principal.grants, scope)) throw new ForbiddenError(`the credential lacks the scope ${scope}`, [[scope]]);
    },
  };
}
