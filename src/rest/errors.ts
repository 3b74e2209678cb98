// REST's failure bodies: the envelope `{ error: { code, message, details? } }`. The status and
// headers are decided for every transport at the edge (src/edge/failures.ts); this file only says
// what REST calls each failure. Fastify's parsing and validation errors get stable codes.
import type { FastifyError, FastifySchemaValidationError } from 'fastify';
import { UnauthenticatedError } from '../auth/errors';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../domain/errors';
import { ServiceError } from '../edge/errors';
import { type KnownError, isKnown } from '../edge/failures';

interface RestError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface ErrorEnvelope {
  error: RestError;
}

const envelope = ({ code, message, details }: RestError): ErrorEnvelope => ({
  error: details ? { code, message, details } : { code, message },
});

const INTERNAL_ERROR: RestError = {
  code: 'internal_error',
  message: 'Internal server error; quote the x-request-id header when reporting it',
};

/** The domain names the parent `parentId`; the REST body calls it `parentGroupId`. Domain-checked fields all come from the body. */
const restField = (field: unknown) => (field === 'parentId' ? 'parentGroupId' : field);

/** REST's codes for the service's own failures that carry details a client can act on. */
const SERVICE_CODES: Record<string, string> = { RATE_LIMITED: 'rate_limited', UNAVAILABLE: 'unavailable', TIMEOUT: 'timeout' };

function fromKnown(error: KnownError, status: number): RestError {
  if (error instanceof ValidationError) {
    const { field: _, ...details } = error.details;
    return { code: 'validation_failed', message: error.message, details: { field: restField(error.field), location: 'body', ...details } };
  }
  if (error instanceof NotFoundError && status === 400) {
    // An id the body refers to (its parent): the request is at fault, not a missing resource.
    const field = restField(error.details.field);
    return { code: 'validation_failed', message: `${field} ${error.id} does not exist in this workspace`, details: { field, location: 'body' } };
  }
  if (error instanceof NotFoundError) return { code: 'not_found', message: error.message };
  if (error instanceof ConflictError) {
    // `existingId`: the group whose name is in the way (src/domain/sibling-names.ts).
    const { field, ...details } = error.details;
    return { code: 'conflict', message: error.message, details: { field: restField(field), location: field === 'id' ? 'path' : 'body', ...details } };
  }
  if (error instanceof ForbiddenError) return { code: 'insufficient_scope', message: error.message, details: { requiredScopes: error.requiredScopes[0] ?? [] } };
  if (error instanceof UnauthenticatedError) return { code: 'unauthenticated', message: error.message };
  if (error instanceof ServiceError && error.code in SERVICE_CODES) {
    const details = Object.keys(error.details).length > 0 ? { details: error.details } : {};
    return { code: SERVICE_CODES[error.code], message: error.message, ...details };
  }
  return { code: 'invalid_request', message: error.message };
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
    code: 'validation_failed',
    message: validationMessage(issue, field, location),
    details: field ? { field, location } : { location },
  };
}

const FASTIFY_ERRORS: Record<string, RestError> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type', message: 'the request body must be application/json' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large', message: 'the request body is larger than 1 MiB' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_json', message: 'the request body is not valid JSON' },
};
const OWN_CODES: Record<string, string> = { NO_ROUTE: 'not_found' };

/** REST's body for a failure (src/edge/failures.ts RenderFailure): a known error, Fastify's own refusal, or null (internal). */
export function restFailure(error: KnownError | FastifyError | null, status: number): ErrorEnvelope {
  if (!error) return envelope(INTERNAL_ERROR);
  if (isKnown(error)) return envelope(fromKnown(error, status));
  if (error.validation) return envelope(fromValidation(error.validation, error.validationContext));
  return envelope(FASTIFY_ERRORS[error.code] ?? { code: OWN_CODES[error.code] ?? 'invalid_request', message: error.message });
}
