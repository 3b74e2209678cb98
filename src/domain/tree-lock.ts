// Serialises changes to a tenant's tree. Tree writes (create, move, delete) take the
// lock exclusively; writes that only depend on the tree (membership changes checked
// against a restricted scope) take it shared. Two concurrent moves therefore can never
// each pass the cycle check against a tree the other is about to change.
import type { Tx } from './context';

const TREE_LOCK_NAMESPACE = 7_263_001;

export async function lockTree(tx: Tx, tenantId: number, mode: 'exclusive' | 'shared'): Promise<void> {
  if (mode === 'exclusive') {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${TREE_LOCK_NAMESPACE}::int, ${tenantId}::int)`;
  } else {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(${TREE_LOCK_NAMESPACE}::int, ${tenantId}::int)`;
  }
}
