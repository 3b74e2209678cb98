// Finding users and groups by a condition on their attributes (what SCIM filters ask), compiled
// to one SQL condition. The transports map their own syntax onto these fields; every value goes
// in as a parameter, never as SQL text.
import { Prisma } from '../generated/prisma/client';
import type { DomainContext } from './context';
import { ValidationError } from './errors';
import type { Group } from './groups';
import type { User } from './users';
import { visibilityFilter } from './visibility';

export type Comparison = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le' | 'pr';
export type Value = string | number | boolean | null;

/** A condition on one row, or (`some`) on the elements of one of its lists (emails, members). */
export type Condition<F extends string = string> =
  | { op: 'and' | 'or'; of: Condition<F>[] }
  | { op: 'not'; of: Condition<F> }
  | { op: 'compare'; field: F; cmp: Comparison; value: Value }
  | { op: 'some'; list: string; where: Condition<F> | null };

type Kind = 'text' | 'exact' | 'id' | 'boolean' | 'time';
interface Column {
  sql: Prisma.Sql;
  kind: Kind;
}
interface Table {
  columns: Record<string, Column>;
  /** Lists whose elements a condition can ask about: `exists` wraps the element condition. */
  lists: Record<string, { columns: Record<string, Column>; exists: (where: Prisma.Sql) => Prisma.Sql }>;
}

const col = (sql: string, kind: Kind): Column => ({ sql: Prisma.raw(sql), kind });

const USERS: Table = {
  columns: {
    id: col('u.id', 'id'),
    userName: col('u.user_name', 'text'),
    externalId: col('u.external_id', 'exact'),
    name: col('u.name', 'text'),
    givenName: col('u.given_name', 'text'),
    familyName: col('u.family_name', 'text'),
    active: col('u.active', 'boolean'),
    createdAt: col('u.created_at', 'time'),
    updatedAt: col('u.updated_at', 'time'),
  },
  lists: {
    emails: {
      columns: { value: col("e->>'value'", 'text'), type: col("e->>'type'", 'text'), primary: col("(e->>'primary')::boolean", 'boolean') },
      exists: (where) => Prisma.sql`EXISTS (SELECT 1 FROM jsonb_array_elements(u.emails) AS e WHERE ${where})`,
    },
  },
};

const GROUPS: Table = {
  columns: {
    id: col('g.id', 'id'),
    name: col('g.name', 'text'),
    externalId: col('g.external_id', 'exact'),
    createdAt: col('g.created_at', 'time'),
    updatedAt: col('g.updated_at', 'time'),
  },
  lists: {
    members: {
      columns: { value: col('m.user_id', 'id') },
      exists: (where) => Prisma.sql`EXISTS (SELECT 1 FROM group_members AS m WHERE m.group_id = g.id AND ${where})`,
    },
  },
};

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function problem(message: string): never {
  throw new ValidationError('filter', message);
}

function typed(column: Column, value: Value, field: string): Prisma.Sql | null {
  switch (column.kind) {
    case 'id': {
      const text = String(value);
      // An id that cannot exist matches nothing, as an unknown one does.
      return /^[1-9][0-9]{0,9}$/.test(text) && Number(text) <= 2_147_483_647 ? Prisma.sql`${Number(text)}::int` : null;
    }
    case 'boolean': {
      const text = String(value).toLowerCase();
      if (text !== 'true' && text !== 'false') problem(`${field} is true or false, not ${JSON.stringify(value)}`);
      return Prisma.sql`${text === 'true'}::boolean`;
    }
    case 'time': {
      const time = typeof value === 'string' ? new Date(value) : null;
      if (!time || Number.isNaN(time.getTime())) problem(`${field} compares with a date and time such as "2026-01-31T12:00:00Z", not ${JSON.stringify(value)}`);
      return Prisma.sql`${time.toISOString()}::timestamptz`;
    }
    default:
      if (typeof value !== 'string') problem(`${field} compares with a string, not ${JSON.stringify(value)}`);
      return Prisma.sql`${column.kind === 'text' ? value.toLowerCase() : value}`;
  }
}

function compare(column: Column, cmp: Comparison, value: Value, field: string): Prisma.Sql {
  const { sql, kind } = column;
  if (cmp === 'pr') return kind === 'text' || kind === 'exact' ? Prisma.sql`coalesce(${sql}, '') <> ''` : Prisma.sql`${sql} IS NOT NULL`;
  const left = kind === 'text' ? Prisma.sql`lower(${sql})` : sql;
  if (cmp === 'co' || cmp === 'sw' || cmp === 'ew') {
    if (kind !== 'text' && kind !== 'exact') problem(`"${cmp}" compares strings; ${field} is not one`);
    if (typeof value !== 'string') problem(`"${cmp}" needs a string value`);
    const text = escapeLike(kind === 'text' ? value.toLowerCase() : value);
    const pattern = cmp === 'co' ? `%${text}%` : cmp === 'sw' ? `${text}%` : `%${text}`;
    return Prisma.sql`${left} LIKE ${pattern}`;
  }
  if (value === null) return cmp === 'eq' ? Prisma.sql`${sql} IS NULL` : cmp === 'ne' ? Prisma.sql`${sql} IS NOT NULL` : problem(`"${cmp}" needs a value`);
  if (kind === 'boolean' && cmp !== 'eq' && cmp !== 'ne') problem(`"${cmp}" does not order booleans (${field})`);
  const right = typed(column, value, field);
  if (right === null) return cmp === 'ne' ? Prisma.sql`true` : Prisma.sql`false`;
  const operator = { eq: '=', ne: 'IS DISTINCT FROM', gt: '>', ge: '>=', lt: '<', le: '<=' }[cmp];
  return Prisma.sql`${left} ${Prisma.raw(operator)} ${right}`;
}

function compile(table: Table, columns: Record<string, Column>, condition: Condition, inList: boolean): Prisma.Sql {
  switch (condition.op) {
    case 'and':
    case 'or':
      return Prisma.sql`(${Prisma.join(condition.of.map((c) => compile(table, columns, c, inList)), condition.op === 'and' ? ' AND ' : ' OR ')})`;
    case 'not':
      // An absent attribute compares as unknown (NULL), which `not` must turn into a match.
      // Only here: a bare comparison keeps its index (WHERE treats NULL as false anyway).
      return Prisma.sql`NOT coalesce(${compile(table, columns, condition.of, inList)}, false)`;
    case 'some': {
      const list = table.lists[condition.list];
      if (!list || inList) problem(`cannot filter on ${condition.list}`);
      return list.exists(condition.where ? compile(table, list.columns, condition.where, true) : Prisma.sql`true`);
    }
    default: {
      const column = columns[condition.field];
      if (!column) problem(`cannot filter on ${condition.field}`);
      return compare(column, condition.cmp, condition.value, condition.field);
    }
  }
}

export interface Page {
  offset: number;
  limit: number;
}

async function matching(ctx: DomainContext, from: Prisma.Sql, where: Prisma.Sql, page: Page): Promise<{ ids: number[]; total: number }> {
  const [rows, [{ total }]] = await Promise.all([
    page.limit === 0
      ? Promise.resolve([])
      : ctx.db.$queryRaw<{ id: number }[]>`SELECT id FROM ${from} WHERE ${where} ORDER BY id OFFSET ${page.offset}::int LIMIT ${page.limit}::int`,
    ctx.db.$queryRaw<{ total: number }[]>`SELECT count(*)::int AS total FROM ${from} WHERE ${where}`,
  ]);
  return { ids: rows.map((row) => row.id), total };
}

function inOrder<T extends { id: number }>(ids: number[], rows: T[]): T[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** Users matching the condition (every user without one), ordered by id, with how many match in all. */
export async function searchUsers(ctx: DomainContext, condition: Condition | null, page: Page): Promise<{ nodes: User[]; total: number }> {
  const where = Prisma.sql`u.tenant_id = ${ctx.tenantId}::int AND u.id > ${ctx.userIdFloor ?? 0}::int AND ${condition ? compile(USERS, USERS.columns, condition, false) : Prisma.sql`true`}`;
  const { ids, total } = await matching(ctx, Prisma.sql`users AS u`, where, page);
  const rows = ids.length === 0 ? [] : await ctx.db.user.findMany({ where: { tenantId: ctx.tenantId, id: { in: ids } } });
  return { nodes: inOrder(ids, rows), total };
}

/** Groups the credential can read matching the condition, ordered by id, with how many match in all. */
export async function searchGroups(ctx: DomainContext, condition: Condition | null, page: Page): Promise<{ nodes: Group[]; total: number }> {
  const roots = ctx.access.visibleRoots;
  const visible = roots === null ? Prisma.sql`true` : Prisma.sql`g.path && ${[...roots]}::int[]`;
  const where = Prisma.sql`g.tenant_id = ${ctx.tenantId}::int AND g.id > ${ctx.groupIdFloor ?? 0}::int AND ${visible} AND ${condition ? compile(GROUPS, GROUPS.columns, condition, false) : Prisma.sql`true`}`;
  const { ids, total } = await matching(ctx, Prisma.sql`groups AS g`, where, page);
  const rows = ids.length === 0 ? [] : await ctx.db.group.findMany({ where: { tenantId: ctx.tenantId, id: { in: ids }, ...visibilityFilter(ctx) } });
  return { nodes: inOrder(ids, rows), total };
}
