// SCIM's error response (RFC 7644 §3.12): every failure of a SCIM request, mapped once from the
// domain's typed errors and Fastify's parsing errors. `status` is a string; `scimType` only where
// the RFC defines one.
import type { FastifyError, FastifyReply } from 'fastify';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  RateLimitedError,
  TimeoutError,
  UnauthenticatedError,
  UnavailableError,
  ValidationError,
} from '../domain/errors';

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
/** The media type of every SCIM response, errors included. */
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export type ScimType = 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive';

/** A SCIM-level refusal raised by the SCIM layer itself (a malformed filter, PATCH or body). */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?: ScimType,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface ScimErrorBody {
  schemas: [typeof ERROR_SCHEMA];
  status: string;
  scimType?: ScimType;
  detail: string;
}

function errorBody(error: ScimError): ScimErrorBody {
  return { schemas: [ERROR_SCHEMA], status: String(error.status), ...(error.scimType ? { scimType: error.scimType } : {}), detail: error.message };
}

/** Answers with the error: its status, its headers (Retry-After, WWW-Authenticate) and SCIM's error body. */
export function sendScimError(reply: FastifyReply, error: ScimError): FastifyReply {
  return reply.code(error.status).headers(error.headers).type(SCIM_CONTENT_TYPE).send(errorBody(error));
}

export const INTERNAL = new ScimError(500, 'internal server error; quote the x-request-id header when reporting it');

/** Fields whose domain errors are about a member list: an IdP sent a value that is not a user of the workspace. */
const MEMBER_FIELDS = new Set(['userIds', 'members']);

function fromDomain(error: DomainError): ScimError {
  if (error instanceof ValidationError) return new ScimError(400, error.message, error.field === 'filter' ? 'invalidFilter' : 'invalidValue');
  if (error instanceof NotFoundError) {
    if (MEMBER_FIELDS.has(String(error.details.field))) return new ScimError(400, `members: ${error.message}`, 'invalidValue');
    return new ScimError(404, error.message);
  }
  if (error instanceof ConflictError) return new ScimError(409, error.message, 'uniqueness');
  if (error instanceof PreconditionFailedError) return new ScimError(412, `${error.message} (If-Match)`);
  if (error instanceof ForbiddenError) return new ScimError(403, error.message);
  if (error instanceof UnauthenticatedError) return new ScimError(401, error.message, undefined, { 'www-authenticate': 'Bearer' });
  if (error instanceof RateLimitedError || error instanceof UnavailableError) {
    return new ScimError(error instanceof RateLimitedError ? 429 : 503, error.message, undefined, { 'retry-after': String(error.retryAfterSeconds) });
  }
  if (error instanceof TimeoutError) return new ScimError(504, error.message);
  return new ScimError(400, error.message);
}

const FASTIFY: Record<string, ScimError> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: new ScimError(415, 'the request body must be application/scim+json or application/json'),
  FST_ERR_CTP_BODY_TOO_LARGE: new ScimError(413, 'the request body is larger than 1 MiB'),
  FST_ERR_CTP_INVALID_JSON_BODY: new ScimError(400, 'the request body is not valid JSON', 'invalidSyntax'),
};

/** The SCIM error for any thrown error, or null when it is unexpected (a 500, to be logged). */
export function toScimError(error: unknown): ScimError | null {
  if (error instanceof ScimError) return error;
  if (error instanceof DomainError) return fromDomain(error);
  const fastifyError = error as FastifyError;
  const known = FASTIFY[fastifyError.code];
  if (known) return known;
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new ScimError(status, fastifyError.message);
  return null;
}
