// GraphQL's shape of a failure, rendered here only: a known error gets its stable
// `extensions.code` (and details such as `field` or `requiredScopes`); anything unexpected is
// logged and masked. The HTTP status of a refused request is the edge's (src/edge/failures.ts).
import { unwrapResolverError } from '@apollo/server/errors';
import type { FastifyError } from 'fastify';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { CodedError } from '../coded-error';
import { workScope } from '../db';
import { ServiceError } from '../edge/errors';
import { type KnownError, type RenderFailure, httpAnswer, isKnown, knownError } from '../edge/failures';

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
  // Refusals of ./limits.ts and ./operations.ts, made before anything runs.
  'QUERY_TOO_COMPLEX',
  'QUERY_TOO_DEEP',
  'TOO_MANY_ALIASES',
  'TOO_MANY_DIRECTIVES',
  'OPERATION_NAME_REQUIRED',
  'OPERATION_NOT_FOUND',
  'INTROSPECTION_DISABLED',
  'RATE_LIMITED',
]);

// graphql 16 spells it "more that".
const TOO_MANY_TOKENS = /Document contains more tha[nt] (\d+) tokens/;

export const INTROSPECTION_DISABLED_MESSAGE = 'introspection is turned off on this server; set GRAPHQL_INTROSPECTION=1 to turn it on';

/** GET /schema.graphql while introspection is off: the schema is not there to be read. */
export class IntrospectionDisabledError extends ServiceError {
  readonly code = 'INTROSPECTION_DISABLED' as const;
  readonly status = 404;
  constructor() {
    super(INTROSPECTION_DISABLED_MESSAGE);
  }
}

/** One error entry of a GraphQL response. */
export const errorEntry = (error: CodedError): GraphQLFormattedError => ({ message: error.message, extensions: { code: error.code, ...error.details } });

const asFormatted = (formatted: GraphQLFormattedError, error: CodedError): GraphQLFormattedError => ({ ...formatted, ...errorEntry(error) });

/** A request refused before it runs: its entry, with the status and headers Apollo answers it with. */
export function refusal(error: KnownError): GraphQLError {
  const { status, headers } = httpAnswer(error);
  return new GraphQLError(error.message, { originalError: error, extensions: { code: error.code, ...error.details, http: { status, headers: new Map(Object.entries(headers)) } } });
}

/** GraphQL's body for a request refused before Apollo saw it (src/edge/failures.ts RenderFailure): credential, limits, input bounds, a body that does not parse. */
export const graphqlFailure: RenderFailure = (error: KnownError | FastifyError | null) => {
  if (!error) return { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
  if (isKnown(error)) return { errors: [errorEntry(error)] };
  return { errors: [{ message: error.message, extensions: { code: 'BAD_REQUEST' } }] };
};

export function formatGraphQLError(logger: ErrorLogger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    // A field's or a subscription's own failure (a list too long, a subscriber too slow).
    if (original instanceof CodedError && !isKnown(original)) return asFormatted(formatted, original);
    // A stopped request (deadline, client gone) fails wherever it is, with the reason it was stopped: that is not a bug.
    const known = knownError(original, workScope.getStore());
    if (known) {
      if (known.code === 'UNAVAILABLE' && known !== original) logger.error({ err: original, path: formatted.path }, 'database unavailable while executing GraphQL');
      return asFormatted({ path: formatted.path, locations: formatted.locations, message: '' }, known);
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
