// Users: created by hand (GraphQL createUser) or provisioned by an identity provider (SCIM), with
// the attributes IdPs push. A deactivated user (`active: false`) is kept but grants nothing.
import { Prisma } from '../generated/prisma/client';
import type { User } from '../generated/prisma/client';
import { changed, eventsOnGroups, recordEvents } from './audit';
import type { DomainContext, Tx } from './context';
import { workspaceCounts } from './counts';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import { conflictOnDuplicate } from './unique';
import { lockVersion } from './versions';
import { ID_ORDER, type Page, type SortKey, type SortableSql, type Window, idPage } from './pages';
import { ownerIds, pagesOfOwners } from './reads/pages-of-owners';
import { rowsById } from './rows';
import { containsText, normaliseEmail, optionalName, optionalText, searchPattern } from './validate';
import { writeTransaction } from './write-turn';

export type { User } from '../generated/prisma/client';

export async function usersByIds(ctx: DomainContext, ids: readonly number[]): Promise<(User | null)[]> {
  const rows = await ctx.db.user.findMany({ where: { tenantId: ctx.tenantId, id: { in: [...ids] } } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? null);
}

function searchWhere(ctx: DomainContext, search: string | null | undefined): Prisma.UserWhereInput {
  const text = searchPattern(search);
  return {
    tenantId: ctx.tenantId,
    ...(text ? { OR: [{ name: containsText(text) }, { email: containsText(text) }] } : {}),
  };
}

/**
 * What users (alias `u`) sort by: the expressions of the sorting migration's indexes. A user
 * without a name sorts as the empty name (first ascending).
 */
export const USER_SORTABLE: SortableSql = { NAME: Prisma.sql`lower(coalesce(u.name, '')) COLLATE "C"`, CREATED_AT: Prisma.sql`u.created_at` };

/** A page of the workspace's users by id or in the window's order; `search` matches name or email. */
export async function userPage(ctx: DomainContext, window: Window<number | SortKey>, search?: string | null): Promise<Page<User>> {
  if (window.order === ID_ORDER) {
    const where = searchWhere(ctx, search);
    // Above the workspace's user id floor: the scan starts past the users of the workspaces made before it.
    const floor = { id: { gt: ctx.userIdFloor ?? 0 } };
    return idPage(window as Window<number>, (args) => ctx.db.user.findMany({ ...args, where: { AND: [where, floor, args.where] } }));
  }
  const text = searchPattern(search);
  const pattern = text ? `%${containsText(text).contains}%` : null;
  const items = {
    from: Prisma.sql`users u`,
    id: Prisma.sql`u.id`,
    where: pattern ? Prisma.sql`u.tenant_id = k.id AND (u.name ILIKE ${pattern} OR u.email ILIKE ${pattern})` : Prisma.sql`u.tenant_id = k.id`,
    sortable: USER_SORTABLE,
  };
  const [page] = await pagesOfOwners(ctx, { owners: ownerIds([ctx.tenantId]), items: [items] }, window, (ids) =>
    rowsById(ids, (distinct) => ctx.db.user.findMany({ where: { tenantId: ctx.tenantId, id: { in: distinct } } })),
  );
  return page;
}

/** How many users a search matches: the count the writes keep, or (with a search) counted. */
export async function countUsers(ctx: DomainContext, search?: string | null): Promise<number> {
  if (searchPattern(search)) return ctx.db.user.count({ where: searchWhere(ctx, search) });
  return (await workspaceCounts(ctx.db, ctx.tenantId)).users;
}

export interface UserEmail {
  value: string;
  type: string | null;
  primary: boolean;
}

/** What an identity provider says about a user: every attribute the service keeps. */
export interface UserProfile {
  userName: string;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
  /** The display name (`User.name` elsewhere). */
  name: string | null;
  emails: UserEmail[];
  active: boolean;
}

/** A profile as a transport hands it over, before checkProfile. */
type ProfileInput = { [K in keyof UserProfile]?: unknown };

const MAX_TEXT = 255;
const MAX_EMAILS = 20;

function checkEmails(value: unknown): UserEmail[] {
  if (!Array.isArray(value)) throw new ValidationError('emails', 'emails must be a list');
  if (value.length > MAX_EMAILS) throw new ValidationError('emails', `a user has at most ${MAX_EMAILS} emails`);
  return value.map((entry: Partial<UserEmail>, i) => ({
    value: normaliseEmail(entry?.value, `emails[${i}].value`),
    type: optionalText(entry?.type, `emails[${i}].type`, 32) ?? null,
    primary: entry?.primary === true,
  }));
}

/** Checks and trims every attribute; `userName` is required, the rest may be null. */
export function checkProfile(input: ProfileInput): UserProfile {
  const userName = optionalName(input.userName, 'userName', MAX_TEXT);
  if (!userName) throw new ValidationError('userName', 'userName is required');
  if (typeof input.active !== 'boolean' && input.active !== undefined) throw new ValidationError('active', 'active must be a boolean');
  return {
    userName,
    externalId: optionalText(input.externalId, 'externalId', MAX_TEXT) ?? null,
    givenName: optionalName(input.givenName, 'name.givenName', MAX_TEXT) ?? null,
    familyName: optionalName(input.familyName, 'name.familyName', MAX_TEXT) ?? null,
    name: optionalName(input.name, 'displayName', MAX_TEXT) ?? null,
    emails: checkEmails(input.emails ?? []),
    active: input.active ?? true,
  };
}

/** The one address the rest of the service shows: the primary email, else the work one, else the first. */
export function mainEmail(emails: readonly UserEmail[]): string | null {
  return (emails.find((e) => e.primary) ?? emails.find((e) => e.type === 'work') ?? emails[0])?.value ?? null;
}

function columnsOf(profile: UserProfile) {
  return { ...profile, email: mainEmail(profile.emails), emails: profile.emails as unknown as Prisma.InputJsonValue };
}

/** The profile a user row holds, as it is compared for changes and recorded in the trail. */
export function profileOf(user: User): UserProfile {
  const { userName, externalId, givenName, familyName, name, active } = user;
  // jsonb keeps an object's keys in its own order: rebuilt in ours, so equal emails compare equal.
  const emails = (user.emails as unknown as UserEmail[]).map(({ value, type, primary }) => ({ value, type, primary }));
  return { userName, externalId, givenName, familyName, name, emails, active };
}

/** A userName or email another user of the workspace holds (ignoring case) is a CONFLICT naming the field. */
async function requireUnique(tx: Tx, ctx: DomainContext, profile: UserProfile, exceptId: number | null): Promise<void> {
  const email = mainEmail(profile.emails);
  const others = await tx.$queryRaw<{ userName: string; email: string | null }[]>`
    SELECT user_name AS "userName", email FROM users
    WHERE tenant_id = ${ctx.tenantId}::int AND id IS DISTINCT FROM ${exceptId}::int
      AND (lower(user_name) = lower(${profile.userName}) OR email = ${email})`;
  const userNameTaken = others.some((u) => u.userName.toLowerCase() === profile.userName.toLowerCase());
  // A hand-made user's userName is their email: a clash of the two is about the email.
  if (userNameTaken && profile.userName.toLowerCase() !== email) {
    throw new ConflictError(`a user with userName ${profile.userName} already exists in this workspace`, { field: 'userName' });
  }
  if (others.length > 0) throw new ConflictError(`a user with email ${email} already exists in this workspace`, { field: 'email' });
}

/** Concurrent writers that both passed requireUnique: the unique index decides, and the loser is a CONFLICT too. */
const uniqueOrConflict = <T>(write: Promise<T>) =>
  conflictOnDuplicate(write, 'a user with this userName or email already exists in this workspace', 'userName');

const created = (fields: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(fields).map(([field, after]) => [field, { before: null, after }]));

async function insertUser(ctx: DomainContext, profile: UserProfile, recorded: (user: User) => Record<string, unknown>): Promise<User> {
  return uniqueOrConflict(
    writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
      await requireUnique(tx, ctx, profile, null);
      const user = await tx.user.create({ data: { tenantId: ctx.tenantId, ...columnsOf(profile) } });
      await recordEvents(tx, ctx, [{ action: 'USER_CREATED', target: { type: 'User', id: user.id }, changes: created(recorded(user)) }]);
      return user;
    }),
  );
}

/** A user made by hand: their email is their userName too. The trail records the two fields given. */
export function createUser(ctx: DomainContext, input: { email: unknown; name?: unknown }): Promise<User> {
  const email = normaliseEmail(input.email);
  const name = optionalName(input.name, 'name', MAX_TEXT) ?? null;
  const profile = { ...checkProfile({ userName: email, name }), emails: [{ value: email, type: 'work', primary: true }] };
  return insertUser(ctx, profile, (user) => ({ email: user.email, name: user.name }));
}

/** A user an identity provider pushes; the trail records every attribute. */
export function provisionUser(ctx: DomainContext, input: ProfileInput): Promise<User> {
  return insertUser(ctx, checkProfile(input), (user) => ({ email: user.email, ...profileOf(user) }));
}

async function lockedUser(tx: Tx, ctx: DomainContext, id: number, expectedVersion: number | null): Promise<User> {
  await lockVersion(tx, 'users', ctx.tenantId, id, expectedVersion, () => new NotFoundError('User', id));
  return tx.user.findUniqueOrThrow({ where: { id } });
}

/**
 * Replaces every attribute of the profile. With `expectedVersion`, a user changed since that
 * version is refused (PreconditionFailedError) and nothing is written.
 */
export function updateUser(
  ctx: DomainContext,
  id: number,
  input: ProfileInput,
  expectedVersion: number | null = null,
): Promise<User> {
  return changeUser(ctx, id, () => input, expectedVersion);
}

/**
 * Sets the profile `change` makes of the user as it is, read with the row locked: concurrent
 * changes of one user apply one after the other, none lost (SCIM's PATCH without If-Match).
 */
export async function changeUser(
  ctx: DomainContext,
  id: number,
  change: (user: User) => ProfileInput,
  expectedVersion: number | null = null,
): Promise<User> {
  return uniqueOrConflict(
    writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
      const before = await lockedUser(tx, ctx, id, expectedVersion);
      const profile = checkProfile(change(before));
      const changes = changed(
        Object.fromEntries(Object.entries(profile).map(([field, after]) => [field, { before: profileOf(before)[field as keyof UserProfile], after }])),
      );
      if (Object.keys(changes).length === 0) return before;
      await requireUnique(tx, ctx, profile, id);
      const after = await tx.user.update({
        where: { id },
        data: { ...columnsOf(profile), version: { increment: 1 }, updatedAt: new Date() },
      });
      await recordEvents(tx, ctx, [{ action: 'USER_UPDATED', target: { type: 'User', id }, changes }]);
      return after;
    }),
  );
}

/** What GraphQL's updateUser may change; absent fields stay as they are, null clears (userName and active cannot be null). */
export interface UserEdit {
  name?: unknown;
  email?: unknown;
  userName?: unknown;
  externalId?: unknown;
  active?: unknown;
}

/**
 * The emails with the main address (the one `User.email` shows) replaced by `email`, or removed
 * when null; a user without one gets it as their primary work address.
 */
function withMainEmail(emails: readonly UserEmail[], email: string | null): UserEmail[] {
  const main = mainEmail(emails);
  const others = emails.filter((entry) => entry.value !== main && entry.value !== email);
  if (email === null) return others;
  const kept = emails.find((entry) => entry.value === main);
  return [kept ? { ...kept, value: email } : { value: email, type: 'work', primary: true }, ...others];
}

/**
 * Edits a user's attributes through changeUser, the write SCIM's PUT and PATCH make: the same
 * checks, uniqueness CONFLICTs, version and USER_UPDATED event; `active: false` deactivates
 * exactly as SCIM does. `email` is the main address; `userName` does not follow it.
 */
export function editUser(ctx: DomainContext, id: number, edit: UserEdit): Promise<User> {
  const name = edit.name === undefined ? undefined : (optionalName(edit.name, 'name', MAX_TEXT) ?? null);
  const email = edit.email === undefined || edit.email === null ? edit.email : normaliseEmail(edit.email);
  const externalId = edit.externalId === undefined ? undefined : (optionalText(edit.externalId, 'externalId', MAX_TEXT) ?? null);
  return changeUser(ctx, id, (user) => {
    const profile: ProfileInput = profileOf(user);
    if (name !== undefined) profile.name = name;
    if (email !== undefined) profile.emails = withMainEmail(profileOf(user).emails, email);
    if (externalId !== undefined) profile.externalId = externalId;
    if (edit.userName !== undefined) profile.userName = edit.userName;
    if (edit.active !== undefined) profile.active = edit.active;
    return profile;
  });
}

/**
 * Deletes the user with their memberships and role assignments. Each group they leave records a
 * MEMBER_REMOVED event and a new version, as if the membership had been removed on its own, so
 * readers of a subtree's trail and feed see the member go.
 */
export async function deleteUser(ctx: DomainContext, id: number, expectedVersion: number | null = null): Promise<number> {
  return writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
    const user = await lockedUser(tx, ctx, id, expectedVersion);
    const left = await tx.$queryRaw<{ id: number; path: number[] }[]>`
      UPDATE groups g SET version = g.version + 1, updated_at = now()
      FROM group_members gm
      WHERE gm.tenant_id = ${ctx.tenantId}::int AND gm.user_id = ${id}::int AND g.id = gm.group_id
      RETURNING g.id, g.path`;
    await tx.user.delete({ where: { id } });
    await recordEvents(tx, ctx, [
      {
        action: 'USER_DELETED',
        target: { type: 'User', id },
        changes: { userName: { before: user.userName, after: null }, email: { before: user.email, after: null } },
      },
      ...eventsOnGroups('MEMBER_REMOVED', left, { userId: { before: id, after: null } }),
    ]);
    return id;
  });
}
