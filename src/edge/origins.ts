// Which browser pages may call the service: the origins of CORS_ORIGINS (src/config.ts), for
// HTTP (CORS, registered by the app) and for the WebSocket's upgrade (src/graphql/websocket.ts).
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Headers a page's script may read from an answer: the request id, the rate-limit budget and
 * when to retry (Retry-After on 429 and 503), why a credential was refused, and SCIM's version and
 * new resource's address.
 */
export const EXPOSED_HEADERS = [
  'x-request-id',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-used',
  'x-ratelimit-reset',
  'retry-after',
  'www-authenticate',
  'etag',
  'location',
];

/** The methods REST and SCIM routes answer to (GraphQL: GET and POST). */
export const ALLOWED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** How long a browser may reuse a preflight's answer, in seconds (Chromium caps it at 7200). */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * May a WebSocket upgrade with these headers go on: no Origin (not a browser: a browser always
 * sends one), a listed origin, or a page of the service itself (the Origin's host is the Host it
 * asked for, or the forwarded one behind a trusted proxy).
 */
export function upgradeOriginAllowed(headers: IncomingHttpHeaders, allowed: ReadonlySet<string>, trustProxy: boolean): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (allowed.has(origin)) return true;
  const host = URL.canParse(origin) ? new URL(origin).host : null;
  if (host === null) return false;
  const forwarded = headers['x-forwarded-host'];
  const served = [headers.host, trustProxy && typeof forwarded === 'string' ? forwarded.split(',')[0].trim() : undefined];
  return served.some((name) => name !== undefined && name.toLowerCase() === host);
}
