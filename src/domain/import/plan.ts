// What an import would change, worked out in memory from the file and a snapshot of the workspace
// taken under its tree lock: which rows to create and update, and every rule checked on the
// workspace as it would be afterwards (references, cycles, depth, sibling names, unique userNames
// and emails). Nothing here writes; a file that breaks a rule is refused at its JSON pointer.
//
// Rows not yet made carry placeholder ids (-1, -2, … by their index in the file) until the write
// allocates real ones: the dry run and the import share one plan.
import { ForbiddenError, type ValidationError } from '../errors';
import { fileError, type WorkspaceFile } from './format';

export interface ExistingGroup {
  id: number;
  externalId: string | null;
  name: string;
  description: string | null;
  parentId: number | null;
  path: number[];
}

export interface ExistingUser {
  id: number;
  externalId: string | null;
  userName: string;
  email: string | null;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  active: boolean;
}

export interface ExistingRole {
  id: number;
  name: string;
  description: string | null;
}

export interface Snapshot {
  slug: string;
  groups: ExistingGroup[];
  users: ExistingUser[];
  roles: ExistingRole[];
}

export interface Tally {
  created: number;
  updated: number;
  unchanged: number;
}

/** A group as the import writes it: an existing group's columns, with placeholder ids for new ones. */
export type GroupRow = ExistingGroup;

export type UserRow = ExistingUser & { emailChanged: boolean };

export interface Pairs {
  /** Both ids exist already: the row may be there. */
  existing: { a: number[]; b: number[] };
  /** At least one id is a placeholder: the row is new. */
  fresh: { a: number[]; b: number[] };
}

export interface ImportPlan {
  groups: Tally;
  users: Tally;
  roles: Tally;
  /** New groups, parents before children; ids and paths hold placeholders. */
  newGroups: GroupRow[];
  /** Existing groups to rewrite: changed by the file, or moved along with an ancestor. */
  changedGroups: GroupRow[];
  newUsers: UserRow[];
  changedUsers: UserRow[];
  newRoles: ExistingRole[];
  changedRoles: ExistingRole[];
  /** Group id, user id (distinct). */
  memberships: Pairs;
  /** Role id, group id. */
  groupRoles: Pairs;
  /** Role id, user id. */
  userRoles: Pairs;
  /** The group an external id names, in the file or the workspace (a placeholder id for a new one). */
  resolveGroup(externalId: string, pointer: string): number;
  /** The path (root..self) a group will have after the import. */
  pathAfter(id: number): readonly number[];
  /**
   * A name the file gives that a sibling the credential cannot read already has: the file's
   * refusal, thrown only once the access checks have passed (./access, `confineImport`).
   */
  hiddenClash: ValidationError | null;
}

/**
 * The external id `kauth export` writes for a row that has none: `kauth:<slug>:<id>`. Importing it
 * into the same workspace finds that row again (so export then import there changes nothing);
 * into another workspace it is an ordinary external id.
 */
export const syntheticExternalId = (slug: string, id: number) => `kauth:${slug}:${id}`;

/** Finds existing rows by external id: the id stored, or the synthetic one of a row that has none. */
function externalIndex<T extends { id: number; externalId: string | null }>(rows: readonly T[], slug: string, hidden: (row: T) => boolean = () => false) {
  const byExternal = new Map<string, number[]>();
  // External ids of rows the credential cannot read: found by no reference, claimed by no new row.
  const hiddenExternal = new Set<string>();
  const byId = new Map<number, T>();
  for (const row of rows) {
    byId.set(row.id, row);
    const key = row.externalId ?? syntheticExternalId(slug, row.id);
    if (hidden(row)) {
      hiddenExternal.add(key);
      continue;
    }
    const ids = byExternal.get(key);
    if (ids) ids.push(row.id);
    else byExternal.set(key, [row.id]);
  }
  return {
    byId,
    /** The existing row with this external id; undefined if none (or none the credential can read); several: refused at `pointer`. */
    find(externalId: string, pointer: string, kind: string): number | undefined {
      const ids = byExternal.get(externalId);
      if (!ids) return undefined;
      if (ids.length > 1) throw fileError(pointer, `${ids.length} ${kind}s of the workspace have the externalId ${JSON.stringify(externalId)} (${ids.join(', ')}): which one is meant is ambiguous`);
      return ids[0];
    },
    /** True when only rows the credential cannot read have this external id. */
    hidden: (externalId: string) => hiddenExternal.has(externalId) && !byExternal.has(externalId),
  };
}

const sameArray = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

function planGroups(file: WorkspaceFile, snapshot: Snapshot, maxDepth: number, visible: (path: readonly number[]) => boolean) {
  const existing = externalIndex(snapshot.groups, snapshot.slug, (g) => !visible(g.path));
  // The workspace as it will be: every existing group, then the file's over them.
  const final = new Map<number, { name: string; description: string | null; parentId: number | null; externalId: string | null; index: number | null }>();
  for (const g of snapshot.groups) final.set(g.id, { ...g, index: null });
  const keyOf = new Map<string, number>();
  file.groups.forEach((g, i) => {
    // A new group may not take the external id of one the credential cannot read (two groups would
    // then share it); the refusal names neither that group nor where it is.
    if (existing.hidden(g.externalId)) {
      throw new ForbiddenError(`/groups/${i}: the externalId ${JSON.stringify(g.externalId)} belongs to a group outside the credential's subtrees`, [['groups:write']], {
        pointer: `/groups/${i}`,
      });
    }
    keyOf.set(g.externalId, existing.find(g.externalId, `/groups/${i}/externalId`, 'group') ?? -(i + 1));
  });
  const resolve = (externalId: string, pointer: string) => {
    const id = keyOf.get(externalId) ?? existing.find(externalId, pointer, 'group');
    if (id === undefined) throw fileError(pointer, `no group in the file or the workspace has the externalId ${JSON.stringify(externalId)}`);
    return id;
  };
  file.groups.forEach((g, i) => {
    const id = keyOf.get(g.externalId)!;
    const parentId = g.parent === null ? null : resolve(g.parent, `/groups/${i}/parent`);
    // An existing group keeps its external id (none, when the file names it by its synthetic one).
    const externalId = id > 0 ? existing.byId.get(id)!.externalId : g.externalId;
    final.set(id, { name: g.name, description: g.description, parentId, externalId, index: i });
  });

  // Paths from the roots down; a group never reached sits on a cycle.
  const children = new Map<number | null, number[]>();
  for (const [id, g] of final) {
    const list = children.get(g.parentId);
    if (list) list.push(id);
    else children.set(g.parentId, [id]);
  }
  const paths = new Map<number, number[]>();
  const order: number[] = [];
  const queue: number[] = [];
  for (const id of children.get(null) ?? []) {
    paths.set(id, [id]);
    queue.push(id);
  }
  for (let next = 0; next < queue.length; next += 1) {
    const id = queue[next];
    order.push(id);
    const path = paths.get(id)!;
    // A group the import makes or moves too deep is refused, at the nearest group the file places;
    // one left where it is stays (a workspace made under a larger MAX_GROUP_DEPTH, as through the API).
    const stays = existing.byId.has(id) && sameArray(existing.byId.get(id)!.path, path);
    const blamed = path.length > maxDepth && !stays ? [...path].reverse().map((k) => final.get(k)!.index).find((index) => index !== null) : undefined;
    if (blamed !== undefined && blamed !== null) {
      throw fileError(`/groups/${blamed}/parent`, `groups can be nested at most ${maxDepth} levels deep (MAX_GROUP_DEPTH=${maxDepth}); this would make ${path.length}`);
    }
    for (const child of children.get(id) ?? []) {
      paths.set(child, [...path, child]);
      queue.push(child);
    }
  }
  if (paths.size < final.size) {
    const index = file.groups.findIndex((g) => !paths.has(keyOf.get(g.externalId)!));
    throw fileError(`/groups/${index}/parent`, 'makes a cycle: the group would be its own ancestor');
  }

  // Names unique among siblings, ignoring case, in the workspace as it will be. A clash with a
  // group the credential cannot read is kept for after the access checks (`hiddenClash`): a file
  // they refuse anyway must not learn that such a name exists there.
  const named = new Map<string, number>();
  let hiddenClash: ValidationError | null = null;
  for (const id of order) {
    const g = final.get(id)!;
    const key = `${g.parentId ?? 0}\u0000${g.name.toLowerCase()}`;
    const other = named.get(key);
    if (other !== undefined) {
      const [mine, theirs] = g.index !== null ? [g.index, other] : [final.get(other)!.index!, id];
      const theirIndex = final.get(theirs)!.index;
      const seen = theirIndex !== null || visible(paths.get(theirs)!);
      const where = theirIndex !== null ? `/groups/${theirIndex}` : seen ? `group ${theirs}` : 'a group the credential cannot read';
      const clash = fileError(`/groups/${mine}/name`, `${where} has the same name ${JSON.stringify(g.name)} under the same parent; names are unique among siblings, ignoring case`);
      if (seen) throw clash;
      hiddenClash ??= clash;
      continue;
    }
    named.set(key, id);
  }

  const tally: Tally = { created: 0, updated: 0, unchanged: 0 };
  const newGroups: GroupRow[] = [];
  const changedGroups: GroupRow[] = [];
  for (const id of order) {
    const g = final.get(id)!;
    const row = { id, externalId: g.externalId, name: g.name, description: g.description, parentId: g.parentId, path: paths.get(id)! };
    const before = existing.byId.get(id);
    if (!before) {
      newGroups.push(row);
      tally.created += 1;
      continue;
    }
    const edited = before.name !== row.name || before.description !== row.description || before.parentId !== row.parentId;
    if (edited || !sameArray(before.path, row.path)) changedGroups.push(row);
    if (g.index !== null) tally[edited ? 'updated' : 'unchanged'] += 1;
  }
  return { tally, newGroups, changedGroups, resolve, pathAfter: (id: number) => paths.get(id)!, hiddenClash };
}

const USER_FIELDS = ['userName', 'email', 'name', 'givenName', 'familyName', 'active'] as const;

function planUsers(file: WorkspaceFile, snapshot: Snapshot) {
  const existing = externalIndex(snapshot.users, snapshot.slug);
  const keyOf = new Map<string, number>();
  file.users.forEach((u, i) => keyOf.set(u.externalId, existing.find(u.externalId, `/users/${i}/externalId`, 'user') ?? -(i + 1)));
  // userNames (ignoring case) and emails stay unique: the file's values over the others' current ones.
  const holders = { userName: new Map<string, number>(), email: new Map<string, number>() };
  const fileIndexOf = new Map<number, number>();
  file.users.forEach((u, i) => fileIndexOf.set(keyOf.get(u.externalId)!, i));
  const claim = (field: 'userName' | 'email', value: string | null, id: number) => {
    if (value === null) return;
    const key = field === 'userName' ? value.toLowerCase() : value;
    const other = holders[field].get(key);
    if (other !== undefined && other !== id) {
      const [mine, theirs] = fileIndexOf.has(id) ? [id, other] : [other, id];
      const where = fileIndexOf.has(theirs) ? `/users/${fileIndexOf.get(theirs)}` : `user ${theirs}`;
      throw fileError(`/users/${fileIndexOf.get(mine)}/${field}`, `${where} has the same ${field} ${JSON.stringify(value)}${field === 'userName' ? ' (ignoring case)' : ''}`);
    }
    holders[field].set(key, id);
  };
  for (const u of snapshot.users) {
    if (fileIndexOf.has(u.id)) continue;
    claim('userName', u.userName, u.id);
    claim('email', u.email, u.id);
  }
  const tally: Tally = { created: 0, updated: 0, unchanged: 0 };
  const newUsers: UserRow[] = [];
  const changedUsers: UserRow[] = [];
  for (const u of file.users) {
    const id = keyOf.get(u.externalId)!;
    claim('userName', u.userName, id);
    claim('email', u.email, id);
    const before = existing.byId.get(id);
    const row = { ...u, id, externalId: before ? before.externalId : u.externalId, emailChanged: before?.email !== u.email };
    if (!before) {
      newUsers.push(row);
      tally.created += 1;
    } else if (USER_FIELDS.some((field) => before[field] !== u[field])) {
      changedUsers.push(row);
      tally.updated += 1;
    } else tally.unchanged += 1;
  }
  const resolve = (externalId: string, pointer: string) => {
    const id = keyOf.get(externalId) ?? existing.find(externalId, pointer, 'user');
    if (id === undefined) throw fileError(pointer, `no user in the file or the workspace has the externalId ${JSON.stringify(externalId)}`);
    return id;
  };
  return { tally, newUsers, changedUsers, resolve };
}

function planRoles(file: WorkspaceFile, snapshot: Snapshot) {
  const byName = new Map(snapshot.roles.map((r) => [r.name, r]));
  const keyOf = new Map<string, number>();
  const tally: Tally = { created: 0, updated: 0, unchanged: 0 };
  const newRoles: ExistingRole[] = [];
  const changedRoles: ExistingRole[] = [];
  file.roles.forEach((r, i) => {
    const before = byName.get(r.name);
    const id = before?.id ?? -(i + 1);
    keyOf.set(r.name, id);
    if (!before) {
      newRoles.push({ id, ...r });
      tally.created += 1;
    } else if (before.description !== r.description) {
      changedRoles.push({ id, ...r });
      tally.updated += 1;
    } else tally.unchanged += 1;
  });
  const resolve = (name: string, pointer: string) => {
    const id = keyOf.get(name) ?? byName.get(name)?.id;
    if (id === undefined) throw fileError(pointer, `no role in the file or the workspace is named ${JSON.stringify(name)}`);
    return id;
  };
  return { tally, newRoles, changedRoles, resolve };
}

/** Distinct pairs, split by whether both ids exist already. */
function pairs(): Pairs & { add(a: number, b: number): void } {
  // Numbers, not "a:b" strings: a million links would otherwise be a million strings to collect.
  const seen = new Map<number, Set<number>>();
  const result: Pairs = { existing: { a: [], b: [] }, fresh: { a: [], b: [] } };
  return {
    ...result,
    add(a, b) {
      let bs = seen.get(a);
      if (!bs) seen.set(a, (bs = new Set()));
      if (bs.has(b)) return;
      bs.add(b);
      const into = a > 0 && b > 0 ? result.existing : result.fresh;
      into.a.push(a);
      into.b.push(b);
    },
  };
}

/** The plan of importing `file` into the workspace `snapshot` shows; refuses (nothing written yet) a file that breaks a rule. */
export function planImport(file: WorkspaceFile, snapshot: Snapshot, maxDepth: number, visible: (path: readonly number[]) => boolean = () => true): ImportPlan {
  const groups = planGroups(file, snapshot, maxDepth, visible);
  const users = planUsers(file, snapshot);
  const roles = planRoles(file, snapshot);
  const memberships = pairs();
  file.memberships.forEach((m, i) => memberships.add(groups.resolve(m.group, `/memberships/${i}/group`), users.resolve(m.user, `/memberships/${i}/user`)));
  const groupRoles = pairs();
  const userRoles = pairs();
  file.roleAssignments.forEach((a, i) => {
    const role = roles.resolve(a.role, `/roleAssignments/${i}/role`);
    if (a.group !== null) groupRoles.add(role, groups.resolve(a.group, `/roleAssignments/${i}/group`));
    else userRoles.add(role, users.resolve(a.user!, `/roleAssignments/${i}/user`));
  });
  const strip = ({ existing, fresh }: Pairs): Pairs => ({ existing, fresh });
  return {
    groups: groups.tally,
    users: users.tally,
    roles: roles.tally,
    newGroups: groups.newGroups,
    changedGroups: groups.changedGroups,
    newUsers: users.newUsers,
    changedUsers: users.changedUsers,
    newRoles: roles.newRoles,
    changedRoles: roles.changedRoles,
    memberships: strip(memberships),
    groupRoles: strip(groupRoles),
    userRoles: strip(userRoles),
    resolveGroup: groups.resolve,
    pathAfter: groups.pathAfter,
    hiddenClash: groups.hiddenClash,
  };
}
