// Raw SQL in this layer selects ids only; the rows themselves come through the Prisma client,
// so a column added to a model reaches every reader without a hand-kept column list.

/** Loads each distinct id once (none: no statement) and returns the rows by id. */
export async function rowsById<T extends { id: number }>(
  ids: readonly number[],
  find: (ids: number[]) => Promise<T[]>,
): Promise<Map<number, T>> {
  const distinct = [...new Set(ids)];
  if (distinct.length === 0) return new Map();
  return new Map((await find(distinct)).map((row) => [row.id, row]));
}

/** For each owner, the rows its links point to, in link order (a row deleted meanwhile is left out). */
export function groupByOwner<L extends { ownerId: number }, T>(
  ownerIds: readonly number[],
  links: readonly L[],
  rowOf: (link: L) => T | undefined,
): T[][] {
  const byOwner = new Map<number, T[]>(ownerIds.map((id) => [id, []]));
  for (const link of links) {
    const row = rowOf(link);
    if (row !== undefined) byOwner.get(link.ownerId)?.push(row);
  }
  return ownerIds.map((id) => byOwner.get(id)!);
}
