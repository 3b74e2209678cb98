// Live delivery of the audit trail to this process's subscribers. A write's NOTIFY (sent by
// recordEvents in the write's own transaction, so only once it commits) says "workspace T has
// events up to N"; every process LISTENs, and the hub then reads the workspace's new events
// with the same "seq > last delivered" query a poller uses. Since sequence numbers are in commit
// order (src/domain/audit.ts), that query never skips an event, whichever process wrote it and
// however notifications are coalesced or lost: a timer re-reads every `sweepMs` as a safety net.
//
// Each subscriber has a bounded queue. One that falls `queueLimit` events behind (a client that
// stops reading: the WebSocket transport only pulls the next event once the previous one has been
// written to the socket) is ended with a SLOW_SUBSCRIBER error naming the cursor to resume from,
// rather than buffered without limit.
import { CodedError } from '../coded-error';
import type { Listen } from '../db';
import { AUDIT_CHANNEL, type AuditEvent, encodeCursor, eventsAfter, latestSeq } from '../domain/audit';
import type { Db } from '../domain/context';

export interface HubOptions {
  /** Events a subscriber may fall behind before it is ended. */
  queueLimit: number;
  /** How long the hub waits for subscribers to make room before handing out more (a burst). */
  graceMs: number;
  /** Re-read every workspace with subscribers this often, in case a notification was lost. */
  sweepMs: number;
}

export const DEFAULT_HUB_OPTIONS: HubOptions = { queueLimit: 1000, graceMs: 2000, sweepMs: 5000 };

const READ_BATCH = 500;

/** A subscriber that fell too far behind: ended, with the cursor to read what it missed from. */
export class SlowSubscriberError extends CodedError {
  readonly code = 'SLOW_SUBSCRIBER' as const;
  constructor(limit: number, resumeAfter: bigint) {
    super(
      `this subscription fell more than ${limit} events behind and was ended; read what it missed with auditEvents(after: "${encodeCursor(resumeAfter)}") and subscribe again`,
      { resumeAfter: encodeCursor(resumeAfter) },
    );
  }
}

/** What a subscriber is handed: the next event, or the reason it was ended. */
export type Delivery = { event: AuditEvent } | { end: Error };

/** Whether a subscriber wants an event; an Error ends the subscriber with it (a revoked key). */
export type Accepts = (event: AuditEvent) => boolean | Error;

interface Subscriber {
  tenantId: number;
  accepts: Accepts;
  queue: Delivery[];
  waiting: ((value: IteratorResult<Delivery>) => void) | null;
  /** The last event handed to (or skipped for) this subscriber. */
  lastSeq: bigint;
  ended: boolean;
}

interface Workspace {
  subscribers: Set<Subscriber>;
  delivered: bigint;
  pumping: Promise<void> | null;
  again: boolean;
}

export class ChangeHub {
  private readonly workspaces = new Map<number, Workspace>();
  private stopListening: (() => Promise<void>) | null = null;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly options: HubOptions = DEFAULT_HUB_OPTIONS,
  ) {}

  /** Starts listening for other processes' (and this one's) commits. */
  async start(listen: Listen | null): Promise<void> {
    if (listen) {
      this.stopListening = await listen(AUDIT_CHANNEL, (payload) => this.notified(payload), () => this.sweep());
    }
    this.sweeper = setInterval(() => this.sweep(), listen ? this.options.sweepMs : Math.min(this.options.sweepMs, 1000));
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    // The database may already be closed (onClose hooks of the app and of main.ts): nothing to undo then.
    await this.stopListening?.().catch(() => undefined);
    for (const workspace of this.workspaces.values()) {
      for (const subscriber of workspace.subscribers) this.end(subscriber, null);
    }
    this.workspaces.clear();
  }


  /**
   * Every event of the workspace committed from now on that `accepts` lets through, in commit
   * order, until the iterator is returned or the subscriber is ended.
   */
  async subscribe(tenantId: number, accepts: Accepts): Promise<AsyncIterableIterator<Delivery>> {
    let workspace = this.workspaces.get(tenantId);
    if (!workspace) {
      const delivered = await latestSeq(this.db, tenantId);
      workspace = this.workspaces.get(tenantId) ?? { subscribers: new Set(), delivered, pumping: null, again: false };
      this.workspaces.set(tenantId, workspace);
    }
    const subscriber: Subscriber = { tenantId, accepts, queue: [], waiting: null, lastSeq: workspace.delivered, ended: false };
    workspace.subscribers.add(subscriber);
    const iterator: AsyncIterableIterator<Delivery> = {
      next: () => {
        const next = subscriber.queue.shift();
        if (next) return Promise.resolve({ value: next, done: false });
        if (subscriber.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          subscriber.waiting = resolve;
        });
      },
      return: () => {
        this.end(subscriber, null);
        subscriber.queue.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  private notified(payload: string): void {
    const tenantId = Number(payload.split(':')[0]);
    if (this.workspaces.has(tenantId)) this.pump(tenantId);
  }

  private sweep(): void {
    for (const tenantId of this.workspaces.keys()) this.pump(tenantId);
  }

  /** Reads and hands out the workspace's new events; one read at a time per workspace. */
  private pump(tenantId: number): void {
    const workspace = this.workspaces.get(tenantId);
    if (!workspace) return;
    if (workspace.pumping) {
      workspace.again = true;
      return;
    }
    workspace.pumping = (async () => {
      do {
        workspace.again = false;
        const batch = Math.min(READ_BATCH, this.options.queueLimit);
        for (;;) {
          const events = await eventsAfter(this.db, tenantId, workspace.delivered, batch);
          await this.roomFor(workspace, events.length);
          for (const event of events) this.deliver(workspace, event);
          if (events.length > 0) workspace.delivered = events[events.length - 1].seq;
          if (events.length < batch) break;
        }
      } while (workspace.again);
    })()
      .catch(() => undefined) // the next notification or sweep reads again from the same point
      .finally(() => {
        workspace.pumping = null;
        if (workspace.subscribers.size === 0) this.workspaces.delete(tenantId);
      });
  }

  /**
   * A burst (a backlog read in several batches) must not end subscribers that are reading: before
   * handing out a batch, wait up to `graceMs` for every queue to have room for it. Only a
   * subscriber still too far behind after that is ended, so one that stops reading delays its
   * workspace's delivery once, by the grace period.
   */
  private async roomFor(workspace: Workspace, count: number): Promise<void> {
    const crowded = () => [...workspace.subscribers].some((s) => !s.ended && s.queue.length + count > this.options.queueLimit);
    const until = Date.now() + this.options.graceMs;
    while (count > 0 && crowded() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  private deliver(workspace: Workspace, event: AuditEvent): void {
    for (const subscriber of workspace.subscribers) {
      if (subscriber.ended || event.seq <= subscriber.lastSeq) continue;
      subscriber.lastSeq = event.seq;
      const verdict = subscriber.accepts(event);
      if (verdict instanceof Error) {
        this.end(subscriber, verdict);
        continue;
      }
      if (!verdict) continue;
      if (subscriber.queue.length >= this.options.queueLimit) {
        // The client has everything before the oldest queued event: it resumes from just before it.
        const oldest = subscriber.queue[0];
        const resumeAfter = ('event' in oldest ? oldest.event.seq : event.seq) - 1n;
        this.end(subscriber, new SlowSubscriberError(this.options.queueLimit, resumeAfter));
        continue;
      }
      this.push(subscriber, { event });
    }
  }

  private push(subscriber: Subscriber, delivery: Delivery): void {
    if (subscriber.waiting) {
      const resolve = subscriber.waiting;
      subscriber.waiting = null;
      resolve({ value: delivery, done: false });
    } else {
      subscriber.queue.push(delivery);
    }
  }

  /** Ends a subscriber; with a reason, that is the last thing it is handed. */
  private end(subscriber: Subscriber, reason: Error | null): void {
    if (subscriber.ended) return;
    subscriber.ended = true;
    const workspace = this.workspaces.get(subscriber.tenantId);
    workspace?.subscribers.delete(subscriber);
    if (workspace && workspace.subscribers.size === 0 && !workspace.pumping) this.workspaces.delete(subscriber.tenantId);
    if (reason) {
      // What is queued is dropped: the client resumes from the cursor the error names.
      subscriber.queue.length = 0;
      this.push(subscriber, { end: reason });
    } else if (subscriber.waiting) {
      const resolve = subscriber.waiting;
      subscriber.waiting = null;
      resolve({ value: undefined, done: true });
    }
  }
}
