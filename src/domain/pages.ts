// Keyset pages (Relay cursor connections). A page is asked for with `first`/`after` (forwards) or
// `last`/`before` (backwards); the list's order is a key (an id, or a group's path for tree order)
// and a cursor is the key of an item, so it names a place in the order, not an offset: items
// added or removed before it do not shift the page. Each page is read with `key > after ORDER BY
// key LIMIT size + 1` through an index, so its cost does not grow with the list.
import { Prisma } from '../generated/prisma/client';
import { ValidationError } from './errors';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_CONNECTION_PAGE = 100;

export interface PageRequest {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** A list's key: an integer (ids) or an integer array (paths: tree order). */
export type Key = number | readonly number[];

export interface Window<K extends Key> {
  /** Items asked for (0 is allowed: a page that only tells `totalCount` and `hasNextPage`). */
  size: number;
  backwards: boolean;
  after: K | null;
  before: K | null;
}

export interface Page<T> {
  nodes: T[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

const PATH_KEY = /^p:(\d{1,10}(?:\.\d{1,10}){0,63})$/;
const ID_KEY = /^i:(\d{1,10})$/;

export function encodeKey(key: Key): string {
  return Buffer.from(typeof key === 'number' ? `i:${key}` : `p:${key.join('.')}`).toString('base64url');
}

function decodeKey<K extends Key>(cursor: string, kind: 'id' | 'path', field: string): K {
  const text = Buffer.from(cursor, 'base64url').toString();
  const match = (kind === 'id' ? ID_KEY : PATH_KEY).exec(text);
  const key = match ? (kind === 'id' ? Number(match[1]) : match[1].split('.').map(Number)) : null;
  const valid = key !== null && (typeof key === 'number' ? key <= 2_147_483_647 : key.every((n) => n <= 2_147_483_647));
  if (!valid) throw new ValidationError(field, `"${cursor}" is not a cursor of this list`);
  return key as K;
}

function pageSize(value: number | null | undefined, field: string): number | null {
  if (value == null) return null;
  if (!Number.isInteger(value) || value < 0 || value > MAX_CONNECTION_PAGE) {
    throw new ValidationError(field, `${field} must be an integer between 0 and ${MAX_CONNECTION_PAGE}`, { maximum: MAX_CONNECTION_PAGE });
  }
  return value;
}

/** Checks a page request: `first` or `last` (not both), at most 100, 20 by default; cursors of this kind of list. */
export function windowOf(request: PageRequest, kind: 'id'): Window<number>;
export function windowOf(request: PageRequest, kind: 'path'): Window<readonly number[]>;
export function windowOf(request: PageRequest, kind: 'id' | 'path'): Window<Key> {
  const first = pageSize(request.first, 'first');
  const last = pageSize(request.last, 'last');
  if (first !== null && last !== null) throw new ValidationError('last', 'first and last cannot be combined: read forwards or backwards');
  return {
    size: first ?? last ?? DEFAULT_PAGE_SIZE,
    backwards: last !== null,
    after: request.after == null ? null : decodeKey(request.after, kind, 'after'),
    before: request.before == null ? null : decodeKey(request.before, kind, 'before'),
  };
}

/** A stable text for a window, to batch the same page of many lists together (one loader per window). */
export const windowKey = (window: Window<Key>): string =>
  JSON.stringify([window.size, window.backwards, window.after, window.before]);

const sqlKey = (key: Key) => (typeof key === 'number' ? Prisma.sql`${key}::int` : Prisma.sql`${[...key]}::int[]`);

/**
 * The SQL of a window over `column`: the bounds, the order and the limit (one more than the page,
 * to tell whether another page follows).
 */
export function windowSql(column: Prisma.Sql, window: Window<Key>): { bounds: Prisma.Sql; order: Prisma.Sql; limit: number } {
  const bounds = [
    window.after === null ? Prisma.sql`TRUE` : Prisma.sql`${column} > ${sqlKey(window.after)}`,
    window.before === null ? Prisma.sql`TRUE` : Prisma.sql`${column} < ${sqlKey(window.before)}`,
  ];
  return {
    bounds: Prisma.join(bounds, ' AND '),
    order: window.backwards ? Prisma.sql`${column} DESC` : Prisma.sql`${column} ASC`,
    limit: window.size + 1,
  };
}

/** The page made of the rows a windowSql query returned, in the list's order. */
export function pageOf<T>(rows: readonly T[], window: Window<Key>, keyOf: (row: T) => Key): Page<T> {
  const more = rows.length > window.size;
  const kept = rows.slice(0, window.size);
  if (window.backwards) kept.reverse();
  return {
    nodes: kept,
    cursors: kept.map((row) => encodeKey(keyOf(row))),
    hasNextPage: !window.backwards && more,
    hasPreviousPage: window.backwards && more,
  };
}

/** A page of other values for the same items (ids -> rows), dropping items whose row is gone. */
export function mapPage<A, B>(page: Page<A>, rowOf: (item: A) => B | undefined): Page<B> {
  const nodes: B[] = [];
  const cursors: string[] = [];
  page.nodes.forEach((item, i) => {
    const row = rowOf(item);
    if (row === undefined) return;
    nodes.push(row);
    cursors.push(page.cursors[i]);
  });
  return { ...page, nodes, cursors };
}

/** What a Prisma findMany needs to read a window of rows by id. */
export interface IdWindowArgs {
  where: { id: { gt?: number; lt?: number } };
  orderBy: { id: 'asc' | 'desc' };
  take: number;
}

/** A page of rows by id, read with the caller's findMany (which adds its own conditions to `where`). */
export async function idPage<T extends { id: number }>(window: Window<number>, find: (args: IdWindowArgs) => Promise<T[]>): Promise<Page<T>> {
  const rows = await find({
    where: { id: { gt: window.after ?? undefined, lt: window.before ?? undefined } },
    orderBy: { id: window.backwards ? 'desc' : 'asc' },
    take: window.size + 1,
  });
  return pageOf(rows, window, (row) => row.id);
}
