// The selected group: its ancestors as a breadcrumb, its members (direct, and including those of
// its subgroups, a page at a time), and its effective roles with the groups that grant them.
import {
  type Connection,
  GROUP_DETAILS,
  type GroupDetails,
  type GroupRef,
  MEMBER_PAGE,
  type Member,
  PAGE_SIZE,
  type Result,
  graphql,
  neededScopes,
  problem,
} from './api';
import { h, needsScope } from './dom';
import { type Editing, groupEdits } from './edits';
import { addMemberForm, groupRoles, removeMemberControl } from './members-edit';
import { moveGroup } from './move';
import { showPaged } from './paged';
import { userLink } from './route';

/**
 * Shows the group; it, once shown, or null if it is not (it cannot be read, or `current` says
 * another view was asked for since: only the latest is shown, whatever order the answers arrive in).
 */
export async function showDetails(
  pane: HTMLElement,
  id: string,
  onSelect: (id: string) => void,
  current: () => boolean,
  editing: Editing,
): Promise<GroupDetails | null> {
  pane.setAttribute('aria-busy', 'true');
  const result = await graphql(GROUP_DETAILS, { id, first: PAGE_SIZE });
  if (!current()) return null;
  pane.removeAttribute('aria-busy');
  const group = result.data?.group;
  if (!group) {
    pane.replaceChildren(unreadable('group', id, result));
    return null;
  }
  const link = (ref: GroupRef) => groupButton(ref, onSelect);
  pane.replaceChildren(
    breadcrumb(group, link),
    h('h2', { tabindex: '-1' }, group.name),
    h('p', { class: 'description' }, group.description ?? ''),
    members(group, result, editing),
    effectiveRoles(group, result, link),
    groupRoles(group, result, editing),
    groupEdits(group, editing, moveGroup(group, editing)),
  );
  return group;
}

/** A group's name that selects it. */
export function groupButton(ref: GroupRef, onSelect: (id: string) => void): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'link', 'data-group-id': ref.id }, ref.name);
  button.addEventListener('click', () => onSelect(ref.id));
  return button;
}

/**
 * Why there is no group (or user) to show. An id that is not one (a link typed by hand) and one
 * that does not exist, was deleted or is outside what the key may read all look alike to the service.
 */
export function unreadable(what: 'group' | 'user', id: string, result: Result<unknown>): HTMLElement {
  const scopes = neededScopes(result.errors, [what]);
  if (scopes) return needsScope(scopes);
  const failure = result.errors.some((error) => !['BAD_USER_INPUT', 'NOT_FOUND'].includes(error.extensions?.code ?? '')) ? problem(result) : null;
  return h(
    'p',
    { class: 'status error', id: `no-${what}` },
    failure ?? `There is no ${what} “${id}” that this key can read: it does not exist, was deleted, or is outside what the key may read.`,
  );
}

/** Root first, the group itself last. */
function breadcrumb(group: GroupDetails, link: (ref: GroupRef) => HTMLElement): HTMLElement {
  const path = [...group.ancestors].reverse().map((ancestor) => h('li', {}, link(ancestor)));
  return h('nav', { id: 'breadcrumb', 'aria-label': 'Ancestors' }, h('ol', {}, ...path, h('li', { 'aria-current': 'page' }, group.name)));
}

/**
 * Direct members, and every member of the group or a subgroup (each user once), both by user id;
 * the first page of each came with the group, "Show more" asks for the next. Each member is a
 * link to the user's view; emails need users:read.
 */
function members(group: GroupDetails, result: Result<unknown>, editing: Editing): HTMLElement {
  const emailScopes = neededScopes(result.errors, ['group', 'directMembers', 'nodes', 'email'], ['group', 'allMembers', 'nodes', 'email']);
  return h(
    'section',
    { id: 'members' },
    h('h3', {}, 'Members'),
    emailScopes && h('p', { class: 'emails' }, 'Emails: ', needsScope(emailScopes)),
    memberList('direct-members', 'Direct', group.id, false, group.directMembers, removeMemberControl(group, editing)),
    addMemberForm(group, editing),
    memberList('all-members', 'Including subgroups', group.id, true, group.allMembers),
  );
}

/** `edit`: controls after each member (Remove, for the direct members). */
function memberList(id: string, title: string, groupId: string, inherited: boolean, first: Connection<Member>, edit?: (user: Member) => HTMLElement): HTMLElement {
  const section = h('div', { id }, h('h4', {}, `${title} (${first.totalCount})`));
  if (first.totalCount === 0) {
    section.append(h('p', { class: 'empty' }, 'None'));
    return section;
  }
  const list = h('ul', {});
  section.append(list);
  const next = async (after: string) => {
    const result = await graphql(MEMBER_PAGE, { id: groupId, inherited, first: PAGE_SIZE, after });
    return { page: result.data?.group?.members, result };
  };
  showPaged(list, first, (user) => member(user, edit), next, 'This group no longer exists.');
  return section;
}

/** "Dana dana@example.com", the name a link to the user's view. */
function member(user: Member, edit?: (user: Member) => HTMLElement): HTMLElement {
  return h(
    'li',
    { 'data-user-id': user.id },
    h('a', { class: 'link', href: userLink(user.id) }, user.name ?? `user ${user.id}`),
    user.email && ' ',
    user.email && h('span', { class: 'email' }, user.email),
    edit?.(user),
  );
}

/**
 * Group.effectiveRoles says which roles apply, not where they come from. A role is granted by
 * this group or an ancestor, so the granting groups are those whose own `roles` include it.
 */
function effectiveRoles(group: GroupDetails, result: Result<unknown>, link: (ref: GroupRef) => HTMLElement): HTMLElement {
  const section = h('section', { id: 'roles' }, h('h3', {}, 'Effective roles'));
  const scopes = neededScopes(result.errors, ['group', 'effectiveRoles'], ['group', 'roles'], ['group', 'ancestors', 'roles']);
  if (scopes || !group.effectiveRoles) {
    section.append(needsScope(scopes ?? 'roles:read'));
    return section;
  }
  if (group.effectiveRoles.length === 0) section.append(h('p', { class: 'empty' }, 'None'));
  const rootFirst = [...group.ancestors].reverse();
  const grantedBy = (roleId: string) => [...rootFirst, group].filter((g) => g.roles?.some((role) => role.id === roleId));
  section.append(
    h(
      'ul',
      {},
      ...group.effectiveRoles.map((role) => {
        const granters = grantedBy(role.id).map((g) => (g.id === group.id ? h('span', { class: 'self' }, 'this group') : link(g)));
        return h(
          'li',
          { 'data-role-id': role.id },
          h('span', { class: 'role' }, role.name),
          ' granted by ',
          // A key restricted to a subtree does not see the ancestors above it.
          ...(granters.length ? granters.flatMap((granter, i) => (i ? [', ', granter] : [granter])) : ['a group above those this key can read']),
        );
      }),
    ),
  );
  return section;
}
