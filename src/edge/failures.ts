// The service's own failures (credentials, limits, outages, deadlines) answered in the shape
// of the route family that was asked: REST's envelope under /t/, GraphQL's `errors` on /graphql.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db';
import { DomainError, RateLimitedError, UnavailableError } from '../domain/errors';
import { envelope, toRestError } from '../rest/errors';
import { sendScimError, toScimError } from '../scim/errors';
import type { RequestWork } from './request-work';

/** HTTP status of a GraphQL response whose only errors carry this code (no data produced). */
export const GRAPHQL_STATUS: Record<string, number> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
};

/**
 * The typed error a failure stands for: the deadline's TimeoutError when the request ran out
 * of time (whatever the failing call threw), UnavailableError for an unreachable or overloaded
 * database, a domain error as it is; null for anything unexpected (a 500).
 */
export function serviceError(error: unknown, work?: RequestWork | null): DomainError | null {
  if (work?.timedOut) return work.signal.reason as DomainError;
  if (error instanceof DomainError) return error;
  if (isDatabaseUnavailable(error)) return new UnavailableError();
  return null;
}

export function retryHeaders(error: DomainError): Record<string, string> {
  if (error instanceof RateLimitedError || error instanceof UnavailableError) return { 'retry-after': String(error.retryAfterSeconds) };
  return {};
}

export function graphqlErrorBody(error: DomainError) {
  return { errors: [{ message: error.message, extensions: { code: error.code, ...error.details } }] };
}

/** SCIM's routes: /t/<slug>/scim/v2/… */
const SCIM_URL = /^\/t\/[^/]+\/scim\//;

export function sendFailure(request: FastifyRequest, reply: FastifyReply, error: DomainError): FastifyReply {
  if (SCIM_URL.test(request.url)) {
    return sendScimError(reply, toScimError(error)!);
  }
  if (request.url.startsWith('/t/')) {
    const rest = toRestError(error)!;
    return reply.code(rest.status).headers(rest.headers ?? {}).send(envelope(rest));
  }
  const headers: Record<string, string> = { ...retryHeaders(error) };
  if (error.code === 'UNAUTHENTICATED') headers['www-authenticate'] = 'Bearer';
  return reply
    .code(GRAPHQL_STATUS[error.code] ?? 400)
    .headers(headers)
    .send(graphqlErrorBody(error));
}
