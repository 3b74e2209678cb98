// Fair share between clients: a budget of points per credential and of requests per client
// address (rate-limiter-flexible, in memory, or in Redis when REDIS_URL is set so that every
// server process spends from one budget), and a cap on one credential's requests in flight.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { TrafficLimits } from '../config';
import { RateLimitedError } from './errors';

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

  /** Resolves with the function that frees the slot (safe to call more than once); waits up to `waitMs` (default: the gate's). */
  async enter(credential: string, waitMs = this.waitMs): Promise<() => void> {
    const running = this.running.get(credential) ?? 0;
    if (running < this.max) this.running.set(credential, running + 1);
    else await this.waitForSlot(credential, waitMs); // a leaving request hands its slot over
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

  private waitForSlot(credential: string, waitMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(credential) ?? [];
      this.queues.set(credential, queue);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = !Number.isFinite(waitMs) ? undefined : setTimeout(() => {
        queue.splice(queue.indexOf(wake), 1);
        if (queue.length === 0) this.queues.delete(credential);
        reject(
          new RateLimitedError(
            `too many concurrent requests for this credential (at most ${this.max} at once); retry in 1 s`,
            1,
            { reason: 'concurrency', maxConcurrent: this.max },
          ),
        );
      }, waitMs);
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

/** A slot's entry lives this long in Redis unless its process renews it: what a crashed process holds is freed by then. */
const SLOT_TTL_MS = 30_000;
const SLOT_RENEW_MS = 10_000;

// Drops lapsed entries, then adds this one if fewer than the cap are held: one atomic step.
const TAKE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

/**
 * How many subscriptions one credential holds open, against a cap: in Redis when REDIS_URL is set
 * (one count for every server process: each slot is an entry that its process renews), else in
 * this process. When Redis fails, this process counts on its own until it is back, like RateLimits.
 */
export class SubscriptionSlots {
  private readonly local = new Map<string, number>();
  /** Slots this process holds in Redis: key → members. */
  private readonly held = new Map<string, Set<string>>();
  private readonly instance = randomUUID();
  private sequence = 0;
  private readonly renewal: NodeJS.Timeout | null;

  constructor(
    private readonly max: number,
    private readonly redis: Redis | null,
    private readonly prefix = 'kauth',
  ) {
    this.renewal = redis ? setInterval(() => void this.renew(), SLOT_RENEW_MS).unref() : null;
  }

  /** Takes a slot for `credential`: resolves with the function that frees it (safe to call twice), or throws RateLimitedError at the cap. */
  async take(credential: string): Promise<() => void> {
    const key = `${this.prefix}:subs:${credential}`;
    const member = `${this.instance}:${(this.sequence += 1)}`;
    let inRedis = false;
    if (this.redis) {
      try {
        const now = Date.now();
        inRedis = true;
        const taken = await this.redis.eval(TAKE_SLOT, 1, key, now, this.max, now + SLOT_TTL_MS, member, SLOT_TTL_MS);
        if (taken !== 1) throw this.full();
        const members = this.held.get(key) ?? new Set();
        this.held.set(key, members.add(member));
      } catch (error) {
        if (error instanceof RateLimitedError) throw error;
        inRedis = false; // Redis is away: count here
      }
    }
    if (!inRedis) {
      const count = this.local.get(credential) ?? 0;
      if (count >= this.max) throw this.full();
      this.local.set(credential, count + 1);
    }
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      if (inRedis) {
        this.held.get(key)?.delete(member);
        if (this.held.get(key)?.size === 0) this.held.delete(key);
        this.redis!.zrem(key, member).catch(() => undefined); // lapses by itself otherwise
        return;
      }
      const count = (this.local.get(credential) ?? 1) - 1;
      if (count <= 0) this.local.delete(credential);
      else this.local.set(credential, count);
    };
  }

  stop(): void {
    if (this.renewal) clearInterval(this.renewal);
  }

  private full(): RateLimitedError {
    return new RateLimitedError(
      `this credential holds ${this.max} open subscriptions, the most it may; complete one before starting another`,
      5,
      { reason: 'subscriptions', maximum: this.max },
    );
  }

  private async renew(): Promise<void> {
    const expires = Date.now() + SLOT_TTL_MS;
    const pipeline = this.redis!.pipeline();
    for (const [key, members] of this.held) {
      for (const member of members) pipeline.zadd(key, 'XX', expires, member);
      pipeline.pexpire(key, SLOT_TTL_MS);
    }
    await pipeline.exec().catch(() => undefined);
  }
}
