// Counts every SQL statement Prisma sends through a driver adapter, so tests and
// benchmarks can show that a response's statement count does not grow with its size.
// It is also where a stopped request (deadline, client gone) is kept from starting more.
import type {
  SqlDriverAdapter,
  SqlDriverAdapterFactory,
  Transaction,
} from '@prisma/driver-adapter-utils';
import { throwIfStopped } from './work-scope';

/**
 * Called with each statement's SQL, the milliseconds it took and its parameters (benchmarks'
 * profiles; tests that EXPLAIN a statement as the service sent it).
 */
export type StatementTrace = (sql: string, ms: number, params: readonly unknown[]) => void;

export class StatementCounter {
  private count = 0;
  /** Set by a profile (bench/write-profile.ts): each statement is then timed and reported. */
  trace: StatementTrace | null = null;
  record(): void {
    this.count += 1;
  }
  get total(): number {
    return this.count;
  }
}

const COUNTED = new Set(['queryRaw', 'executeRaw']);
// Prisma ends transactions with these through executeRaw: they must run even for a stopped
// request, or a connection would go back to the pool inside an open transaction.
const ENDS_TRANSACTION = new Set(['COMMIT', 'ROLLBACK']);

function countCalls<T extends object>(target: T, counter: StatementCounter): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      if (COUNTED.has(String(prop))) {
        return (...args: unknown[]) => {
          if (!ENDS_TRANSACTION.has((args[0] as { sql?: string })?.sql ?? '')) throwIfStopped();
          counter.record();
          const trace = counter.trace;
          if (!trace) return value.apply(obj, args);
          const started = performance.now();
          const query = args[0] as { sql?: string; args?: unknown[] } | undefined;
          const sql = query?.sql ?? String(prop);
          const report = () => trace(sql, performance.now() - started, query?.args ?? []);
          return (value.apply(obj, args) as Promise<unknown>).finally(report);
        };
      }
      if (prop === 'startTransaction') {
        return async (...args: unknown[]) => {
          throwIfStopped();
          const started = performance.now();
          const transaction = (await value.apply(obj, args)) as Transaction;
          counter.trace?.('BEGIN (start of a transaction)', performance.now() - started, []);
          return countCalls(transaction, counter);
        };
      }
      return value.bind(obj);
    },
  });
}

export function countingAdapter(factory: SqlDriverAdapterFactory, counter: StatementCounter): SqlDriverAdapterFactory {
  return new Proxy(factory, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (prop === 'connect') {
        return async () => countCalls((await (value as () => Promise<SqlDriverAdapter>).call(obj)), counter);
      }
      return typeof value === 'function' ? value.bind(obj) : value;
    },
  });
}
