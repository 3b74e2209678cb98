/**
 * A failure a client is told about: a stable machine-readable `code`, a message and details to act
 * on. The domain's rules (src/domain/errors.ts), the service's limits and outages
 * (src/edge/errors.ts) and a credential's refusal (src/auth/errors.ts) are its kinds; anything
 * else thrown is a bug, answered as an internal error and logged.
 */
export abstract class CodedError extends Error {
  abstract readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}
