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

/** Only the answer to the latest selection is shown, whatever order the answers arrive in. */
let latest = 0;

/** Shows the group; it, once shown, or null if it is not (another was asked for since, or it cannot be read). */
export async function showDetails(pane: HTMLElement, id: string, onSelect: (id: string) => void): Promise<GroupDetails | null> {
  const request = ++latest;
  pane.setAttribute('aria-busy', 'true');
  const result = await graphql<{ group: GroupDetails | null }>(GROUP_DETAILS, { id, first: PAGE_SIZE });
  if (request !== latest) return null;
  pane.removeAttribute('aria-busy');
  const group = result.data?.group;
  if (!group) {
    pane.replaceChildren(unreadable(id, result));
    return null;
  }
  const link = (ref: GroupRef) => {
    const button = h('button', { type: 'button', class: 'link', 'data-group-id': ref.id }, ref.name);
    button.addEventListener('click', () => onSelect(ref.id));
    return button;
  };
  pane.replaceChildren(
    breadcrumb(group, link),
    h('h2', {}, group.name),
    h('p', { class: 'description' }, group.description ?? ''),
    members(group),
    effectiveRoles(group, result, link),
  );
  return group;
}

/**
 * Why there is no group to show. An id that is not one (a link typed by hand) and a group that
 * does not exist, was deleted or is outside what the key may read all look alike to the service.
 */
function unreadable(id: string, result: Result<unknown>): HTMLElement {
  const scopes = neededScopes(result.errors, ['group']);
  if (scopes) return needsScope(scopes);
  const failure = result.errors.some((error) => !['BAD_USER_INPUT', 'NOT_FOUND'].includes(error.extensions?.code ?? '')) ? problem(result) : null;
  return h(
    'p',
    { class: 'status error', id: 'no-group' },
    failure ?? `There is no group “${id}” that this key can read: it does not exist, was deleted, or is outside what the key may read.`,
  );
}

/** Root first, the group itself last. */
function breadcrumb(group: GroupDetails, link: (ref: GroupRef) => HTMLElement): HTMLElement {
  const path = [...group.ancestors].reverse().map((ancestor) => h('li', {}, link(ancestor)));
  return h('nav', { id: 'breadcrumb', 'aria-label': 'Ancestors' }, h('ol', {}, ...path, h('li', { 'aria-current': 'page' }, group.name)));
}

/**
 * Direct members, and every member of the group or a subgroup (each user once), both by user id;
 * the first page of each came with the group, "Show more" asks for the next.
 */
function members(group: GroupDetails): HTMLElement {
  return h(
    'section',
    { id: 'members' },
    h('h3', {}, 'Members'),
    memberList('direct-members', 'Direct', group.id, false, group.directMembers),
    memberList('all-members', 'Including subgroups', group.id, true, group.allMembers),
  );
}

function memberList(id: string, title: string, groupId: string, inherited: boolean, first: Connection<Member>): HTMLElement {
  const list = h('ul', {});
  const section = h('div', { id }, h('h4', {}, `${title} (${first.totalCount})`));
  if (first.totalCount === 0) {
    section.append(h('p', { class: 'empty' }, 'None'));
    return section;
  }
  section.append(list);
  const append = (page: Connection<Member>, shownBefore: number) => {
    list.append(...page.nodes.map((member) => h('li', { 'data-user-id': member.id }, member.name ?? `user ${member.id}`)));
    const shown = shownBefore + page.nodes.length;
    const after = page.pageInfo.endCursor;
    if (!page.pageInfo.hasNextPage || !after) return;
    const more = h('button', { type: 'button', class: 'more' }, `Show more (${shown} of ${page.totalCount})`);
    more.addEventListener(
      'click',
      async () => {
        more.disabled = true;
        const result = await graphql<{ group: { members: Connection<Member> } | null }>(MEMBER_PAGE, { id: groupId, inherited, first: PAGE_SIZE, after });
        const next = result.data?.group?.members;
        if (next) {
          more.remove();
          append(next, shown);
        } else {
          more.replaceWith(h('p', { class: 'status error' }, problem(result) ?? 'This group no longer exists.'));
        }
      },
      { once: true },
    );
    section.append(more);
  };
  append(first, 0);
  return section;
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
