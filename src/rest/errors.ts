// Maps every error of a REST request, once, to a status and the envelope
// `{ error: { code, message, details? } }`. Domain errors keep their meaning; Fastify's
// parsing and validation errors get stable codes; anything else is null (an internal error).
import type { FastifyError, FastifySchemaValidationError } from 'fastify';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  TimeoutError,
  UnauthenticatedError,
  UnavailableError,
  ValidationError,
} from '../domain/errors';

export interface RestError {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export interface ErrorEnvelope {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export const envelope = ({ code, message, details }: RestError): ErrorEnvelope => ({
  error: details ? { code, message, details } : { code, message },
});

export const INTERNAL_ERROR: RestError = {
  status: 500,
  code: 'internal_error',
  message: 'Internal server error; quote the x-request-id header when reporting it',
};

/** The domain names the parent `parentId`; the REST body calls it `parentGroupId`. Domain-checked fields all come from the body. */
const restField = (field: unknown) => (field === 'parentId' ? 'parentGroupId' : field);

function insufficientScope(requiredScopes: readonly string[], message: string): RestError {
  return {
    status: 403,
    code: 'insufficient_scope',
    message,
    details: { requiredScopes },
    headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${requiredScopes.join(' ')}"` },
  };
}

export function fromDomainError(error: DomainError): RestError {
  if (error instanceof ValidationError) {
    const { field: _, ...details } = error.details;
    const field = restField(error.field);
    return { status: 400, code: 'validation_failed', message: error.message, details: { field, location: 'body', ...details } };
  }
  if (error instanceof NotFoundError && error.details.field === 'parentId') {
    return {
      status: 400,
      code: 'validation_failed',
      message: `parentGroupId ${error.id} does not exist in this workspace`,
      details: { field: 'parentGroupId', location: 'body' },
    };
  }
  if (error instanceof NotFoundError) return { status: 404, code: 'not_found', message: error.message };
  if (error instanceof ConflictError) {
    const field = restField(error.details.field);
    return { status: 409, code: 'conflict', message: error.message, details: { field, location: 'body' } };
  }
  if (error instanceof ForbiddenError) return insufficientScope(error.requiredScopes[0] ?? [], error.message);
  if (error instanceof UnauthenticatedError) return unauthenticated(error);
  if (error instanceof RateLimitedError) {
    return { status: 429, code: 'rate_limited', message: error.message, details: error.details, headers: { 'retry-after': String(error.retryAfterSeconds) } };
  }
  if (error instanceof UnavailableError) {
    return { status: 503, code: 'unavailable', message: error.message, headers: { 'retry-after': String(error.retryAfterSeconds) } };
  }
  if (error instanceof TimeoutError) return { status: 504, code: 'timeout', message: error.message, details: error.details };
  return { status: 400, code: 'invalid_request', message: error.message };
}

export function unauthenticated(error: UnauthenticatedError): RestError {
  return { status: 401, code: 'unauthenticated', message: error.message, headers: { 'www-authenticate': 'Bearer' } };
}

function fieldOf(issue: FastifySchemaValidationError): string {
  if (issue.keyword === 'required') return String(issue.params.missingProperty);
  if (issue.keyword === 'additionalProperties') return String(issue.params.additionalProperty);
  return issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
}

function validationMessage(issue: FastifySchemaValidationError, field: string, location: string): string {
  if (issue.keyword === 'required') return `${field} is required`;
  if (issue.keyword === 'additionalProperties') return `unknown field "${field}" in the request body`;
  if (field === '') return `the request ${location} ${issue.message ?? 'is invalid'}`;
  return `${field} ${issue.message ?? 'is invalid'}`;
}

const LOCATIONS: Record<string, string> = { body: 'body', params: 'path', querystring: 'query', headers: 'headers' };

function fromValidation(issues: FastifySchemaValidationError[], context: string | undefined): RestError {
  const location = LOCATIONS[context ?? ''] ?? 'request';
  const issue = issues[0];
  const field = fieldOf(issue);
  return {
    status: 400,
    code: 'validation_failed',
    message: validationMessage(issue, field, location),
    details: field ? { field, location } : { location },
  };
}

const FASTIFY_ERRORS: Record<string, RestError> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'the request body must be application/json' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', message: 'the request body is larger than 1 MiB' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'the request body is not valid JSON' },
};

/** The REST error for any thrown error, or null when it is unexpected (a 500, to be logged). */
export function toRestError(error: unknown): RestError | null {
  if (error instanceof DomainError) return fromDomainError(error);
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return fromValidation(fastifyError.validation, fastifyError.validationContext);
  const known = FASTIFY_ERRORS[fastifyError.code];
  if (known) return known;
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: 'invalid_request', message: fastifyError.message };
  }
  return null;
}
