// The audit trail and change feed: one event per change, appended by the write itself, inside
// its transaction (a write that fails or is refused rolls its event back with it).
//
// Why a poller resuming from its last cursor never skips an event: events are numbered per
// workspace from the workspace's row in `audit_sequences`, and taking a number is an UPDATE of
// that row, the last statement of the write's transaction. The row stays locked until the write
// commits (or rolls back, giving the number back), so the next writer of the workspace can only
// take its number after the previous one is visible. Numbers are gap-free and in commit order:
// when a reader sees event N, every event below N is already committed and visible to it, so
// "seq > cursor" is exactly what is new. A plain sequence would not do: two transactions can take
// numbers 7 and 8 and commit 8 first, and a poller that saw 8 would never look back for 7.
// The cost is that a workspace's writes serialise on that row for the time between their last
// statement and their commit; writes of different workspaces never wait for each other.
import type { AuditEvent, Prisma } from '../generated/prisma/client';
import type { Actor, AuditSource, Db, DomainContext, Tx } from './context';
import { ValidationError } from './errors';
import { searchPattern } from './validate';

export type { AuditEvent } from '../generated/prisma/client';

/** The stable reference stored with each event and matched by the `actor` filter. */
export function actorRef(actor: Actor): string {
  if (actor.kind === 'apikey') return `apikey:${actor.id}`;
  if (actor.kind === 'jwt') return `jwt:${actor.subject}`;
  return 'cli';
}

function actorName(actor: Actor): string | null {
  if (actor.kind === 'apikey') return actor.name;
  if (actor.kind === 'jwt') return actor.subject;
  return null;
}

export const AUDIT_ACTIONS = [
  'WORKSPACE_CREATED',
  'GROUP_CREATED',
  'GROUP_RENAMED',
  'GROUP_DESCRIPTION_CHANGED',
  'GROUP_MOVED',
  'GROUP_DELETED',
  'MEMBER_ADDED',
  'MEMBER_REMOVED',
  'MEMBERS_SYNCED',
  'ROLE_CREATED',
  'ROLE_UPDATED',
  'ROLE_DELETED',
  'GROUP_ROLE_ASSIGNED',
  'GROUP_ROLE_UNASSIGNED',
  'USER_ROLE_ASSIGNED',
  'USER_ROLE_UNASSIGNED',
  'USER_CREATED',
  'USER_UPDATED',
  'USER_DELETED',
  'GROUP_EXTERNAL_ID_CHANGED',
  'API_KEY_CREATED',
  'API_KEY_REVOKED',
  'WORKSPACE_IMPORTED',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type TargetType = 'Workspace' | 'Group' | 'User' | 'Role' | 'ApiKey';

/** A changed field: its value before and after the write (null where it did not exist). */
export type Changes = Record<string, { before: unknown; after: unknown }>;

export interface AuditEntry {
  action: AuditAction;
  target: { type: TargetType; id: number };
  /** For events about a group: its id and its path(s), before and after (a move has two). */
  group?: { id: number; paths: readonly (readonly number[])[] };
  changes: Changes;
}

/** The channel every process LISTENs on; the payload is `<tenantId>:<last seq>` (src/feed). */
export const AUDIT_CHANNEL = 'kauth_audit';

/**
 * Appends `entries` to the trail, numbered in commit order. Call it as the last statement of the
 * write's transaction: the workspace's sequence row stays locked from here until the commit.
 * One statement: number, insert, and a NOTIFY that PostgreSQL delivers only if the write commits.
 */
export async function recordEvents(tx: Tx, source: AuditSource, entries: readonly AuditEntry[]): Promise<void> {
  await recordEventsOfSources(tx, source.tenantId, entries.map((entry) => ({ source, entry })));
}

/**
 * recordEvents for a transaction that carries the writes of several credentials of one workspace
 * (creations made together: ./group-creations): each event names its own actor and request.
 */
export async function recordEventsOfSources(tx: Tx, tenantId: number, items: readonly { source: AuditSource; entry: AuditEntry }[]): Promise<void> {
  if (items.length === 0) return;
  const rows = items.map(({ source, entry }) => ({
    actor: actorRef(source.actor),
    actorName: actorName(source.actor),
    requestId: source.requestId,
    action: entry.action,
    targetType: entry.target.type,
    targetId: String(entry.target.id),
    groupId: entry.group?.id ?? null,
    groupPath: [...new Set(entry.group?.paths.flat() ?? [])],
    changes: entry.changes,
  }));
  const n = rows.length;
  await tx.$executeRaw`
    WITH numbered AS (
      INSERT INTO audit_sequences AS s (tenant_id, last_seq) VALUES (${tenantId}::int, ${n}::bigint)
      ON CONFLICT (tenant_id) DO UPDATE SET last_seq = s.last_seq + ${n}::bigint
      RETURNING last_seq
    ), inserted AS (
      INSERT INTO audit_events (tenant_id, seq, actor, actor_name, action, target_type, target_id, group_id, group_path, changes, request_id)
      SELECT ${tenantId}::int, numbered.last_seq - ${n}::bigint + e.ord, e.ev->>'actor', e.ev->>'actorName',
             e.ev->>'action', e.ev->>'targetType', e.ev->>'targetId', (e.ev->>'groupId')::int,
             ARRAY(SELECT jsonb_array_elements_text(e.ev->'groupPath')::int), e.ev->'changes', e.ev->>'requestId'
      FROM numbered, jsonb_array_elements(${JSON.stringify(rows)}::jsonb) WITH ORDINALITY AS e(ev, ord)
      RETURNING seq
    )
    SELECT pg_notify(${AUDIT_CHANNEL}, ${tenantId}::int || ':' || max(seq)) FROM inserted`;
}

/** Only the fields whose value changed. */
/** One event per group a change touched (a user leaving its groups, a role's assignments removed), in id order. */
export function eventsOnGroups(action: AuditAction, groups: readonly { id: number; path: readonly number[] }[], changes: Changes): AuditEntry[] {
  return [...groups]
    .sort((a, b) => a.id - b.id)
    .map((group) => ({ action, target: { type: 'Group', id: group.id }, group: { id: group.id, paths: [group.path] }, changes }));
}

export function changed(fields: Record<string, { before: unknown; after: unknown }>): Changes {
  return Object.fromEntries(Object.entries(fields).filter(([, { before, after }]) => JSON.stringify(before) !== JSON.stringify(after)));
}

export interface AuditFilter {
  /** Events about this group (with `includeSubtree`, about it or any group below it, before or after a move). */
  groupId?: number | null;
  includeSubtree?: boolean;
  /** `apikey:<id>`, `jwt:<subject>` or `cli`. */
  actor?: string | null;
  action?: AuditAction | null;
  since?: Date | null;
}

export interface AuditPage {
  events: AuditEvent[];
  hasNextPage: boolean;
}

/**
 * Events after `after` (a seq; null from the start), oldest first, at most `first`. A credential
 * restricted to subtrees (`audit:read@42`) sees only events about groups inside them.
 */
export async function listAuditEvents(
  ctx: DomainContext,
  page: { after: bigint | null; first: number },
  filter: AuditFilter = {},
): Promise<AuditPage> {
  const roots = ctx.access.auditRoots;
  const conditions: Prisma.AuditEventWhereInput[] = [
    { tenantId: ctx.tenantId },
    ...(page.after !== null ? [{ seq: { gt: page.after } }] : []),
    ...(roots !== null ? [{ groupPath: { hasSome: [...roots] } }] : []),
    ...(filter.groupId != null ? [filter.includeSubtree ? { groupPath: { has: filter.groupId } } : { groupId: filter.groupId }] : []),
    ...(filter.actor != null ? [{ actor: searchPattern(filter.actor, 'filter.actor') ?? '' }] : []),
    ...(filter.action != null ? [{ action: filter.action }] : []),
    ...(filter.since != null ? [{ occurredAt: { gte: filter.since } }] : []),
  ];
  const rows = await ctx.db.auditEvent.findMany({ where: { AND: conditions }, orderBy: { seq: 'asc' }, take: page.first + 1 });
  return { events: rows.slice(0, page.first), hasNextPage: rows.length > page.first };
}

/** Events of one workspace after `after`, unfiltered, oldest first (the change feed's delivery). */
export function eventsAfter(db: Db, tenantId: number, after: bigint, limit: number): Promise<AuditEvent[]> {
  return db.auditEvent.findMany({ where: { tenantId, seq: { gt: after } }, orderBy: { seq: 'asc' }, take: limit });
}

/** The number of the workspace's latest event, 0 if none yet. */
export async function latestSeq(db: Db, tenantId: number): Promise<bigint> {
  const row = await db.auditSequence.findUnique({ where: { tenantId } });
  return row?.lastSeq ?? 0n;
}

/** An event as the CLI prints it (the GraphQL AuditEvent's fields, in JSON). */
export function eventJson(event: AuditEvent) {
  return {
    cursor: encodeCursor(event.seq),
    sequence: String(event.seq),
    at: event.occurredAt,
    actor: { ref: event.actor, name: event.actorName },
    action: event.action,
    target: { type: event.targetType, id: event.targetId },
    changes: event.changes,
    requestId: event.requestId,
  };
}

const CURSOR_PREFIX = 'audit:';
/** The largest PostgreSQL bigint: no sequence number goes beyond it. */
const MAX_SEQ = 9_223_372_036_854_775_807n;

export function encodeCursor(seq: bigint): string {
  return Buffer.from(`${CURSOR_PREFIX}${seq}`).toString('base64url');
}

/** The seq a cursor stands for; anything else is a ValidationError naming `field`. */
export function decodeCursor(cursor: string, field: string): bigint {
  const text = Buffer.from(cursor, 'base64url').toString();
  const match = text.startsWith(CURSOR_PREFIX) ? /^(0|[1-9][0-9]{0,18})$/.exec(text.slice(CURSOR_PREFIX.length)) : null;
  if (!match || BigInt(match[1]) > MAX_SEQ) throw new ValidationError(field, `"${cursor}" is not a cursor this API handed out`);
  return BigInt(match[1]);
}

/** Deletes events older than `before`, in batches; returns how many. */
export async function pruneAuditEvents(db: Db, before: Date, batchSize = 10_000): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await db.$executeRaw`
      DELETE FROM audit_events WHERE (tenant_id, seq) IN (
        SELECT tenant_id, seq FROM audit_events WHERE occurred_at < ${before} LIMIT ${batchSize}::int)`;
    total += deleted;
    if (deleted < batchSize) return total;
  }
}
