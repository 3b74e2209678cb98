// Each request's unit of work: its deadline, its client's disconnect, and what the log line
// and the rate-limit headers report about it. Past the deadline or once the client is gone,
// the signal is aborted: no further statement starts (src/db/work-scope.ts) and no further
// GraphQL field resolves (src/graphql/scope-directive.ts).
import type { FastifyInstance } from 'fastify';
import { workScope } from '../db';
import { ClientGoneError, QueryTooComplexError, TimeoutError } from './errors';
import type { Budget } from './traffic';

declare module 'fastify' {
  interface FastifyRequest {
    work: RequestWork;
  }
}

export class RequestWork {
  /** How long GraphQL execution may hold the event loop before it lets I/O (a disconnect) in; tests set 0 (every field). */
  static yieldEveryMs = 20;

  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly releases: (() => void)[] = [];
  readonly startedAt = performance.now();
  /** Who is charged: `key:<id>` or `jwt:<tenant>:<subject>`; null before authentication. */
  credential: string | null = null;
  /** GraphQL operation name as the client sent it (logs only), and its top-level field (metrics). */
  operationName: string | null = null;
  operationField: string | null = null;
  cost: number | null = null;
  budget: Budget | null = null;
  /** Objects GraphQL fields have resolved so far, and how many the request may resolve (its price). */
  objects = 0;
  objectBudget = Number.POSITIVE_INFINITY;
  private lastYield = performance.now();
  /** Fields of this work waiting for the event loop's next turn (nextTurn). */
  private yielding = 0;

  constructor(readonly deadlineMs: number) {
    this.timer = setTimeout(() => this.stop(new TimeoutError(deadlineMs)), deadlineMs).unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get timedOut(): boolean {
    return this.signal.reason instanceof TimeoutError;
  }

  /** Throws the reason the work was stopped, if it was. */
  check(): void {
    // Work that never yields to the event loop (the embedded database answers in-process) would
    // starve the timer: the clock is read here too.
    if (!this.signal.aborted && this.elapsedMs() > this.deadlineMs) this.stop(new TimeoutError(this.deadlineMs));
    if (this.signal.aborted) throw this.signal.reason;
  }

  /**
   * Counts objects a field resolved. Past the budget the request is stopped: its price was wrong,
   * and what it has built so far is discarded rather than grown until the process runs out of memory.
   */
  countObjects(count: number): void {
    this.objects += count;
    if (this.objects > this.objectBudget && !this.signal.aborted) {
      this.stop(
        new QueryTooComplexError(
          `the query resolved more than the ${this.objectBudget} objects it was priced at and was stopped; ask for smaller pages or fewer nested lists`,
          { maximum: this.objectBudget, objects: this.objects },
        ),
      );
    }
  }

  /**
   * True when the work has run `yieldEveryMs` without letting the event loop turn. Resolvers
   * whose data is at hand chain promises without end, and a client's disconnect (an I/O event)
   * is only heard between turns.
   */
  yieldDue(): boolean {
    const now = performance.now();
    if (now - this.lastYield < RequestWork.yieldEveryMs) return false;
    this.lastYield = now;
    return true;
  }

  /** Resolves on the event loop's next turn (after I/O), counted so that batches wait for it (whenSettled). */
  nextTurn(): Promise<void> {
    this.yielding += 1;
    return new Promise((resolve) =>
      setImmediate(() => {
        this.yielding -= 1;
        resolve();
      }),
    );
  }

  /**
   * Runs `dispatch` as DataLoader would (once the promises of this tick have run), and not before
   * every field of this work waiting for its turn has had it: the loads a field makes after its
   * turn join the same batch as its siblings', so yielding never adds a statement.
   */
  whenSettled(dispatch: () => void): void {
    const run = () => (this.yielding > 0 ? setImmediate(run) : dispatch());
    void Promise.resolve().then(() => process.nextTick(run));
  }

  stop(reason: Error): void {
    if (!this.signal.aborted) this.controller.abort(reason);
  }

  /** Runs `release` when the request ends, however it ends. */
  onEnd(release: () => void): void {
    this.releases.push(release);
  }

  end(): void {
    clearTimeout(this.timer);
    this.releases.splice(0).forEach((release) => release());
  }

  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }
}

export function trackRequestWork(app: FastifyInstance, deadlineMs: number): void {
  app.decorateRequest('work', null as unknown as RequestWork);
  app.addHook('onRequest', (request, reply, done) => {
    const work = new RequestWork(deadlineMs);
    request.work = work;
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) work.stop(new ClientGoneError());
      work.end();
    });
    done();
  });
  // Entered after body parsing (whose stream callbacks would lose it): the handler and
  // everything it awaits run inside the request's work scope.
  app.addHook('preHandler', (request, _reply, done) => {
    workScope.run(request.work, done);
  });
}
