// Import and export of a whole workspace (README "Import and export"): the file format in
// ./format, what an import would change in ./plan, and here the one transaction that applies it.
//
// An import runs under the workspace's tree lock (exclusive) in one transaction: it reads the
// workspace, plans, and writes set-based, one statement per thousands of rows (INSERT … SELECT
// and UPDATE … FROM json_to_recordset or unnest, the rows sent as one parameter). The kept counts
// (child_count, subtree_size, the workspace's totals) follow from the statement-level triggers of the scale
// migration, once per statement, not per row. It adds and updates; it never deletes.
// The trail records it as one WORKSPACE_IMPORTED event with its counts, appended last like every
// write's events (src/domain/audit.ts): the feed's numbering and "every event exactly once" hold.
// An import that changes nothing records nothing.
import { afterBulkWrite, isUniqueViolation, writeQueueOf } from '../../db';
import { Prisma } from '../../generated/prisma/client';
import { recordEvents } from '../audit';
import { type DomainContext, type Tx, isVisible } from '../context';
import { ConflictError } from '../errors';
import { confineImport, requireImportScopes } from './access';
import { SIBLING_NAME_INDEX } from '../sibling-names';
import { lockTree } from '../tree-lock';
import type { WorkspaceFile } from './format';
import { type GroupRow, type ImportPlan, type Pairs, type Snapshot, type Tally, type UserRow, planImport } from './plan';

export { FORMAT, FORMAT_VERSION, type WorkspaceFile, parseWorkspaceFile, readWorkspaceFile } from './format';
export { exportWorkspace, formatWorkspaceFile } from './export';
export { IMPORT_SOURCES, type ImportSource, importSourceOf, readImportFile } from './adapters';
import { type ImportSource, readImportFile } from './adapters';

/** An import of a large organisation holds its transaction for tens of seconds. */
const IMPORT_TIMEOUT_MS = 30 * 60_000;
/** Rows per statement: large enough to be set-based, small enough to report progress and stay within a statement's time. */
const ROWS_PER_STATEMENT = 20_000;
const PAIRS_PER_STATEMENT = 100_000;
/**
 * New groups per statement: more than other rows, because each statement's trigger rewrites the
 * kept counts of every ancestor of its rows, most of the tree above them (once per statement).
 */
const GROUPS_PER_STATEMENT = 100_000;

export interface LinkTally {
  created: number;
  unchanged: number;
}

export interface ImportResult {
  dryRun: boolean;
  groups: Tally;
  users: Tally;
  roles: Tally;
  memberships: LinkTally;
  roleAssignments: LinkTally;
}

export interface ImportProgress {
  step: 'roles' | 'users' | 'groups' | 'memberships' | 'roleAssignments';
  done: number;
  total: number;
}

export interface ImportOptions {
  dryRun?: boolean;
  /** Named in the audit event (a file name, say). */
  source?: string | null;
  onProgress?: (progress: ImportProgress) => void | Promise<void>;
}

async function readSnapshot(tx: Tx, tenantId: number, slug: string): Promise<Snapshot> {
  // Raw columns rather than the client's rows: a 100,000-group workspace is read whole here.
  const [groups, users, roles] = [
    await tx.$queryRaw<Snapshot['groups']>`
      SELECT id, external_id AS "externalId", name, description, parent_group_id AS "parentId", path
      FROM groups WHERE tenant_id = ${tenantId}::int ORDER BY id`,
    await tx.$queryRaw<Snapshot['users']>`
      SELECT id, external_id AS "externalId", user_name AS "userName", email, name, given_name AS "givenName",
             family_name AS "familyName", active
      FROM users WHERE tenant_id = ${tenantId}::int ORDER BY id`,
    await tx.$queryRaw<Snapshot['roles']>`SELECT id, name, description FROM roles WHERE tenant_id = ${tenantId}::int ORDER BY id`,
  ];
  return { slug, groups, users, roles };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

/** `n` ids from the table's sequence, ascending. */
async function allocateIds(tx: Tx, table: 'groups' | 'users' | 'roles', n: number): Promise<number[]> {
  if (n === 0) return [];
  const [{ ids }] = await tx.$queryRaw<{ ids: string }[]>`
    SELECT string_agg(nextval(pg_get_serial_sequence(${table}, 'id'))::text, ',') AS ids FROM generate_series(1, ${n}::int)`;
  return ids.split(',').map(Number).sort((a, b) => a - b);
}

/** Placeholder ids of the plan (negative) → the ids allocated for them. */
function realIds(placeholders: readonly { id: number }[], allocated: readonly number[]): (id: number) => number {
  const byPlaceholder = new Map(placeholders.map((row, i) => [row.id, allocated[i]]));
  return (id) => (id > 0 ? id : byPlaceholder.get(id)!);
}

/**
 * Rows sent as one JSON parameter and read back as a table (`FROM ${recordset(rows)} AS k(col type, …)`):
 * faster to send than one array parameter per column, and one parameter however many rows.
 */
const recordset = (rows: readonly object[]) => Prisma.sql`json_to_recordset(${JSON.stringify(rows)}::json)`;

/** Ids as one array literal ('{1,2,3}'): sent as text, much faster than an array parameter. */
const intArray = (ids: readonly number[]) => `{${ids.join(',')}}`;

type Progress = (step: ImportProgress['step'], done: number, total: number) => Promise<void>;

async function writeRoles(tx: Tx, ctx: DomainContext, plan: ImportPlan, progress: Progress) {
  const ids = await allocateIds(tx, 'roles', plan.newRoles.length);
  const total = plan.newRoles.length + plan.changedRoles.length;
  if (plan.newRoles.length > 0) {
    const rows = plan.newRoles.map((r, i) => ({ id: ids[i], name: r.name, description: r.description }));
    await tx.$executeRaw`
      INSERT INTO roles (id, tenant_id, name, description)
      SELECT k.id, ${ctx.tenantId}::int, k.name, k.description FROM ${recordset(rows)} AS k(id int, name text, description text)`;
  }
  if (plan.changedRoles.length > 0) {
    await tx.$executeRaw`
      UPDATE roles r SET description = k.description
      FROM ${recordset(plan.changedRoles)} AS k(id int, name text, description text)
      WHERE r.tenant_id = ${ctx.tenantId}::int AND r.id = k.id`;
  }
  await progress('roles', total, total);
  return realIds(plan.newRoles, ids);
}

async function writeUsers(tx: Tx, ctx: DomainContext, plan: ImportPlan, progress: Progress) {
  const ids = await allocateIds(tx, 'users', plan.newUsers.length);
  const total = plan.newUsers.length + plan.changedUsers.length;
  let done = 0;
  // A user's emails are [the email, as their primary work address] when the import sets it.
  const emailsOf = Prisma.sql`CASE WHEN k.email IS NULL THEN '[]'::jsonb
    ELSE jsonb_build_array(jsonb_build_object('value', k.email, 'type', 'work', 'primary', true)) END`;
  const columns = Prisma.sql`(id int, user_name text, external_id text, email text, name text, given_name text, family_name text, active boolean, email_changed boolean)`;
  const record = (u: UserRow, id: number) => ({
    id,
    user_name: u.userName,
    external_id: u.externalId,
    email: u.email,
    name: u.name,
    given_name: u.givenName,
    family_name: u.familyName,
    active: u.active,
    email_changed: u.emailChanged,
  });
  for (const [n, rows] of chunks(plan.newUsers, ROWS_PER_STATEMENT).entries()) {
    const at = n * ROWS_PER_STATEMENT;
    await tx.$executeRaw`
      INSERT INTO users (id, tenant_id, user_name, external_id, email, name, given_name, family_name, active, emails)
      SELECT k.id, ${ctx.tenantId}::int, k.user_name, k.external_id, k.email, k.name, k.given_name, k.family_name, k.active, ${emailsOf}
      FROM ${recordset(rows.map((u, i) => record(u, ids[at + i])))} AS k${columns}`;
    done += rows.length;
    await progress('users', done, total);
  }
  for (const rows of chunks(plan.changedUsers, ROWS_PER_STATEMENT)) {
    await tx.$executeRaw`
      UPDATE users u SET user_name = k.user_name, email = k.email, name = k.name, given_name = k.given_name,
             family_name = k.family_name, active = k.active, emails = CASE WHEN k.email_changed THEN ${emailsOf} ELSE u.emails END,
             version = u.version + 1, updated_at = now()
      FROM ${recordset(rows.map((u) => record(u, u.id)))} AS k${columns}
      WHERE u.tenant_id = ${ctx.tenantId}::int AND u.id = k.id`;
    done += rows.length;
    await progress('users', done, total);
  }
  return realIds(plan.newUsers, ids);
}

async function writeGroups(tx: Tx, ctx: DomainContext, plan: ImportPlan, progress: Progress) {
  const ids = await allocateIds(tx, 'groups', plan.newGroups.length);
  const real = realIds(plan.newGroups, ids);
  const total = plan.newGroups.length + plan.changedGroups.length;
  let done = 0;
  // New groups first, parents before children (the plan's order): an existing group may move under one.
  const columns = Prisma.sql`(id int, name text, description text, parent int, path int[], external_id text)`;
  const record = (g: GroupRow) => ({
    id: real(g.id),
    name: g.name,
    description: g.description,
    parent: g.parentId === null ? null : real(g.parentId),
    path: g.path.map(real),
    external_id: g.externalId,
  });
  for (const rows of chunks(plan.newGroups, GROUPS_PER_STATEMENT)) {
    await tx.$executeRaw`
      INSERT INTO groups (id, tenant_id, name, description, parent_group_id, path, external_id)
      SELECT k.id, ${ctx.tenantId}::int, k.name, k.description, k.parent, k.path, k.external_id
      FROM ${recordset(rows.map(record))} AS k${columns}`;
    done += rows.length;
    await progress('groups', done, total);
  }
  // Existing groups renamed, described or moved (with their subtrees' paths): a new version each, as a move makes.
  for (const rows of chunks<GroupRow>(plan.changedGroups, ROWS_PER_STATEMENT)) {
    await tx.$executeRaw`
      UPDATE groups g SET name = k.name, description = k.description, parent_group_id = k.parent, path = k.path,
             version = g.version + 1, updated_at = now()
      FROM ${recordset(rows.map(record))} AS k${columns}
      WHERE g.tenant_id = ${ctx.tenantId}::int AND g.id = k.id`;
    done += rows.length;
    await progress('groups', done, total);
  }
  return real;
}

const LINKS = {
  memberships: { table: Prisma.raw('group_members'), a: Prisma.raw('group_id'), b: Prisma.raw('user_id') },
  groupRoles: { table: Prisma.raw('group_roles'), a: Prisma.raw('role_id'), b: Prisma.raw('group_id') },
  userRoles: { table: Prisma.raw('user_roles'), a: Prisma.raw('role_id'), b: Prisma.raw('user_id') },
};

/** How many of the pairs whose ids all exist are rows already (the dry run's count). */
async function countExisting(tx: Tx, link: keyof typeof LINKS, pairs: Pairs): Promise<number> {
  const { table, a, b } = LINKS[link];
  let n = 0;
  for (let i = 0; i < pairs.existing.a.length; i += PAIRS_PER_STATEMENT) {
    const [row] = await tx.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM unnest(${intArray(pairs.existing.a.slice(i, i + PAIRS_PER_STATEMENT))}::int[], ${intArray(pairs.existing.b.slice(i, i + PAIRS_PER_STATEMENT))}::int[]) AS k(a, b)
      JOIN ${table} t ON t.${a} = k.a AND t.${b} = k.b`;
    n += row.n;
  }
  return n;
}

/** Inserts the pairs missing; returns how many it inserted and the distinct `a` ids it inserted for. */
async function insertLinks(
  tx: Tx,
  ctx: DomainContext,
  link: keyof typeof LINKS,
  pairs: Pairs,
  [realA, realB]: [(id: number) => number, (id: number) => number],
  onChunk: (done: number, total: number) => Promise<void>,
): Promise<{ created: number; touched: number[] }> {
  const { table, a, b } = LINKS[link];
  const as = [...pairs.existing.a, ...pairs.fresh.a.map(realA)];
  const bs = [...pairs.existing.b, ...pairs.fresh.b.map(realB)];
  let created = 0;
  const touched: number[] = [];
  for (let i = 0; i < as.length; i += PAIRS_PER_STATEMENT) {
    const [row] = await tx.$queryRaw<{ n: number; touched: string }[]>`
      WITH inserted AS (
        INSERT INTO ${table} (tenant_id, ${a}, ${b})
        SELECT ${ctx.tenantId}::int, k.a, k.b FROM unnest(${intArray(as.slice(i, i + PAIRS_PER_STATEMENT))}::int[], ${intArray(bs.slice(i, i + PAIRS_PER_STATEMENT))}::int[]) AS k(a, b)
        ON CONFLICT DO NOTHING
        RETURNING ${a} AS a)
      SELECT count(*)::int AS n, coalesce(string_agg(DISTINCT a::text, ','), '') AS touched FROM inserted`;
    created += row.n;
    if (row.touched) touched.push(...row.touched.split(',').map(Number));
    await onChunk(Math.min(i + PAIRS_PER_STATEMENT, as.length), as.length);
  }
  return { created, touched };
}

const pairCount = (pairs: Pairs) => pairs.existing.a.length + pairs.fresh.a.length;

function linkTally(pairs: readonly Pairs[], created: number): LinkTally {
  const total = pairs.reduce((sum, p) => sum + pairCount(p), 0);
  return { created, unchanged: total - created };
}

async function writePlan(tx: Tx, ctx: DomainContext, plan: ImportPlan, progress: Progress): Promise<ImportResult> {
  const role = await writeRoles(tx, ctx, plan, progress);
  const user = await writeUsers(tx, ctx, plan, progress);
  const group = await writeGroups(tx, ctx, plan, progress);
  const members = await insertLinks(tx, ctx, 'memberships', plan.memberships, [group, user], (done, total) => progress('memberships', done, total));
  // A group whose members changed is at a new version (SCIM ETags), as when members are added one by one.
  const existingGroups = new Set(plan.memberships.existing.a);
  const bumped = [...new Set(members.touched)].filter((id) => existingGroups.has(id));
  if (bumped.length > 0) {
    await tx.$executeRaw`UPDATE groups SET version = version + 1, updated_at = now() WHERE tenant_id = ${ctx.tenantId}::int AND id = ANY(${intArray(bumped)}::int[])`;
  }
  const assignments = pairCount(plan.groupRoles) + pairCount(plan.userRoles);
  const onGroupRoles = (done: number) => progress('roleAssignments', done, assignments);
  const onUserRoles = (done: number) => progress('roleAssignments', pairCount(plan.groupRoles) + done, assignments);
  const groupRoles = await insertLinks(tx, ctx, 'groupRoles', plan.groupRoles, [role, group], onGroupRoles);
  const userRoles = await insertLinks(tx, ctx, 'userRoles', plan.userRoles, [role, user], onUserRoles);
  return {
    dryRun: false,
    groups: plan.groups,
    users: plan.users,
    roles: plan.roles,
    memberships: linkTally([plan.memberships], members.created),
    roleAssignments: linkTally([plan.groupRoles, plan.userRoles], groupRoles.created + userRoles.created),
  };
}

async function countPlan(tx: Tx, plan: ImportPlan): Promise<ImportResult> {
  const members = await countExisting(tx, 'memberships', plan.memberships);
  const assigned = (await countExisting(tx, 'groupRoles', plan.groupRoles)) + (await countExisting(tx, 'userRoles', plan.userRoles));
  const memberships = pairCount(plan.memberships);
  const roleAssignments = pairCount(plan.groupRoles) + pairCount(plan.userRoles);
  return {
    dryRun: true,
    groups: plan.groups,
    users: plan.users,
    roles: plan.roles,
    memberships: { created: memberships - members, unchanged: members },
    roleAssignments: { created: roleAssignments - assigned, unchanged: assigned },
  };
}

const changedAnything = (r: ImportResult) =>
  [r.groups, r.users, r.roles].some((t) => t.created + t.updated > 0) || r.memberships.created + r.roleAssignments.created > 0;

/** A unique index that a concurrent writer's row, or an order of renames, made the import break: CONFLICT, nothing written. */
const UNIQUE_INDEXES = [SIBLING_NAME_INDEX, 'users_tenant_id_user_name_key', 'users_tenant_id_email_key', 'roles_tenant_id_name_key'];

async function conflictsAsErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    const index = UNIQUE_INDEXES.find((name) => isUniqueViolation(error, name));
    if (!index) throw error;
    throw new ConflictError(`the import breaks the unique index ${index} (a name, userName or email already taken); nothing was written`, { index });
  }
}

/**
 * Applies `file` to the workspace: creates what is new, updates what differs, leaves the rest,
 * and returns the counts of each. With `dryRun`, only plans and counts: nothing is written.
 * Refused, with nothing written, when the file breaks a rule (ValidationError at its JSON pointer).
 * Needs the write scopes the file's contents need, and stays inside the subtrees of restricted
 * ones (./access): FORBIDDEN at the first entry's JSON pointer otherwise, nothing written.
 */
export async function importWorkspace(ctx: DomainContext, slug: string, file: WorkspaceFile, options: ImportOptions = {}): Promise<ImportResult> {
  requireImportScopes(ctx.access, file);
  const progress: Progress = async (step, done, total) => {
    await options.onProgress?.({ step, done, total });
  };
  const work = async (tx: Tx): Promise<ImportResult> => {
    // The pool's limits suit requests; an import's statements, and its planning between them, take longer.
    await tx.$executeRaw`SET LOCAL statement_timeout = '300s'`;
    await tx.$executeRaw`SET LOCAL idle_in_transaction_session_timeout = '300s'`;
    await lockTree(tx, ctx.tenantId, options.dryRun ? 'shared' : 'exclusive');
    const snapshot = await readSnapshot(tx, ctx.tenantId, slug);
    // Groups the credential cannot read are, to the plan, as if they did not exist: an external id
    // of one is no group's, and no refusal names one (single writes answer NOT_FOUND alike).
    const plan = planImport(file, snapshot, ctx.maxGroupDepth, (path) => isVisible(ctx.access, path));
    confineImport(ctx.access, file, new Map(snapshot.groups.map((g) => [g.id, g])), plan);
    if (plan.hiddenClash) throw plan.hiddenClash;
    if (options.dryRun) return countPlan(tx, plan);
    const result = await writePlan(tx, ctx, plan, progress);
    if (changedAnything(result)) {
      const { dryRun: _, ...counts } = result;
      const changes = Object.fromEntries(Object.entries(counts).map(([kind, tally]) => [kind, { before: null, after: tally }]));
      await recordEvents(tx, ctx, [
        {
          action: 'WORKSPACE_IMPORTED',
          target: { type: 'Workspace', id: ctx.tenantId },
          changes: { ...changes, source: { before: null, after: options.source ?? null } },
        },
      ]);
    }
    return result;
  };
  const transaction = () => ctx.db.$transaction(work, { timeout: IMPORT_TIMEOUT_MS, maxWait: 60_000 });
  const queue = options.dryRun ? null : writeQueueOf(ctx.db);
  const result = await conflictsAsErrors(queue ? queue.run(ctx.tenantId, transaction) : transaction());
  if (!result.dryRun) await afterBulkWrite(ctx.db, ctx.tenantId, bulkWrittenTables(result));
  return result;
}

/** Rows an import must write to a table before its statistics are brought up to date at once (smaller ones wait for the keeper's round). */
const BULK_ROWS = 500;

/**
 * The tables an import changed in bulk. Groups count the memberships and roles too: a group whose
 * members or roles change gets a new version.
 */
function bulkWrittenTables(result: ImportResult): string[] {
  const written = (t: Tally) => t.created + t.updated;
  const tables: [string, number][] = [
    ['groups', written(result.groups) + result.memberships.created + result.roleAssignments.created],
    ['users', written(result.users)],
    ['group_members', result.memberships.created],
    ['group_roles', result.roleAssignments.created],
    ['user_roles', result.roleAssignments.created],
  ];
  return tables.filter(([, rows]) => rows >= BULK_ROWS).map(([name]) => name);
}

/**
 * Imports a document sent through the API: the file's JSON value, or, for `csv` (or any source),
 * its text as a string. Errors are placed in the document as the CLI places them in its file.
 */
export async function importDocument(ctx: DomainContext, slug: string, document: unknown, source: ImportSource, options: { dryRun: boolean }): Promise<ImportResult> {
  const text = typeof document === 'string' ? document : JSON.stringify(document);
  const { file, relocate } = readImportFile(text, source);
  return importWorkspace(ctx, slug, file, { dryRun: options.dryRun, source: `api:${source}` }).catch((error: unknown) => {
    throw relocate(error);
  });
}
