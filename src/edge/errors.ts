// The service's own failures: not a rule of the domain broken, but a limit reached or the
// infrastructure away. Each carries the HTTP status it is answered with and, where waiting helps,
// when to retry; src/edge/failures.ts reads them, and each transport renders only its body.

import { CodedError } from '../coded-error';

export abstract class ServiceError extends CodedError {
  abstract readonly status: number;
  /** Seconds after which the same request may succeed (Retry-After); null where waiting does not help. */
  readonly retryAfterSeconds: number | null = null;
}

/** The database cannot be reached now, or cannot take more work. */
export class UnavailableError extends ServiceError {
  readonly code = 'UNAVAILABLE' as const;
  readonly status = 503;
  constructor(
    message = 'the service cannot reach its database right now; retry shortly',
    override readonly retryAfterSeconds = 2,
  ) {
    super(message);
  }
}

export class TimeoutError extends ServiceError {
  readonly code = 'TIMEOUT' as const;
  readonly status = 504;
  constructor(readonly deadlineMs: number) {
    super(`the request did not finish within its ${deadlineMs} ms deadline; ask for less (smaller pages, fewer fields)`, { deadlineMs });
  }
}

/** A client over its share: points, requests per address, writes queued, subscriptions. */
export class RateLimitedError extends ServiceError {
  readonly code = 'RATE_LIMITED' as const;
  readonly status = 429;
  constructor(
    message: string,
    override readonly retryAfterSeconds: number,
    details: Record<string, unknown> = {},
  ) {
    super(message, { retryAfterSeconds, ...details });
  }
}

/**
 * A GraphQL request that asked for more than it may: refused when priced, or stopped while it
 * runs once it has resolved more objects than its price (a pricing bug must not run a request out of memory).
 */
export class QueryTooComplexError extends ServiceError {
  readonly code = 'QUERY_TOO_COMPLEX' as const;
  readonly status = 400;
}

/** An answer heavier than the response size cap (GRAPHQL_MAX_RESPONSE_BYTES). */
export class ResponseTooLargeError extends ServiceError {
  readonly code = 'RESPONSE_TOO_LARGE' as const;
  readonly status = 400;
  constructor(what: string, maximum: number, advice: string) {
    super(`${what} is larger than ${maximum} bytes; ${advice}`, { maximum });
  }
}

/** The client closed the connection: its request's work stops; nobody reads the answer (nginx's 499). */
export class ClientGoneError extends ServiceError {
  readonly code = 'CLIENT_CLOSED_REQUEST' as const;
  readonly status = 499;
  constructor() {
    super('the client closed the connection');
  }
}
