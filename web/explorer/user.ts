// A user's view: who they are (name, email, userName, whether active), the groups they are a
// direct member of (with where each is), and their effective roles with the groups granting them.
import { type EffectiveUserRole, PAGE_SIZE, type Result, USER_DETAILS, USER_GROUP_PAGE, type UserDetails, type UserGroup, graphql, neededScopes, problem } from './api';
import { groupButton, unreadable } from './details';
import { h, needsScope } from './dom';
import { showPaged } from './paged';

type OnSelect = (groupId: string) => void;

/** Shows the user, unless `current` says another view was asked for since the request. */
export async function showUser(pane: HTMLElement, id: string, onSelect: OnSelect, current: () => boolean): Promise<void> {
  pane.setAttribute('aria-busy', 'true');
  const result = await graphql(USER_DETAILS, { id, first: PAGE_SIZE });
  if (!current()) return;
  pane.removeAttribute('aria-busy');
  const user = result.data?.user;
  if (!user) {
    pane.replaceChildren(unreadable('user', id, result));
    return;
  }
  const failure = problem(result);
  pane.replaceChildren(
    h('h2', { 'data-user-id': user.id }, user.name ?? `user ${user.id}`),
    ...(failure ? [h('p', { class: 'status error', id: 'user-problem' }, failure)] : []),
    fields(user),
    groups(user, result, onSelect),
    roles(user, result, onSelect),
  );
}

function fields(user: UserDetails): HTMLElement {
  const field = (name: string, id: string, value: string) => [h('dt', {}, name), h('dd', { id }, value)];
  return h(
    'dl',
    { id: 'user-fields' },
    ...field('Email', 'user-email', user.email ?? 'none'),
    ...field('User name', 'user-name', user.userName),
    ...field('Status', 'user-status', user.active ? 'active' : 'deactivated: kept, but with no effective roles, and no group counts them as a member'),
  );
}

/** The groups the user is a direct member of, a page at a time, each with its ancestors. */
function groups(user: UserDetails, result: Result<unknown>, onSelect: OnSelect): HTMLElement {
  const section = h('section', { id: 'user-groups' });
  const scopes = neededScopes(result.errors, ['user', 'groups']);
  const first = user.groups;
  if (scopes || !first) {
    section.append(h('h3', {}, 'Groups'), scopes ? needsScope(scopes) : h('p', { class: 'empty' }, 'Not available'));
    return section;
  }
  section.append(h('h3', {}, `Groups (${first.totalCount})`));
  if (!user.active && first.totalCount > 0) section.append(h('p', { class: 'empty' }, 'Memberships kept while deactivated: they grant nothing until the user is reactivated.'));
  if (first.totalCount === 0) {
    section.append(h('p', { class: 'empty' }, 'None'));
    return section;
  }
  const list = h('ul', {});
  section.append(list);
  const item = (group: UserGroup) =>
    h(
      'li',
      {},
      groupButton(group, onSelect),
      group.ancestors.length > 0 && h('span', { class: 'where' }, ` in ${[...group.ancestors].reverse().map((a) => a.name).join(' › ')}`),
    );
  const next = async (after: string) => {
    const page = await graphql(USER_GROUP_PAGE, { id: user.id, first: PAGE_SIZE, after });
    return { page: page.data?.user?.groups, result: page };
  };
  showPaged(list, first, item, next, 'This user no longer exists.');
  return section;
}

/** Each effective role: assigned to the user directly, and/or granted via groups. */
function roles(user: UserDetails, result: Result<unknown>, onSelect: OnSelect): HTMLElement {
  const section = h('section', { id: 'user-roles' }, h('h3', {}, 'Effective roles'));
  const scopes = neededScopes(result.errors, ['user', 'effectiveRoles']);
  if (scopes || !user.effectiveRoles) {
    section.append(scopes ? needsScope(scopes) : h('p', { class: 'empty' }, 'Not available'));
    return section;
  }
  if (user.effectiveRoles.length === 0) {
    section.append(h('p', { class: 'empty' }, user.active ? 'None' : 'None while deactivated'));
    return section;
  }
  section.append(h('ul', {}, ...user.effectiveRoles.map((effective) => role(effective, onSelect))));
  return section;
}

function role({ role, direct, via }: EffectiveUserRole, onSelect: OnSelect): HTMLElement {
  const granters = (via ?? []).map((group) => groupButton(group, onSelect));
  const how: (Node | string)[] = [];
  if (direct) how.push(' assigned directly');
  if (granters.length) how.push(direct ? ' and via ' : ' via ', ...granters.flatMap((granter, i) => (i ? [', ', granter] : [granter])));
  // A key restricted to a subtree does not see the groups above it.
  if (!how.length) how.push(' via a group this key cannot read');
  return h('li', { 'data-role-id': role.id }, h('span', { class: 'role' }, role.name), ...how);
}
