// The selected group: its ancestors as a breadcrumb, its direct and inherited members, and its
// effective roles with the groups that grant them.
import { GROUP_DETAILS, type GroupDetails, type GroupRef, type Member, type Result, graphql, neededScopes, problem } from './api';
import { h, needsScope, plural } from './dom';

/** Members lists are not paged by the API: show this many, and how many more there are. */
const MEMBERS_SHOWN = 20;

/** Only the answer to the latest selection is shown, whatever order the answers arrive in. */
let latest = 0;

export async function showDetails(pane: HTMLElement, id: string, onSelect: (id: string) => void): Promise<void> {
  const request = ++latest;
  pane.setAttribute('aria-busy', 'true');
  const result = await graphql<{ group: GroupDetails | null }>(GROUP_DETAILS, { id });
  if (request !== latest) return;
  pane.removeAttribute('aria-busy');
  const group = result.data?.group;
  if (!group) {
    const scopes = neededScopes(result.errors, ['group']);
    pane.replaceChildren(scopes ? needsScope(scopes) : h('p', { class: 'status error' }, problem(result) ?? 'This group no longer exists.'));
    return;
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
}

/** Root first, the group itself last. */
function breadcrumb(group: GroupDetails, link: (ref: GroupRef) => HTMLElement): HTMLElement {
  const path = [...group.ancestors].reverse().map((ancestor) => h('li', {}, link(ancestor)));
  return h('nav', { id: 'breadcrumb', 'aria-label': 'Ancestors' }, h('ol', {}, ...path, h('li', { 'aria-current': 'page' }, group.name)));
}

/** Inherited: members of a subgroup who are not direct members too. */
function members(group: GroupDetails): HTMLElement {
  const direct = new Set(group.directMembers.map((member) => member.id));
  const inherited = group.allMembers.filter((member) => !direct.has(member.id));
  return h(
    'section',
    { id: 'members' },
    h('h3', {}, 'Members'),
    memberList('direct-members', 'Direct', group.directMembers),
    memberList('inherited-members', 'Inherited from subgroups', inherited),
  );
}

function memberList(id: string, title: string, members: Member[]): HTMLElement {
  const shown = members.slice(0, MEMBERS_SHOWN);
  return h(
    'div',
    { id },
    h('h4', {}, `${title} (${members.length})`),
    shown.length
      ? h('ul', {}, ...shown.map((member) => h('li', { 'data-user-id': member.id }, member.name ?? `user ${member.id}`)))
      : h('p', { class: 'empty' }, 'None'),
    members.length > shown.length ? h('p', { class: 'more-count' }, `and ${plural(members.length - shown.length, 'more member')}`) : null,
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
