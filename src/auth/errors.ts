import { CodedError } from '../coded-error';

/**
 * No credential, or one that is not (or no longer) valid. Every such failure is this one error: a
 * caller cannot tell an unknown key from another workspace's. Answered 401 (src/edge/failures.ts).
 */
export class UnauthenticatedError extends CodedError {
  readonly code = 'UNAUTHENTICATED' as const;
}
