// Waiting in tests. A test waits for the event it expects (polled, with a bound generous enough
// for a busy machine), never for a fixed time after which it assumes the event has happened.
// `sleep` is only for a lower bound on elapsed time: a deadline that must have passed, or two
// timestamps that must differ.

/** How long a test waits for something that must happen before it gives up (a busy machine is slow, not broken). */
export const PATIENCE_MS = 30_000;

/** Resolves after at least `ms`: for a time that must have passed, not for something to have happened. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns something other than undefined or false, and resolves with it;
 * fails with `what` after `ms`.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  ms = PATIENCE_MS,
): Promise<Exclude<T, false>> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as Exclude<T, false>;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * For what can only be seen once something not observable is ready (a subscription registered on
 * the server, a page's socket open): `attempt` makes something happen and waits up to `patienceMs`
 * to see it, resolving true if it did. Attempts are repeated with twice the patience each time
 * (0.5 s, 1 s, 2 s… at most 8 s) until one succeeds; fails with `what` after `ms` in all.
 */
export async function untilSeen(what: string, attempt: (round: number, patienceMs: number) => Promise<boolean>, ms = PATIENCE_MS): Promise<void> {
  const until = Date.now() + ms;
  for (let round = 0; ; round += 1) {
    if (await attempt(round, Math.min(500 * 2 ** round, 8000))) return;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms: ${what}`);
  }
}
