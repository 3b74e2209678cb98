// Builds the tree a test describes, straight through the domain (setup is not what these tests
// are about), and returns the ids by name:
//   const t = await buildTree(ws, {
//     groups: { R: { A: { A1: {} }, B: {} }, S: {} },
//     users: { alice: 'Alice' }, roles: ['editor'],
//     members: { A1: ['alice'] }, groupRoles: { A1: ['editor'] }, userRoles: { alice: ['editor'] },
//   });
//   t.A1  // the id of group A1, as the API spells ids (a string)
import type { DomainContext } from '../../src/domain/context';
import { createGroup } from '../../src/domain/groups';
import { addGroupMember } from '../../src/domain/members';
import { createRole, setGroupRole, setUserRole } from '../../src/domain/roles';
import { createUser } from '../../src/domain/users';
import { uniqueSlug } from './harness';

/** Groups by name, each with its children. */
export interface GroupTree {
  readonly [name: string]: GroupTree;
}

type Shallower = [never, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

/** Every name in a group tree, down to ten levels (deeper than any tree the tests build). */
export type GroupName<G, Depth extends number = 10> = [Depth] extends [never]
  ? never
  : { [K in keyof G & string]: K | GroupName<G[K], Shallower[Depth]> }[keyof G & string];

export interface TreeSpec<G extends GroupTree, U extends string, R extends string> {
  groups: G;
  /** Users by name, each with its display name. */
  users?: Record<U, string>;
  roles?: readonly R[];
  /** Direct members of each group. */
  members?: { readonly [group in GroupName<G>]?: readonly NoInfer<U>[] };
  groupRoles?: { readonly [group in GroupName<G>]?: readonly NoInfer<R>[] };
  userRoles?: { readonly [user in NoInfer<U>]?: readonly NoInfer<R>[] };
  /** Put before every group, user and role name and in every email: a marker to look for in responses. */
  prefix?: string;
  /**
   * The order groups are created in, and so the order of their ids: level by level (a parent's
   * children before its grandchildren, default) or each group's subtree before its next sibling.
   */
  order?: 'breadth-first' | 'depth-first';
}

export type TreeIds<G extends GroupTree, U extends string, R extends string> = Record<GroupName<G> | U | R, string>;

/** [name, parent name] of every group, parents before children, in the order asked. */
function placements(groups: GroupTree, order: 'breadth-first' | 'depth-first'): [string, string | null][] {
  const result: [string, string | null][] = [];
  const pending: [string, GroupTree, string | null][] = Object.entries(groups).map(([name, children]) => [name, children, null]);
  while (pending.length > 0) {
    const [name, children, parent] = order === 'breadth-first' ? pending.shift()! : pending.pop()!;
    result.push([name, parent]);
    const next = Object.entries(children).map(([child, below]): [string, GroupTree, string | null] => [child, below, name]);
    pending.push(...(order === 'breadth-first' ? next : next.reverse()));
  }
  return result;
}

/** Creates the groups, users, roles, memberships and assignments of `spec` in the workspace. */
export async function buildTree<const G extends GroupTree, U extends string = never, R extends string = never>(
  workspace: { ctx: DomainContext },
  spec: TreeSpec<G, U, R>,
): Promise<TreeIds<G, U, R>> {
  const { ctx } = workspace;
  const named = (name: string) => (spec.prefix ? `${spec.prefix} ${name}` : name);
  const ids = new Map<string, number>();
  const claim = (name: string, id: number) => {
    if (ids.has(name)) throw new Error(`tree fixture: "${name}" is named twice`);
    ids.set(name, id);
  };
  const id = (name: string) => {
    const found = ids.get(name);
    if (found === undefined) throw new Error(`tree fixture: nothing is named "${name}"`);
    return found;
  };

  for (const [name, parent] of placements(spec.groups, spec.order ?? 'breadth-first')) {
    claim(name, (await createGroup(ctx, { name: named(name), parentId: parent === null ? null : id(parent) })).id);
  }
  for (const [name, display] of Object.entries<string>(spec.users ?? {})) {
    const email = `${name}.${spec.prefix ?? uniqueSlug('u')}@example.com`;
    claim(name, (await createUser(ctx, { name: named(display), email })).id);
  }
  for (const name of spec.roles ?? []) claim(name, (await createRole(ctx, { name: named(name) })).id);
  for (const [group, users] of Object.entries<readonly string[] | undefined>(spec.members ?? {})) {
    for (const user of users ?? []) await addGroupMember(ctx, id(group), id(user));
  }
  for (const [group, roles] of Object.entries<readonly string[] | undefined>(spec.groupRoles ?? {})) {
    for (const role of roles ?? []) await setGroupRole(ctx, id(group), id(role), true);
  }
  for (const [user, roles] of Object.entries<readonly string[] | undefined>(spec.userRoles ?? {})) {
    for (const role of roles ?? []) await setUserRole(ctx, id(user), id(role), true);
  }
  return Object.fromEntries([...ids].map(([name, value]) => [name, String(value)])) as TreeIds<G, U, R>;
}

/** The same ids as numbers, for tests that call the domain directly. */
export function numericIds<K extends string>(ids: Record<K, string>): Record<K, number> {
  return Object.fromEntries(Object.entries<string>(ids).map(([name, value]) => [name, Number(value)])) as Record<K, number>;
}
