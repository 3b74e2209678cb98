// Typed domain errors: a rule of the domain the request broke. Their HTTP status is decided once
// (src/edge/failures.ts); each transport renders them in its own shape (GraphQL `extensions.code`,
// REST's envelope, SCIM's error schema). The service's own failures are src/edge/errors.ts's.
import { CodedError } from '../coded-error';

export type ErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'FORBIDDEN' | 'PRECONDITION_FAILED';

export abstract class DomainError extends CodedError {
  abstract override readonly code: ErrorCode;
}

/** Bad input; `field` names the offending argument or input field. */
export class ValidationError extends DomainError {
  readonly code = 'BAD_USER_INPUT' as const;
  constructor(readonly field: string, message: string, details: Record<string, unknown> = {}) {
    super(message, { field, ...details });
  }
}

/** Unknown id, or an id of another tenant: the two are indistinguishable on purpose. */
export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND' as const;
  constructor(readonly entity: string, readonly id: string | number, field?: string) {
    super(`${entity} ${id} not found`, { entity, id: String(id), ...(field ? { field } : {}) });
  }
}

export class ConflictError extends DomainError {
  readonly code = 'CONFLICT' as const;
}

export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN' as const;
  constructor(message: string, readonly requiredScopes: string[][] = [], details: Record<string, unknown> = {}) {
    super(message, { ...(requiredScopes.length > 0 ? { requiredScopes } : {}), ...details });
  }
}

/** A write made on the condition that the row is still at a version (SCIM's If-Match), and it is not. */
export class PreconditionFailedError extends DomainError {
  readonly code = 'PRECONDITION_FAILED' as const;
  constructor(readonly entity: string, readonly id: number, readonly currentVersion: number) {
    super(`${entity} ${id} has changed: it is at version ${currentVersion} now; read it again`, { currentVersion });
  }
}
