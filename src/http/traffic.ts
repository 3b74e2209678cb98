// Fair share between clients: a budget of points per credential and of requests per client
// address (rate-limiter-flexible, in memory, or in Redis when REDIS_URL is set so that every
// server process spends from one budget), and a cap on one credential's requests in flight.
import { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { TrafficLimits } from '../config';
import { RateLimitedError } from '../domain/errors';

/** What a credential has left, sent back in the X-RateLimit-* headers (GitHub's convention). */
export interface Budget {
  limit: number;
  remaining: number;
  used: number;
  /** When the window resets. */
  resetAt: Date;
}

/** Points a GraphQL request costs: 1, plus 1 per 1,000 nodes it could return. */
export const pointsForCost = (cost: number): number => 1 + Math.floor(cost / 1000);

function limiter(traffic: TrafficLimits, redis: Redis | null, prefix: string, points: number): RateLimiterAbstract {
  const options = { keyPrefix: prefix, points, duration: traffic.windowSeconds };
  const memory = new RateLimiterMemory(options);
  // When Redis fails, each process keeps limiting on its own until it is back.
  return redis ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: memory }) : memory;
}

function retryAfterSeconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

export class RateLimits {
  private readonly credentials: RateLimiterAbstract;
  private readonly addresses: RateLimiterAbstract;

  constructor(
    private readonly traffic: TrafficLimits,
    readonly redis: Redis | null,
    prefix = 'kauth',
  ) {
    this.credentials = limiter(traffic, redis, `${prefix}:rl:credential`, traffic.pointsPerWindow);
    this.addresses = limiter(traffic, redis, `${prefix}:rl:address`, traffic.requestsPerAddress);
  }

  /** Spends `points` of a credential's budget; RateLimitedError when it does not have them. */
  async charge(credential: string, points: number): Promise<Budget> {
    const limit = this.traffic.pointsPerWindow;
    try {
      const res = await this.credentials.consume(credential, points);
      return { limit, remaining: res.remainingPoints, used: res.consumedPoints, resetAt: new Date(Date.now() + res.msBeforeNext) };
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = retryAfterSeconds(rejection);
      throw new RateLimitedError(
        `rate limit exceeded: this request costs ${points} points and the credential has ${Math.max(0, limit - (rejection.consumedPoints - points))} of ${limit} left in this ${this.traffic.windowSeconds} s window; retry in ${retryAfter} s`,
        retryAfter,
        { reason: 'rate', cost: points, limit, remaining: 0, resetAt: new Date(Date.now() + rejection.msBeforeNext).toISOString() },
      );
    }
  }

  /** Counts one request of a client address, before it is authenticated. */
  async chargeAddress(address: string): Promise<void> {
    try {
      await this.addresses.consume(address, 1);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = retryAfterSeconds(rejection);
      throw new RateLimitedError(`too many requests from this address; retry in ${retryAfter} s`, retryAfter, { reason: 'address' });
    }
  }
}

/** A Redis client that fails fast instead of queueing commands while disconnected. */
export function connectRedis(url: string): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1000 });
  redis.on('error', () => undefined); // reconnects by itself; meanwhile the in-memory limiter stands in
  return redis;
}

/**
 * At most `max` requests of one credential run at once in this process; the next ones wait up
 * to `waitMs` for a slot, then get 429. Per process on purpose: what it shares out is this
 * process's event loop and pool, so N processes serve a key N times as many at once.
 */
export class CredentialGate {
  private readonly running = new Map<string, number>();
  private readonly queues = new Map<string, (() => void)[]>();

  constructor(
    private readonly max: number,
    private readonly waitMs: number,
  ) {}

  /** Resolves with the function that frees the slot (safe to call more than once). */
  async enter(credential: string): Promise<() => void> {
    const running = this.running.get(credential) ?? 0;
    if (running < this.max) this.running.set(credential, running + 1);
    else await this.waitForSlot(credential); // a leaving request hands its slot over
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      this.leave(credential);
    };
  }

  inFlight(credential: string): number {
    return this.running.get(credential) ?? 0;
  }

  private waitForSlot(credential: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(credential) ?? [];
      this.queues.set(credential, queue);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        queue.splice(queue.indexOf(wake), 1);
        if (queue.length === 0) this.queues.delete(credential);
        reject(
          new RateLimitedError(
            `too many concurrent requests for this credential (at most ${this.max} at once); retry in 1 s`,
            1,
            { reason: 'concurrency', maxConcurrent: this.max },
          ),
        );
      }, this.waitMs);
      queue.push(wake);
    });
  }

  private leave(credential: string): void {
    const queue = this.queues.get(credential);
    const next = queue?.shift();
    if (queue && queue.length === 0) this.queues.delete(credential);
    if (next) return next(); // the slot passes to the next waiter: the count stays
    const running = (this.running.get(credential) ?? 1) - 1;
    if (running === 0) this.running.delete(credential);
    else this.running.set(credential, running);
  }
}
