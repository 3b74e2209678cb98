// One DataLoader per relation per request (DataLoader's own advice), and per page asked for
// where the relation is a connection. Each batch is one or two SQL statements (ids, then rows),
// so a response's statement count does not grow with its number of groups.
import DataLoader from 'dataloader';
import type { DomainContext } from '../domain/context';
import * as groups from '../domain/groups';
import { type Key, type Page, type SortKey, type Window, windowKey } from '../domain/pages';
import * as groupReads from '../domain/reads/groups';
import * as memberReads from '../domain/reads/members';
import * as roles from '../domain/roles';
import * as users from '../domain/users';

/** Told the size of every batch (metrics). */
export type BatchObserver = (loader: string, size: number) => void;

/** When a request's batches may be sent: DataLoader's moment, once its fields waiting for a turn of the event loop have had it. */
export interface BatchTiming {
  whenSettled(dispatch: () => void): void;
}

export function createLoaders(ctx: DomainContext, timing: BatchTiming, onBatch: BatchObserver = () => undefined) {
  const batchScheduleFn = (dispatch: () => void) => timing.whenSettled(dispatch);
  const keyed = <V>(batch: (ids: readonly number[]) => Promise<V[]>, name: string) =>
    new DataLoader<number, V>(
      (ids) => {
        onBatch(name, ids.length);
        return batch(ids);
      },
      { batchScheduleFn },
    );
  const groupById = keyed((ids) => groupReads.groupsByIds(ctx, ids), 'groupById');
  const userById = keyed((ids) => users.usersByIds(ctx, ids), 'userById');
  const roleById = keyed((ids) => roles.rolesByIds(ctx, ids), 'roleById');
  /** Primes the id loader with rows fetched some other way, so they are not fetched again. */
  const primeGroups = (rows: groups.Group[]) => {
    rows.forEach((row) => groupById.prime(row.id, row));
    return rows;
  };
  const primePages = (pages: Page<groups.Group>[]) => {
    pages.forEach((page) => primeGroups(page.nodes));
    return pages;
  };
  /**
   * A relation read a page at a time: one loader per window (the page asked for, in its order),
   * so the same page of every group in a response is one batch, one statement.
   */
  const paged = <K extends Key, V>(name: string, batch: (ids: readonly number[], window: Window<K>) => Promise<V[]>) => {
    const byWindow = new Map<string, DataLoader<number, V>>();
    return (window: Window<K>): DataLoader<number, V> => {
      const key = windowKey(window);
      let loader = byWindow.get(key);
      if (!loader) {
        loader = keyed((ids) => batch(ids, window), name);
        byWindow.set(key, loader);
      }
      return loader;
    };
  };
  return {
    groupById,
    /** Every group of the tenant, visible or not: only to check restricted write scopes. */
    groupForAuthorization: keyed((ids) => groupReads.groupsByIds(ctx, ids, { ignoreVisibility: true }), 'groupForAuthorization'),
    userById,
    roleById,
    primeGroups,
    children: paged('children', async (ids, window: Window<number | SortKey>) => primePages(await groupReads.childrenPages(ctx, ids, window))),
    descendants: paged('descendants', async (ids, window: Window<readonly number[]>) =>
      primePages(await groupReads.descendantPages(ctx, ids, window)),
    ),
    directMembers: paged('directMembers', (ids, window: Window<number | SortKey>) => memberReads.memberPages(ctx, ids, false, window)),
    inheritedMembers: paged('inheritedMembers', (ids, window: Window<number | SortKey>) => memberReads.memberPages(ctx, ids, true, window)),
    directMemberCount: keyed((ids) => memberReads.memberCountsOfGroups(ctx, ids, false), 'directMemberCount'),
    inheritedMemberCount: keyed((ids) => memberReads.memberCountsOfGroups(ctx, ids, true), 'inheritedMemberCount'),
    groupsOfUser: paged('groupsOfUser', async (ids, window: Window<number>) => primePages(await memberReads.groupPagesOfUsers(ctx, ids, window))),
    groupCountOfUser: keyed((ids) => memberReads.groupCountsOfUsers(ctx, ids), 'groupCountOfUser'),
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
