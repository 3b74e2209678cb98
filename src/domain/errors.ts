// Typed domain errors. The edges map them once: GraphQL `extensions.code`, REST status + code.
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'FORBIDDEN'
  | 'UNAUTHENTICATED'
  | 'UNAVAILABLE'
  | 'TIMEOUT'
  | 'RATE_LIMITED'
  | 'LIST_TOO_LARGE'
  | 'QUERY_TOO_COMPLEX'
  | 'SLOW_SUBSCRIBER'
  | 'PRECONDITION_FAILED';

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
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
  constructor(message: string, readonly requiredScopes: string[][] = []) {
    super(message, requiredScopes.length > 0 ? { requiredScopes } : {});
  }
}

export class UnauthenticatedError extends DomainError {
  readonly code = 'UNAUTHENTICATED' as const;
}

// The service's own refusals, mapped at the edges like the domain's: the database cannot be
// reached now, a request ran past its deadline, a client is over its share.

export class UnavailableError extends DomainError {
  readonly code = 'UNAVAILABLE' as const;
  constructor(
    message = 'the service cannot reach its database right now; retry shortly',
    readonly retryAfterSeconds = 2,
  ) {
    super(message);
  }
}

export class TimeoutError extends DomainError {
  readonly code = 'TIMEOUT' as const;
  constructor(readonly deadlineMs: number) {
    super(`the request did not finish within its ${deadlineMs} ms deadline; ask for less (smaller pages, fewer fields)`, { deadlineMs });
  }
}

/**
 * A GraphQL request that asked for more than it may: refused when priced, or stopped while it
 * runs once it has resolved more objects than its price (a pricing bug must not run a request out of memory).
 */
export class QueryTooComplexError extends DomainError {
  readonly code = 'QUERY_TOO_COMPLEX' as const;
}

/** The client closed the connection: its request's work stops; nobody reads the answer. */
export class ClientGoneError extends Error {}

export class RateLimitedError extends DomainError {
  readonly code = 'RATE_LIMITED' as const;
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    details: Record<string, unknown> = {},
  ) {
    super(message, { retryAfterSeconds, ...details });
  }
}

/** A write made on the condition that the row is still at a version (SCIM's If-Match), and it is not. */
export class PreconditionFailedError extends DomainError {
  readonly code = 'PRECONDITION_FAILED' as const;
  constructor(readonly entity: string, readonly id: number, readonly currentVersion: number) {
    super(`${entity} ${id} has changed: it is at version ${currentVersion} now; read it again`, { currentVersion });
  }
}
