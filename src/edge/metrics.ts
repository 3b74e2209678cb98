// Prometheus metrics (prom-client), one registry per app. Labels take only values from a
// closed set (route patterns, schema field names, status codes), never client input.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStats } from '../db';

export type RefusalReason =
  | 'cost'
  | 'depth'
  | 'aliases'
  | 'tokens'
  | 'directives'
  | 'operations'
  | 'rate'
  | 'address'
  | 'concurrency'
  | 'timeout'
  | 'response_size'
  | 'input'
  | 'objects'
  | 'subscriptions'
  | 'origin';

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'kauth_http_requests_total',
    help: 'HTTP requests by route (or GraphQL operation) and status',
    labelNames: ['route', 'operation', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'kauth_http_request_duration_seconds',
    help: 'HTTP request latency by route (or GraphQL operation)',
    labelNames: ['route', 'operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly queryCost = new Histogram({
    name: 'kauth_graphql_query_cost',
    help: 'Static cost of GraphQL operations (nodes they could return)',
    buckets: [1, 10, 100, 1000, 10_000, 100_000, 500_000, 1_000_000],
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'kauth_refusals_total',
    help: 'Requests refused to protect the service, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly databaseErrors = new Counter({
    name: 'kauth_database_errors_total',
    help: 'Requests that failed because the database was unreachable or overloaded',
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'kauth_dataloader_batch_size',
    help: 'Keys per DataLoader batch, by loader',
    labelNames: ['loader'] as const,
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [this.registry],
  });

  constructor(poolStats: () => PoolStats | null) {
    collectDefaultMetrics({ register: this.registry, prefix: 'kauth_' });
    new Gauge({
      name: 'kauth_db_pool_connections',
      help: 'PostgreSQL pool connections by state (in_use, idle, waiting); absent for the embedded database',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const stats = poolStats();
        if (!stats) return;
        this.set({ state: 'in_use' }, stats.inUse);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
  }

  refused(reason: RefusalReason): void {
    this.refusals.inc({ reason });
  }
}
