// Group creations of one workspace that arrive together are made together: one transaction, one
// tree lock, one statement of each kind and one commit for all of them (group commit). A
// workspace's tree writes serialise on its tree lock, so made one by one its creations per second
// are one over a creation's transaction time however many clients send them; made together, the
// creations that queued during one transaction share the next (bench/write-rate.ts, BENCHMARKS.md
// "Single writes").
//
// Each creation still takes its own turn in the workspace's write queue (src/db/write-queue.ts: its
// own wait limit; it leaves when its request stops). The first whose turn comes makes every
// creation waiting by then (up to MAX_BATCH, in arrival order); the others find theirs made when
// their turn comes. Each is checked as it would be alone, in arrival order, with its own
// credential: the parent (NOT_FOUND if that credential cannot read it), the scope there, the depth
// limit, the sibling names (the batch's earlier groups included). A creation refused fails alone;
// the rest are made. Each audit event names its own credential and request.
import type { Group } from '../generated/prisma/client';
import { workScope, writeQueueOf } from '../db';
import { type AuditEntry, changed, recordEventsOfSources } from './audit';
import { type DomainContext, type Tx, isVisible } from './context';
import { DomainError, NotFoundError } from './errors';
import { nameTaken } from './sibling-names';
import { lockTree } from './tree-lock';
import { checkDepth } from './validate';
import { transactionWithRetries } from './write-turn';

/** Creations made in one transaction at most: its statements stay small, its lock short. */
export const MAX_BATCH = 100;

/** A creation, its input already validated (name trimmed, lengths checked). */
export interface Creation {
  ctx: DomainContext;
  name: string;
  description: string | null;
  parentId: number | null;
  /** The creation made alone, in its own transaction, within the write turn already held: when a batch fails as a whole, each of its creations is made so. */
  makeAlone(): Promise<Group>;
}

interface Pending extends Creation {
  resolve(group: Group): void;
  reject(error: unknown): void;
  /** The creation's request: a creation whose request stopped before its batch began is left out. */
  signal: AbortSignal | undefined;
  taken: boolean;
}

/** Creations waiting, per database client, per workspace, in arrival order. */
const waiting = new WeakMap<object, Map<number, Pending[]>>();

function lineOf(ctx: DomainContext): Pending[] {
  let byTenant = waiting.get(ctx.db);
  if (!byTenant) waiting.set(ctx.db, (byTenant = new Map()));
  let line = byTenant.get(ctx.tenantId);
  if (!line) byTenant.set(ctx.tenantId, (line = []));
  return line;
}

function leave(pending: Pending): void {
  const byTenant = waiting.get(pending.ctx.db);
  const line = byTenant?.get(pending.ctx.tenantId);
  if (!line) return;
  const at = line.indexOf(pending);
  if (at >= 0) line.splice(at, 1);
  if (line.length === 0) byTenant!.delete(pending.ctx.tenantId);
}

/** The next batch: the first MAX_BATCH creations waiting, less those whose request has stopped. */
function takeBatch(pending: Pending): Pending[] {
  const line = lineOf(pending.ctx);
  const batch = line.splice(0, MAX_BATCH);
  if (line.length === 0) leave(pending);
  for (const p of batch) p.taken = true;
  return batch.filter((p) => {
    if (!p.signal?.aborted) return true;
    p.reject(p.signal.reason ?? new Error('the request stopped before its group was made'));
    return false;
  });
}

/** Makes the group, together with the workspace's other creations waiting at the same time. */
export function createTogether(creation: Creation): Promise<Group> {
  const queue = writeQueueOf(creation.ctx.db);
  if (!queue) return creation.makeAlone();
  let pending!: Pending;
  const made = new Promise<Group>((resolve, reject) => {
    pending = { ...creation, resolve, reject, signal: workScope.getStore()?.signal, taken: false };
  });
  lineOf(creation.ctx).push(pending);
  const turn = queue.run(creation.ctx.tenantId, async () => {
    // Ahead of it were more than a batch's worth: the batches before its own are made first.
    // No one request's deadline or departure may stop a batch halfway: it runs outside their scope.
    while (!pending.taken) await workScope.exit(() => makeBatch(takeBatch(pending)));
  });
  return turn.then(
    () => made,
    (error: unknown) => {
      // Its turn never came (its request stopped, or it waited too long): it was never made,
      // unless a batch took it meanwhile.
      if (pending.taken) return made;
      leave(pending);
      throw error;
    },
  );
}

async function makeBatch(batch: Pending[]): Promise<void> {
  if (batch.length === 0) return;
  let outcomes: (Group | DomainError)[];
  try {
    outcomes = await transactionWithRetries(batch[0].ctx.db, (tx) => createInTransaction(tx, batch));
  } catch (error) {
    // A failure of the whole (a concurrent process took a name, the database went away): each
    // creation is tried alone, so that what fails is reported as its own.
    for (const p of batch) await p.makeAlone().then(p.resolve, p.reject);
    void error;
    return;
  }
  outcomes.forEach((outcome, i) => (outcome instanceof DomainError ? batch[i].reject(outcome) : batch[i].resolve(outcome)));
}

/** A refusal decided before writing, by the check that makes it. */
function refusal(check: () => void): DomainError | null {
  try {
    check();
    return null;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
}

/**
 * Checks and makes `batch` in the transaction: each creation is a Group made, or the DomainError
 * refusing it. Statements: the tree lock, the parents, the sibling names, the insert, the rows
 * made, the audit events: six, whatever the batch's size.
 */
async function createInTransaction(tx: Tx, batch: readonly Creation[]): Promise<(Group | DomainError)[]> {
  const { tenantId } = batch[0].ctx;
  await lockTree(tx, tenantId, 'exclusive');
  const parentIds = [...new Set(batch.map((c) => c.parentId).filter((id): id is number => id !== null))];
  const parents = new Map(
    (parentIds.length === 0 ? [] : await tx.group.findMany({ where: { tenantId, id: { in: parentIds } } })).map((g) => [g.id, g]),
  );
  // Existing siblings with the names asked for: the first (lowest id) per place and name.
  const clashes = await tx.$queryRaw<{ parentId: number; name: string; existingId: number }[]>`
    SELECT DISTINCT ON (c.parent, lower(c.name)) c.parent AS "parentId", lower(c.name) AS name, g.id AS "existingId"
    FROM unnest(${batch.map((c) => c.parentId ?? 0)}::int[], ${batch.map((c) => c.name)}::text[]) AS c(parent, name)
    JOIN groups g ON g.tenant_id = ${tenantId}::int AND coalesce(g.parent_group_id, 0) = c.parent AND lower(g.name) = lower(c.name)
    ORDER BY c.parent, lower(c.name), g.id`;
  const placeKey = (parentId: number | null, name: string) => `${parentId ?? 0}\u0000${name.toLowerCase()}`;
  const existing = new Map(clashes.map((c) => [placeKey(c.parentId, c.name), c.existingId]));

  // Each creation's checks, in arrival order; an earlier accepted one takes its place and name.
  const outcomes: (DomainError | 'accepted' | 'second')[] = [];
  const claimed = new Set<string>();
  batch.forEach((c) => {
    const parent = c.parentId === null ? null : parents.get(c.parentId);
    if (parent === undefined || (parent && !isVisible(c.ctx.access, parent.path))) {
      outcomes.push(new NotFoundError('Group', c.parentId!, 'parentId'));
      return;
    }
    const refused =
      refusal(() => c.ctx.access.requireGroupWrite('groups:write', parent ? parent.path : null)) ??
      refusal(() => checkDepth(c.ctx, (parent?.path.length ?? 0) + 1));
    if (refused) {
      outcomes.push(refused);
      return;
    }
    const key = placeKey(c.parentId, c.name);
    const existingId = existing.get(key);
    if (existingId !== undefined) {
      outcomes.push(nameTaken(c.name, c.parentId, existingId));
      return;
    }
    // A second creation of one name in one place: refused once the first has its id.
    outcomes.push(claimed.has(key) ? 'second' : 'accepted');
    claimed.add(key);
  });

  const accepted = batch.filter((_, i) => outcomes[i] === 'accepted');
  const made = new Map<string, Group>();
  if (accepted.length > 0) {
    // Ids in arrival order; each path is its parent's (locked by the tree lock) and the id.
    const ids = await tx.$queryRaw<{ id: number }[]>`
      INSERT INTO groups (id, tenant_id, name, description, parent_group_id, path)
      SELECT k.id, ${tenantId}::int, k.name, k.description, p.id, coalesce(p.path, '{}') || k.id
      FROM (SELECT c.*, nextval(pg_get_serial_sequence('groups', 'id'))::int AS id
            FROM unnest(${accepted.map((c) => c.name)}::text[], ${accepted.map((c) => c.description)}::text[], ${accepted.map((c) => c.parentId ?? 0)}::int[])
                 WITH ORDINALITY AS c(name, description, parent, ord)
            ORDER BY c.ord) k
      LEFT JOIN groups p ON p.tenant_id = ${tenantId}::int AND p.id = k.parent
      RETURNING id`;
    const rows = await tx.group.findMany({ where: { tenantId, id: { in: ids.map((r) => r.id) } } });
    for (const row of rows) made.set(placeKey(row.parentGroupId, row.name), row);
    await recordEventsOfSources(
      tx,
      tenantId,
      accepted.map((c) => ({ source: c.ctx, entry: creationEvent(made.get(placeKey(c.parentId, c.name))!) })),
    );
  }
  return batch.map((c, i) => {
    const outcome = outcomes[i];
    if (outcome instanceof DomainError) return outcome;
    const group = made.get(placeKey(c.parentId, c.name))!;
    // A later creation of the same name in the same place: refused as it would be after the first.
    return outcome === 'second' ? nameTaken(c.name, c.parentId, group.id) : group;
  });
}

function creationEvent(group: Group): AuditEntry {
  return {
    action: 'GROUP_CREATED',
    target: { type: 'Group', id: group.id },
    group: { id: group.id, paths: [group.path] },
    changes: changed({
      name: { before: null, after: group.name },
      description: { before: null, after: group.description },
      parentId: { before: null, after: group.parentGroupId },
      externalId: { before: null, after: null },
    }),
  };
}
