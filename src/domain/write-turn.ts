// Every write of a workspace is one transaction, started when its turn comes in the workspace's
// write queue (src/db/write-queue.ts): a burst of writes waits in memory, not on pooled connections.
import { WriteQueueTimeoutError, writeQueueOf } from '../db';
import type { Db, Tx } from './context';
import { RateLimitedError } from './errors';

/** Runs `work` in a transaction once the writes of `tenantId` queued before it are done. */
export async function writeTransaction<T>(db: Db, tenantId: number, work: (tx: Tx) => Promise<T>): Promise<T> {
  const queue = writeQueueOf(db);
  if (!queue) return db.$transaction(work);
  try {
    return await queue.run(tenantId, () => db.$transaction(work));
  } catch (error) {
    if (!(error instanceof WriteQueueTimeoutError)) throw error;
    throw new RateLimitedError(
      `too many writes queued for this workspace: this one waited ${error.waitedMs} ms for its turn and was not made; retry in ${error.retryAfterSeconds} s`,
      error.retryAfterSeconds,
      { reason: 'write_queue', maxWaitMs: error.waitedMs },
    );
  }
}
