// The unit of work a statement belongs to (one HTTP request), carried through async calls.
// Past its deadline, or once its client has gone, no further statement starts: every
// statement Prisma sends passes `throwIfStopped` in the driver adapter (statement-counter.ts).
import { AsyncLocalStorage } from 'node:async_hooks';

export interface WorkScope {
  readonly signal: AbortSignal;
  /** Throws why the work was stopped, if it was (and notices a deadline its timer has not reached yet). */
  check(): void;
}

export const workScope = new AsyncLocalStorage<WorkScope>();

/** Throws the reason the current unit of work was stopped, if it was. */
export function throwIfStopped(): void {
  workScope.getStore()?.check();
}
