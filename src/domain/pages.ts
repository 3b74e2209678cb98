// Keyset pages (Relay cursor connections). A page is asked for with `first`/`after` (forwards) or
// `last`/`before` (backwards); the list's order is a key (an id, or a group's path for tree order)
// and a cursor is the key of an item, so it names a place in the order, not an offset: items
// added or removed before it do not shift the page. Each page is read with `key > after ORDER BY
// key LIMIT size + 1` through an index, so its cost does not grow with the list.
//
// Sorted lists (GraphQL `orderBy`): the key is the sort value and the id, `(value, id) > after`
// through an index on (…, value, id), ties broken by id. The cursor of any order but the default
// (id ascending, whose cursors are unchanged) is base64url JSON naming its order, so a cursor used
// with another `orderBy` is refused rather than read as a place it is not.
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

export type OrderField = 'NAME' | 'CREATED_AT' | 'ID';
export type OrderDirection = 'ASC' | 'DESC';

/** How a list is sorted (GraphQL `orderBy`); ID ASC when not asked. */
export interface ListOrder {
  field: OrderField;
  direction: OrderDirection;
}

export const ID_ORDER: ListOrder = { field: 'ID', direction: 'ASC' };

/** A place in a list sorted by a value: the item's sort value, as text (see SORT_VALUES), and its id. */
export interface SortKey {
  value: string;
  id: number;
}

/** A list's key: an integer (ids), an integer array (paths: tree order) or a sort value and id. */
export type Key = number | readonly number[] | SortKey;

export interface Window<K extends Key> {
  /** Items asked for (0 is allowed: a page that only tells `totalCount` and `hasNextPage`). */
  size: number;
  backwards: boolean;
  after: K | null;
  before: K | null;
  order: ListOrder;
}

export interface Page<T> {
  nodes: T[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

const PATH_KEY = /^p:(\d{1,10}(?:\.\d{1,10}){0,63})$/;
const ID_KEY = /^i:(\d{1,10})$/;

const MAX_ID = 2_147_483_647;
const MAX_SORT_VALUE = 1024;

const isDefaultOrder = (order: ListOrder) => order.field === 'ID' && order.direction === 'ASC';
const orderName = (order: ListOrder) => `${order.field} ${order.direction}`;
const isSortKey = (key: Key): key is SortKey => typeof key === 'object' && !Array.isArray(key);

export function encodeKey(key: Key, order: ListOrder = ID_ORDER): string {
  if (!isDefaultOrder(order)) {
    const [value, id] = isSortKey(key) ? [key.value, key.id] : [undefined, key];
    return Buffer.from(JSON.stringify({ o: orderName(order), v: value, id })).toString('base64url');
  }
  return Buffer.from(typeof key === 'number' ? `i:${key}` : `p:${(key as readonly number[]).join('.')}`).toString('base64url');
}

/** What a cursor's sort value may be, so that a forged one is refused here and not by the database. */
const SORT_VALUE_FORMS = {
  NAME: (v: string) => v.length <= MAX_SORT_VALUE && !v.includes('\u0000'),
  // A real instant, written as the database writes it (no 30th of February, no year 0).
  CREATED_AT: (v: string) => /^\d{4}-/.test(v) && !v.startsWith('0000') && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v,
};

/** A cursor of a sorted list: `{ o: "NAME ASC", v: "alpha", id: 12 }` (no `v` when sorted by id). */
function decodeSortedKey(cursor: string, order: ListOrder, field: string): Key {
  let parsed: { o?: unknown; v?: unknown; id?: unknown } | null = null;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    parsed = null;
  }
  const made = typeof parsed?.o === 'string' ? parsed.o : null;
  if (made !== orderName(order)) {
    throw new ValidationError(field, `"${cursor}" is not a cursor of this list sorted by ${orderName(order)}: ask with the orderBy it was made with`, {
      orderBy: orderName(order),
      cursorOrderBy: made ?? (isDefaultOrder(order) ? null : 'ID ASC'),
    });
  }
  const { v, id } = parsed as { v?: unknown; id?: unknown };
  const validId = Number.isInteger(id) && (id as number) > 0 && (id as number) <= MAX_ID;
  const validValue = order.field === 'ID' ? v === undefined : typeof v === 'string' && SORT_VALUE_FORMS[order.field](v);
  if (!validId || !validValue) throw new ValidationError(field, `"${cursor}" is not a cursor of this list`);
  return order.field === 'ID' ? (id as number) : { value: v as string, id: id as number };
}

function decodeKey<K extends Key>(cursor: string, kind: 'id' | 'path', order: ListOrder, field: string): K {
  if (!isDefaultOrder(order)) return decodeSortedKey(cursor, order, field) as K;
  const text = Buffer.from(cursor, 'base64url').toString();
  if (text.startsWith('{"o":')) {
    throw new ValidationError(field, `"${cursor}" is a cursor of this list sorted otherwise: ask with the orderBy it was made with`, {
      orderBy: orderName(order),
    });
  }
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

/**
 * Checks a page request: `first` or `last` (not both), at most 100, 20 by default; cursors of this
 * kind of list, made in this order.
 */
export function windowOf(request: PageRequest, kind: 'id'): Window<number>;
export function windowOf(request: PageRequest, kind: 'path'): Window<readonly number[]>;
export function windowOf(request: PageRequest, kind: 'sorted', order: Partial<ListOrder> | null | undefined): Window<number | SortKey>;
export function windowOf(request: PageRequest, kind: 'id' | 'path' | 'sorted', order: Partial<ListOrder> | null = null): Window<Key> {
  const asked: ListOrder = { field: order?.field ?? 'ID', direction: order?.direction ?? 'ASC' };
  const listOrder = isDefaultOrder(asked) ? ID_ORDER : asked;
  const keyKind = kind === 'path' ? 'path' : 'id';
  const first = pageSize(request.first, 'first');
  const last = pageSize(request.last, 'last');
  if (first !== null && last !== null) throw new ValidationError('last', 'first and last cannot be combined: read forwards or backwards');
  return {
    size: first ?? last ?? DEFAULT_PAGE_SIZE,
    backwards: last !== null,
    after: request.after == null ? null : decodeKey(request.after, keyKind, listOrder, 'after'),
    before: request.before == null ? null : decodeKey(request.before, keyKind, listOrder, 'before'),
    order: listOrder,
  };
}

/** A stable text for a window, to batch the same page of many lists together (one loader per window). */
export const windowKey = (window: Window<Key>): string =>
  JSON.stringify([window.size, window.backwards, window.after, window.before, window.order.field, window.order.direction]);

/**
 * The SQL of a list's sort values over its rows. Names compare ignoring case: `lower(name)`, then
 * by code point (COLLATE "C", the same on every database whatever its locale), then by id.
 */
export interface SortableSql {
  NAME: Prisma.Sql;
  CREATED_AT: Prisma.Sql;
}

/** A sort value as the text a cursor keeps, and that text back as the column's type. */
const SORT_VALUES = {
  NAME: { text: (value: Prisma.Sql) => value, typed: (text: string) => Prisma.sql`${text}::text` },
  CREATED_AT: {
    // Fixed width, so that the texts compare as the times do.
    text: (value: Prisma.Sql) => Prisma.sql`to_char(${value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
    typed: (text: string) => Prisma.sql`${text}::timestamptz`,
  },
} as const;

/** The text of a sort value as a cursor keeps it (the SQL over a selected `value`). */
export const sortValueText = (order: ListOrder, value: Prisma.Sql): Prisma.Sql =>
  order.field === 'ID' ? Prisma.sql`NULL::text` : SORT_VALUES[order.field].text(value);

/** The expression a list is sorted by before its id, or null when by id alone. */
export const sortValueOf = (order: ListOrder, sortable: SortableSql | undefined): Prisma.Sql | null => {
  if (order.field === 'ID') return null;
  if (!sortable) throw new Error(`this list cannot be sorted by ${order.field}`);
  return sortable[order.field];
};

const sqlKey = (key: Key, order: ListOrder) => {
  if (isSortKey(key)) return Prisma.sql`(${SORT_VALUES[order.field as 'NAME' | 'CREATED_AT'].typed(key.value)}, ${key.id}::int)`;
  return typeof key === 'number' ? Prisma.sql`${key}::int` : Prisma.sql`${[...key]}::int[]`;
};

/**
 * The SQL of a window over `column` (sorted first by `value` when given): the bounds, the order
 * and the limit (one more than the page, to tell whether another page follows).
 */
export function windowSql(
  column: Prisma.Sql,
  window: Window<Key>,
  value: Prisma.Sql | null = null,
): { bounds: Prisma.Sql; order: Prisma.Sql; limit: number } {
  const key = value ? Prisma.sql`(${value}, ${column})` : column;
  const descending = window.order.direction === 'DESC';
  const [afterOp, beforeOp] = descending ? ['<', '>'] : ['>', '<'];
  const bounds = [
    window.after === null ? Prisma.sql`TRUE` : Prisma.sql`${key} ${Prisma.raw(afterOp)} ${sqlKey(window.after, window.order)}`,
    window.before === null ? Prisma.sql`TRUE` : Prisma.sql`${key} ${Prisma.raw(beforeOp)} ${sqlKey(window.before, window.order)}`,
  ];
  const direction = Prisma.raw(descending !== window.backwards ? 'DESC' : 'ASC');
  return {
    bounds: Prisma.join(bounds, ' AND '),
    order: value ? Prisma.sql`${value} ${direction}, ${column} ${direction}` : Prisma.sql`${column} ${direction}`,
    limit: window.size + 1,
  };
}

/** Orders keys as the database does: ids and paths as numbers, sort values by code point (COLLATE "C"), then ids. */
export function compareKeys(a: Key, b: Key): number {
  if (isSortKey(a) && isSortKey(b)) return Buffer.compare(Buffer.from(a.value), Buffer.from(b.value)) || a.id - b.id;
  if (typeof a === 'number' || typeof b === 'number') return (a as number) - (b as number);
  const [x, y] = [a as readonly number[], b as readonly number[]];
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** The page made of the rows a windowSql query returned, in the list's order. */
export function pageOf<T>(rows: readonly T[], window: Window<Key>, keyOf: (row: T) => Key): Page<T> {
  const more = rows.length > window.size;
  const kept = rows.slice(0, window.size);
  if (window.backwards) kept.reverse();
  return {
    nodes: kept,
    cursors: kept.map((row) => encodeKey(keyOf(row), window.order)),
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
