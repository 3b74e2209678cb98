// How a failure is answered over HTTP, decided once for every transport: its status and headers
// (Retry-After, WWW-Authenticate). The service's own errors carry theirs (./errors.ts), the
// domain's are mapped here, and a transport's own refusals (a SCIM filter, Fastify's parsing and
// validation) carry a `statusCode`. Each transport's error handler renders only the body.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { UnauthenticatedError } from '../auth/errors';
import { WriteQueueTimeoutError, isDatabaseUnavailable } from '../db';
import { DomainError, type ErrorCode, ForbiddenError, NotFoundError } from '../domain/errors';
import { RateLimitedError, ServiceError, UnavailableError } from './errors';
import type { Metrics } from './metrics';

/** A failure the service answers on purpose; anything else is a bug (a 500, logged). */
export type KnownError = DomainError | ServiceError | UnauthenticatedError;

export const isKnown = (error: unknown): error is KnownError =>
  error instanceof DomainError || error instanceof ServiceError || error instanceof UnauthenticatedError;

/**
 * The typed error a failure stands for: the reason the request's work was stopped (its deadline),
 * whatever the failing call threw then; UnavailableError for an unreachable or overloaded
 * database; RateLimitedError for a write that waited too long for its turn; a known error as it is.
 */
export function knownError(error: unknown, work?: { readonly signal: AbortSignal } | null): KnownError | null {
  if (work?.signal.reason instanceof ServiceError) return work.signal.reason;
  if (isKnown(error)) return error;
  if (isDatabaseUnavailable(error)) return new UnavailableError();
  if (error instanceof WriteQueueTimeoutError) {
    return new RateLimitedError(
      `too many writes queued for this workspace: this one waited ${error.waitedMs} ms for its turn and was not made; retry in ${error.retryAfterSeconds} s`,
      error.retryAfterSeconds,
      { reason: 'write_queue', maxWaitMs: error.waitedMs },
    );
  }
  return null;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
}

const DOMAIN_STATUS: Record<ErrorCode, number> = { BAD_USER_INPUT: 400, NOT_FOUND: 404, CONFLICT: 409, FORBIDDEN: 403, PRECONDITION_FAILED: 412 };

/** Ids a request names in its body (a parent, members): one that does not exist is a bad request (400), not a missing resource. */
const REFERENCE_FIELDS = new Set(['parentId', 'userIds', 'members']);

export function httpAnswer(error: KnownError): HttpAnswer {
  if (error instanceof ServiceError) {
    return { status: error.status, headers: error.retryAfterSeconds === null ? {} : { 'retry-after': String(error.retryAfterSeconds) } };
  }
  if (error instanceof UnauthenticatedError) return { status: 401, headers: { 'www-authenticate': 'Bearer' } };
  if (error instanceof ForbiddenError) {
    // RFC 6750 §3.1: the scope that would have been enough.
    const scope = (error.requiredScopes[0] ?? []).join(' ');
    return { status: 403, headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"` } };
  }
  if (error instanceof NotFoundError && REFERENCE_FIELDS.has(String(error.details.field))) return { status: 400, headers: {} };
  return { status: DOMAIN_STATUS[error.code], headers: {} };
}

/** A transport's own refusal or Fastify's (a body that does not parse, a schema it fails): they carry a 4xx `statusCode`. */
export function carriedStatus(error: unknown): number | null {
  const status = (error as Partial<FastifyError> | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : null;
}

/**
 * The body of a failure in a transport's shape: a known error, a transport's or Fastify's own
 * refusal (`carriedStatus`), or null for an unexpected one (answered 500).
 */
export type RenderFailure = (error: KnownError | FastifyError | null, status: number) => unknown;

/**
 * A plugin's error handler: the answer decided here, once; unexpected errors and database outages
 * logged and counted; the body rendered by the transport.
 */
export function failureHandler(metrics: Metrics, transport: string, render: RenderFailure, contentType?: string) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = knownError(error, request.work);
    const carried = known ? null : carriedStatus(error);
    if (known instanceof UnavailableError) {
      metrics.databaseErrors.inc();
      request.log.error({ err: error }, `database unavailable in a ${transport} request`);
    } else if (!known && carried === null) {
      request.log.error({ err: error }, `internal error in a ${transport} request`);
    }
    const answer = known ? httpAnswer(known) : { status: carried ?? 500, headers: {} };
    reply.code(answer.status).headers(answer.headers);
    if (contentType) reply.type(contentType);
    return reply.send(render(known ?? (carried === null ? null : error), answer.status));
  };
}
