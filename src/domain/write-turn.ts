// Every write of a workspace is one transaction, started when its turn comes in the workspace's
// write queue (src/db/write-queue.ts): a burst of writes waits in memory, not on pooled connections.
// A transaction the database rolls back to break a deadlock (possible only with writers of another
// process) is run again, still in its turn: a healthy database never makes a write fail for that.
// A write that waits too long for its turn fails with the queue's WriteQueueTimeoutError, which
// the edge answers as RATE_LIMITED (src/edge/failures.ts).
import { isWriteConflict, writeQueueOf } from '../db';
import type { Db, Tx } from './context';

/** Attempts of a transaction the database rolled back for a deadlock or a serialisation conflict. */
const ATTEMPTS = 3;

/** Runs `work` in a transaction, again (up to ATTEMPTS) if the database rolled it back for a deadlock or a serialisation conflict. */
export async function transactionWithRetries<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await db.$transaction(work);
    } catch (error) {
      if (attempt >= ATTEMPTS || !isWriteConflict(error)) throw error;
    }
  }
}

/** Runs `work` in a transaction once the writes of `tenantId` queued before it are done. */
export async function writeTransaction<T>(db: Db, tenantId: number, work: (tx: Tx) => Promise<T>): Promise<T> {
  const queue = writeQueueOf(db);
  if (!queue) return transactionWithRetries(db, work);
  return queue.run(tenantId, () => transactionWithRetries(db, work));
}
