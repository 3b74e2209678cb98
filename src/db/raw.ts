// The few things done below Prisma: running migration scripts and taking locks.
export interface RawSql {
  /** Runs a script of one or more statements without parameters. */
  exec(sql: string): Promise<void>;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs fn inside one transaction on one connection. */
  transaction<T>(fn: (tx: RawSql) => Promise<T>): Promise<T>;
}
