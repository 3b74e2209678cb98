// Suites that need a service this machine may lack: PostgreSQL (this run's database, made by
// global-setup) or the Redis the tests share budgets through. With the service, the suite is
// declared as usual. Without it, the suite is a skipped test named for what is missing, and a line
// on stderr says so; under CI=true (or KAUTH_TEST_REQUIRE_POSTGRES=1) it is a failing test
// instead: a CI run must not pass by skipping what it was meant to check.
import { ADMIN_URL } from './postgres';
import { REDIS_URL } from './redis';

export type Service = 'PostgreSQL' | 'Redis';

/** Whether a missing service fails the run rather than skipping what needs it. */
export function servicesRequired(): boolean {
  return process.env.CI === 'true' || process.env.KAUTH_TEST_REQUIRE_POSTGRES === '1';
}

/** This run's PostgreSQL database, or null when global-setup found the server unreachable. */
export function postgresUrl(): string | null {
  return process.env.KAUTH_TEST_POSTGRES_URL || null;
}

/** The Redis the tests share, or null when global-setup found it unreachable. */
export function redisUrl(): string | null {
  return process.env.KAUTH_TEST_REDIS_URL || null;
}

const WHERE: Record<Service, () => string> = { PostgreSQL: () => ADMIN_URL, Redis: () => REDIS_URL };
const REACHED: Record<Service, () => string | null> = { PostgreSQL: postgresUrl, Redis: redisUrl };

/** What of `services` this run lacks, said in a sentence, or null when it has them all. */
export function missing(services: Service[]): string | null {
  const absent = services.filter((service) => REACHED[service]() === null);
  if (absent.length === 0) return null;
  return `${absent.map((service) => `${service} (${WHERE[service]()})`).join(' and ')} unreachable`;
}

/**
 * Declares `suite` as `describe(name, suite)` when this run has every one of `services`. Without
 * one: a skipped test that names it (and a line on stderr), or, when services are required, a
 * failing one. `why` says, where it is not obvious, why the suite cannot do without them.
 */
export function describeNeeding(services: Service[], name: string, suite: () => void, why?: string): void {
  const absent = missing(services);
  if (absent === null) {
    describe(name, suite);
    return;
  }
  const reason = why ? `${absent}: ${why}` : absent;
  if (servicesRequired()) {
    describe(name, () => {
      it(`cannot run: ${reason}`, () => {
        throw new Error(`${name} cannot run (${reason}), and under CI=true (or KAUTH_TEST_REQUIRE_POSTGRES=1) a suite may not be skipped`);
      });
    });
    return;
  }
  process.stderr.write(`*** skipped: ${name}: ${reason} ***\n`);
  describe.skip(`${name} [skipped: ${absent}]`, () => {
    it(`is skipped: ${reason}`, () => undefined);
  });
}

/** Declares `suite` on PostgreSQL: see describeNeeding. */
export function describeOnPostgres(name: string, suite: () => void, why?: string): void {
  describeNeeding(['PostgreSQL'], name, suite, why);
}
