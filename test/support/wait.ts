// Waiting in tests: the one place tests wait. A test waits for the event it expects (waitFor
// polls for it, with a bound generous enough for a busy machine), never for a fixed time after
// which it assumes the event has happened; to show that something did not happen, it waits for a
// later event that must happen, and checks the unwanted one did not come first. `sleep` is for a
// time that must have passed where nothing shows it passing (a timer inside a library), and for
// the pace of a loop.
import { setTimeout as delay } from 'node:timers/promises';

/** How long a test waits for something that must happen before it gives up (a busy machine is slow, not broken). */
export const PATIENCE_MS = 30_000;

/**
 * Resolves after at least `ms`: for a time that must have passed, not for something to have happened.
 * `ref: false` does not keep the process alive meanwhile (a bound on clean-up must not hold a worker).
 */
export const sleep = (ms: number, options: { ref?: boolean } = {}): Promise<void> => delay(ms, undefined, options);

/**
 * Polls `probe` every `everyMs` until it returns something other than undefined or false, and
 * resolves with it; fails with `what` after `ms`. A probe that throws fails the wait at once.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  ms = PATIENCE_MS,
  everyMs = 20,
): Promise<Exclude<T, false>> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as Exclude<T, false>;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
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
