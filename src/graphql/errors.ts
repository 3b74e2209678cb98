// Maps errors to GraphQL responses once: domain errors get their stable `extensions.code`
// (and details such as `field` or `requiredScopes`); anything unexpected is logged and masked.
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import { isDatabaseUnavailable, workScope } from '../db';
import { ClientGoneError, DomainError, UnavailableError } from '../domain/errors';

export interface ErrorLogger {
  error(obj: object, msg: string): void;
}

const KNOWN_APOLLO_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
  // Refusals of ./limits.ts, made before anything runs.
  'QUERY_TOO_COMPLEX',
  'QUERY_TOO_DEEP',
  'TOO_MANY_ALIASES',
  'TOO_MANY_DIRECTIVES',
  'TOO_MANY_OPERATIONS',
  'RATE_LIMITED',
]);

// graphql 16 spells it "more that".
const TOO_MANY_TOKENS = /Document contains more tha[nt] (\d+) tokens/;

const asFormatted = (formatted: GraphQLFormattedError, error: DomainError): GraphQLFormattedError => ({
  ...formatted,
  message: error.message,
  extensions: { code: error.code, ...error.details },
});

export function formatGraphQLError(logger: ErrorLogger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    // A stopped request (deadline, client gone) fails wherever it is; that is not a bug.
    const stopped = workScope.getStore()?.signal;
    if (stopped?.aborted) {
      const reason = stopped.reason;
      if (reason instanceof DomainError) return asFormatted(formatted, reason);
      if (reason instanceof ClientGoneError) return { message: reason.message, extensions: { code: 'CLIENT_CLOSED_REQUEST' } };
    }
    if (original instanceof DomainError) return asFormatted(formatted, original);
    if (isDatabaseUnavailable(original)) {
      logger.error({ err: original, path: formatted.path }, 'database unavailable while executing GraphQL');
      return asFormatted({ path: formatted.path, locations: formatted.locations, message: '' }, new UnavailableError());
    }
    // Apollo recodes every validation error GRAPHQL_VALIDATION_FAILED; a limit's own code is more useful.
    const ownCode = ((error as GraphQLError).originalError as GraphQLError | undefined)?.extensions?.code;
    if (formatted.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' && typeof ownCode === 'string' && KNOWN_APOLLO_CODES.has(ownCode)) {
      const { stacktrace: _, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions: { ...extensions, code: ownCode } };
    }
    const tokens = TOO_MANY_TOKENS.exec(formatted.message);
    if (tokens && formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED') {
      return { message: `the query has more than ${tokens[1]} tokens; send a smaller document`, extensions: { code: 'TOO_MANY_TOKENS', maximum: Number(tokens[1]) } };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && KNOWN_APOLLO_CODES.has(code)) {
      const { stacktrace: _, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    logger.error({ err: original, path: formatted.path }, 'internal error while executing GraphQL');
    return { message: 'Internal server error', path: formatted.path, locations: formatted.locations, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
