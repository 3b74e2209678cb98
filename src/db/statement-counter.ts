// Counts every SQL statement Prisma sends through a driver adapter, so tests and
// benchmarks can show that a response's statement count does not grow with its size.
import type {
  SqlDriverAdapter,
  SqlDriverAdapterFactory,
  Transaction,
} from '@prisma/driver-adapter-utils';

export class StatementCounter {
  private count = 0;
  record(): void {
    this.count += 1;
  }
  get total(): number {
    return this.count;
  }
}

const COUNTED = new Set(['queryRaw', 'executeRaw']);

function countCalls<T extends object>(target: T, counter: StatementCounter): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      if (COUNTED.has(String(prop))) {
        return (...args: unknown[]) => {
          counter.record();
          return value.apply(obj, args);
        };
      }
      if (prop === 'startTransaction') {
        return async (...args: unknown[]) =>
          countCalls((await value.apply(obj, args)) as Transaction, counter);
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
