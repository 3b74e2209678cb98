// Who is making a request: a tenant, the credential's scopes, and what they allow on the tree.
import type { ApiKey, Tenant } from '../generated/prisma/client';
import type { GroupAccess } from '../domain/context';
import { ForbiddenError } from '../domain/errors';
import { type Grant, type ScopeName, coveredRoots, coversGroup, expandGrants, parseScope } from './scopes';

export interface Principal {
  tenant: Tenant;
  /** The credential's scopes as given. */
  scopes: string[];
  /** The scopes with their implications, parsed. */
  grants: Grant[];
  /** The API key used, or null (JWT, CLI). */
  apiKey: ApiKey | null;
}

export function makePrincipal(tenant: Tenant, scopes: string[], apiKey: ApiKey | null = null): Principal {
  return { tenant, scopes, grants: expandGrants(scopes.map((s) => parseScope(s))), apiKey };
}

function describeTarget(path: readonly number[] | null): string {
  return path === null ? 'at the top level (a root group)' : `on group ${path[path.length - 1]}`;
}

/** The principal's group access, as the domain layer consults it inside transactions. */
export function groupAccessOf(principal: Principal): GroupAccess {
  return {
    visibleRoots: coveredRoots(principal.grants, 'groups:read'),
    requireGroupWrite(scope: ScopeName, path, options = {}) {
      if (coversGroup(principal.grants, scope, path, options.strictlyBelow)) return;
      const where = options.strictlyBelow && path ? `group ${path[path.length - 1]} itself or outside its subtree` : describeTarget(path);
      throw new ForbiddenError(`the credential's scopes do not allow ${scope} ${options.strictlyBelow ? `for ${where}` : where}`, [[scope]]);
    },
  };
}
