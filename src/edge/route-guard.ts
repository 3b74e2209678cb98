// Routes of a tenant API (REST, SCIM) deny by default: a route must say what it needs (`config.scope`) or that it is
// served without credentials (`config.public`). One declaring neither stops the app at start-up,
// so a forgotten scope is a boot failure, never a route any credential can call.
import type { RouteOptions } from 'fastify';
import { isScopeName } from '../policy/scopes';

/** An `onRoute` hook: throws, naming the route, for a route with neither a known `config.scope` nor `config.public`. */
export function requireDeclaredScope(routeOptions: RouteOptions): void {
  const config = (routeOptions.config ?? {}) as { scope?: unknown; public?: unknown };
  if (config.public === true) return;
  if (typeof config.scope === 'string' && isScopeName(config.scope)) return;
  const methods = [routeOptions.method].flat().join(',');
  throw new Error(`route ${methods} ${routeOptions.url} declares neither a known config.scope nor config.public (routes deny by default)`);
}

/** A URL under an API that no route serves: answered 404, in the API's shape. */
export class NoRouteError extends Error {
  readonly statusCode = 404;
  readonly code = 'NO_ROUTE';
  constructor(readonly method: string, readonly path: string) {
    super(`no route ${method} ${path}`);
  }
}
