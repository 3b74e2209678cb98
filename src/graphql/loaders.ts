// One DataLoader per relation per request (DataLoader's own advice). Each batch is one
// SQL statement, so a response's statement count does not grow with its number of groups.
import DataLoader from 'dataloader';
import type { DomainContext } from '../domain/context';
import * as groups from '../domain/groups';
import * as members from '../domain/members';
import * as roles from '../domain/roles';
import * as users from '../domain/users';

/** Told the size of every batch (metrics). */
export type BatchObserver = (loader: string, size: number) => void;

export function createLoaders(ctx: DomainContext, onBatch: BatchObserver = () => undefined) {
  const keyed = <V>(batch: (ids: readonly number[]) => Promise<V[]>, name: string) =>
    new DataLoader<number, V>((ids) => {
      onBatch(name, ids.length);
      return batch(ids);
    });
  const groupById = keyed((ids) => groups.groupsByIds(ctx, ids), 'groupById');
  const userById = keyed((ids) => users.usersByIds(ctx, ids), 'userById');
  const roleById = keyed((ids) => roles.rolesByIds(ctx, ids), 'roleById');
  /** Primes the id loader with rows fetched some other way, so they are not fetched again. */
  const primeGroups = (rows: groups.Group[]) => {
    rows.forEach((row) => groupById.prime(row.id, row));
    return rows;
  };
  return {
    groupById,
    /** Every group of the tenant, visible or not: only to check restricted write scopes. */
    groupForAuthorization: keyed((ids) => groups.groupsByIds(ctx, ids, { ignoreVisibility: true }), 'groupForAuthorization'),
    userById,
    roleById,
    primeGroups,
    children: keyed(async (ids) => (await groups.childrenOfGroups(ctx, ids)).map(primeGroups), 'children'),
    descendants: keyed(async (ids) => (await groups.descendantsOfGroups(ctx, ids)).map(primeGroups), 'descendants'),
    directMembers: keyed((ids) => members.membersOfGroups(ctx, ids, false), 'directMembers'),
    inheritedMembers: keyed((ids) => members.membersOfGroups(ctx, ids, true), 'inheritedMembers'),
    directMemberCount: keyed((ids) => members.memberCountsOfGroups(ctx, ids, false), 'directMemberCount'),
    inheritedMemberCount: keyed((ids) => members.memberCountsOfGroups(ctx, ids, true), 'inheritedMemberCount'),
    groupIdsOfUser: keyed((ids) => members.groupIdsOfUsers(ctx, ids), 'groupIdsOfUser'),
    rolesOfGroup: keyed((ids) => roles.rolesOfGroups(ctx, ids), 'rolesOfGroup'),
    effectiveRolesOfGroup: keyed((ids) => roles.effectiveRolesOfGroups(ctx, ids), 'effectiveRolesOfGroup'),
    rolesOfUser: keyed((ids) => roles.rolesOfUsers(ctx, ids), 'rolesOfUser'),
    effectiveRolesOfUser: keyed((ids) => roles.effectiveRolesOfUsers(ctx, ids), 'effectiveRolesOfUser'),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** Loads many ids and drops the ones that are gone or not visible. */
export async function loadPresent<V>(loader: DataLoader<number, V | null>, ids: readonly number[]): Promise<V[]> {
  const values = await loader.loadMany(ids);
  return values.filter((v): v is V => v !== null && !(v instanceof Error));
}
