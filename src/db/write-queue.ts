// Writes to one workspace take turns here, in memory, before they ask the pool for a connection.
// A workspace's writes serialise in the database anyway (its tree lock and its audit sequence
// row), so letting a burst of them each hold a pooled connection while they wait for one another
// only starves the pool: reads and other workspaces' writes then wait for connections, and the
// writes past the pool's size time out as if the database were down. In the queue a waiting write
// costs nothing but memory; the database's locks still order the writers of other processes.
// Two at a time (the default) keep the database busy while the other commits: measured with
// `npm run bench:burst`, 500 writes took 1.5-1.8 × one write's time one at a time, 1.0-1.15 × two at
// a time, and three at a time slowed other workspaces' reads.
import { AsyncLocalStorage } from 'node:async_hooks';
import { workScope } from './work-scope';

/** A write waited longer than the queue allows for its turn: refused, nothing written. */
export class WriteQueueTimeoutError extends Error {
  constructor(
    readonly waitedMs: number,
    /** Seconds after which the writes ahead of it should be done, at the recent pace. */
    readonly retryAfterSeconds: number,
  ) {
    super(`the workspace's writes are queued deeper than ${waitedMs} ms; retry in ${retryAfterSeconds} s`);
  }
}

interface Waiter {
  start(): void;
  fail(error: unknown): void;
}

interface Line {
  running: number;
  waiting: Waiter[];
}

/** The keys whose turn the current async context holds: a write made inside one runs at once. */
const heldTurns = new AsyncLocalStorage<ReadonlySet<string | number>>();

export class WriteQueue {
  private readonly lines = new Map<string | number, Line>();
  /** Moving average of a turn's duration, for Retry-After. */
  private averageTurnMs = 5;

  constructor(
    /** Longest a write may wait for its turn before WriteQueueTimeoutError. */
    private readonly maxWaitMs: number,
    /** Writes of one key running at once (each holds a connection). */
    readonly concurrency = 1,
  ) {}

  /**
   * Runs `work` when its turn comes: at most `concurrency` writes of `key` run at once, the others
   * wait in the order they came. A write whose request stops (deadline, client gone) while it
   * waits leaves the queue with that reason.
   */
  async run<T>(key: string | number, work: () => Promise<T>): Promise<T> {
    const held = heldTurns.getStore();
    if (held?.has(key)) return work();
    await this.turn(key);
    const started = performance.now();
    try {
      return await heldTurns.run(new Set([...(held ?? []), key]), work);
    } finally {
      this.averageTurnMs = 0.9 * this.averageTurnMs + 0.1 * (performance.now() - started);
      this.next(key);
    }
  }

  /** Writes of `key` running or waiting (0 when idle). */
  depth(key: string | number): number {
    const line = this.lines.get(key);
    return line ? line.waiting.length + line.running : 0;
  }

  private turn(key: string | number): Promise<void> {
    const line = this.lines.get(key) ?? { running: 0, waiting: [] };
    this.lines.set(key, line);
    if (line.running < this.concurrency) {
      line.running += 1;
      return Promise.resolve();
    }
    const signal = workScope.getStore()?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = line.waiting.indexOf(waiter);
        if (at >= 0) line.waiting.splice(at, 1);
      };
      const waiter: Waiter = {
        start: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        fail: (error) => {
          leave();
          reject(error);
        },
      };
      const onAbort = () => waiter.fail(signal!.reason);
      const timer = setTimeout(() => {
        const ahead = line.waiting.indexOf(waiter) + 1;
        const aheadMs = (ahead * this.averageTurnMs) / this.concurrency;
        waiter.fail(new WriteQueueTimeoutError(this.maxWaitMs, Math.max(1, Math.ceil(aheadMs / 1000))));
      }, this.maxWaitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      line.waiting.push(waiter);
    });
  }

  /** Hands the turn to the next waiter of `key`, or frees the line. */
  private next(key: string | number): void {
    const line = this.lines.get(key)!;
    const waiter = line.waiting.shift();
    if (waiter) return waiter.start();
    line.running -= 1;
    if (line.running === 0) this.lines.delete(key);
  }
}

const queues = new WeakMap<object, WriteQueue>();

export function registerWriteQueue(prisma: object, queue: WriteQueue): void {
  queues.set(prisma, queue);
}

/** The write queue of a client opened by openDatabase; null for any other client. */
export function writeQueueOf(prisma: object): WriteQueue | null {
  return queues.get(prisma) ?? null;
}
