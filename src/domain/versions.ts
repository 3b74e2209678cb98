// Row versions (SCIM's ETags): a conditional write locks the row and goes ahead only if it is
// still at the version the client read.
import { Prisma } from '../generated/prisma/client';
import type { Tx } from './context';
import { PreconditionFailedError } from './errors';

const ENTITY = { users: 'User', groups: 'Group' } as const;

/**
 * Locks the row until the transaction ends and returns its version. An absent row throws
 * `notFound()`; with `expected`, a row at another version throws PreconditionFailedError.
 */
export async function lockVersion(
  tx: Tx,
  table: keyof typeof ENTITY,
  tenantId: number,
  id: number,
  expected: number | null,
  notFound: () => Error,
): Promise<number> {
  const rows = await tx.$queryRaw<{ version: number }[]>`
    SELECT version FROM ${Prisma.raw(table)} WHERE tenant_id = ${tenantId}::int AND id = ${id}::int FOR NO KEY UPDATE`;
  if (rows.length === 0) throw notFound();
  const { version } = rows[0];
  if (expected !== null && expected !== version) throw new PreconditionFailedError(ENTITY[table], id, version);
  return version;
}
