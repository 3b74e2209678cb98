// Member and role edits of the selected group: adding a member found by a user search (name or
// email), removing a direct member, assigning one of the workspace's roles to the group and
// unassigning a role it grants directly. A control the key's scopes do not allow is disabled and
// names the scope it needs (groups:members:write, roles:write, users:read for the search); a
// scope restricted to a subtree counts as allowing, and the service's refusal is shown word for
// word beside the control. After each edit the details pane reloads and says what was done.
import { type GroupDetails, type Member, type Result, type ResultOf, graphql, neededScopes, problem } from './api';
import { gql } from './generated';
import { h, needsScope, plural } from './dom';
import { type Editing, MEMBERS_WRITE, ROLES_WRITE, USERS_READ, mayUse, send, showFailure } from './edits';
import './members-edit.css';
import { searchAsYouType } from './search';

/** Users whose name or email matches, for the member search. */
export const SEARCH_USERS = gql(`
  query SearchUsers($search: String!, $first: Int!) {
    users(search: $search, first: $first) {
      totalCount
      nodes { id name email }
    }
  }
`);

/** A page of the workspace's roles, for the role picker. */
export const ROLE_PAGE = gql(`
  query RolePage($first: Int!, $after: String) {
    roles(first: $first, after: $after) {
      pageInfo { endCursor hasNextPage }
      nodes { id name }
    }
  }
`);

export const ADD_GROUP_MEMBER = gql(`
  mutation AddGroupMember($groupId: ID!, $userId: ID!) {
    addGroupMember(groupId: $groupId, userId: $userId) { id }
  }
`);

export const REMOVE_GROUP_MEMBER = gql(`
  mutation RemoveGroupMember($groupId: ID!, $userId: ID!) {
    removeGroupMember(groupId: $groupId, userId: $userId) { id }
  }
`);

export const ASSIGN_GROUP_ROLE = gql(`
  mutation AssignGroupRole($groupId: ID!, $roleId: ID!) {
    assignGroupRole(groupId: $groupId, roleId: $roleId) { id }
  }
`);

export const UNASSIGN_GROUP_ROLE = gql(`
  mutation UnassignGroupRole($groupId: ID!, $roleId: ID!) {
    unassignGroupRole(groupId: $groupId, roleId: $roleId) { id }
  }
`);

/** One of the workspace's roles, as the role picker lists it. */
type Role = ResultOf<typeof ROLE_PAGE>['roles']['nodes'][number];

/** How many users a search lists. */
const SEARCH_SIZE = 10;
/** Roles are read 100 (the most a page may hold) at a time. */
const ROLE_PAGE_SIZE = 100;

/** "needs scope …", with an id for the controls it explains (aria-describedby). */
function scopeNote(id: string, scope: string): HTMLElement {
  const note = needsScope(scope);
  note.id = id;
  return note;
}

const nameOf = (user: Pick<Member, 'id' | 'name'>) => user.name ?? `user ${user.id}`;

/**
 * A button that runs `action` once at a time; a failure is shown in `failure` (beside it), its
 * code then its message word for word. `action` answers null when the edit was done.
 */
function actionButton(attributes: Record<string, string | undefined>, label: string, failure: HTMLElement, action: () => Promise<Result<unknown> | null>): HTMLButtonElement {
  const button = h('button', { type: 'button', ...attributes }, label);
  button.addEventListener('click', async () => {
    if (button.disabled) return;
    button.disabled = true;
    failure.replaceChildren();
    const result = await action();
    button.disabled = false;
    if (result) showFailure(failure, result);
  });
  return button;
}

/**
 * For each direct member of `group`: a "Remove" button (its accessible name says who, from
 * where), disabled without groups:members:write, and where its failure shows.
 */
export function removeMemberControl(group: GroupDetails, editing: Editing): (user: Member) => HTMLElement {
  const allowed = mayUse(editing.scopes, MEMBERS_WRITE);
  return (user) => {
    const failure = h('span', { class: 'edit-error', role: 'alert' });
    const button = actionButton(
      {
        class: 'remove-member',
        'data-user-id': user.id,
        'aria-label': `Remove ${nameOf(user)} from ${group.name}`,
        // The members section says which scope it needs.
        'aria-describedby': allowed ? undefined : 'members-needs-scope',
      },
      'Remove',
      failure,
      () =>
        send(REMOVE_GROUP_MEMBER, { groupId: group.id, userId: user.id }, () =>
          editing.afterEdit(group.id, `Removed “${nameOf(user)}” from ${group.name}.`),
        ),
    );
    button.disabled = !allowed;
    return h('span', { class: 'member-edit' }, ' ', button, failure);
  };
}

/** "Add a member": a user search (name or email), each match with its "Add" button. */
export function addMemberForm(group: GroupDetails, editing: Editing): HTMLElement {
  const allowed = mayUse(editing.scopes, MEMBERS_WRITE);
  const mayRead = mayUse(editing.scopes, USERS_READ);
  const input = h('input', { id: 'add-member-search', type: 'search', autocomplete: 'off', placeholder: 'Name or email', 'aria-controls': 'add-member-results' });
  const results = h('div', { id: 'add-member-results', 'aria-live': 'polite' });
  const failure = h('div', { id: 'add-member-error', class: 'edit-error', role: 'alert' });
  const fieldset = h(
    'fieldset',
    {},
    h('legend', {}, `Add a member to ${group.name}`),
    h('label', { for: input.id }, 'Find a user'),
    input,
    h('button', { type: 'submit' }, 'Search'),
    !allowed && scopeNote('members-needs-scope', MEMBERS_WRITE),
    allowed && !mayRead && scopeNote('users-needs-scope', USERS_READ),
  );
  fieldset.disabled = !allowed || !mayRead;
  const form = h('form', { id: 'add-member', class: 'edit', role: 'search', 'aria-label': 'Find a user to add' }, fieldset, results, failure);

  const searchNow = searchAsYouType(
    input,
    (text) => graphql(SEARCH_USERS, { search: text, first: SEARCH_SIZE }),
    (result, text) => {
      failure.replaceChildren();
      results.replaceChildren(...userHits(text, result, group, editing, failure));
    },
    () => results.replaceChildren(),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    searchNow();
  });
  return form;
}

/** The users matching `text`, name and email, each with "Add"; or why there are none. */
function userHits(text: string, result: Result<ResultOf<typeof SEARCH_USERS>>, group: GroupDetails, editing: Editing, failure: HTMLElement): HTMLElement[] {
  const page = result.data?.users;
  if (!page) {
    const scopes = neededScopes(result.errors, ['users']);
    return [scopes ? needsScope(scopes) : h('p', { class: 'status error' }, problem(result))];
  }
  const summary = page.totalCount > page.nodes.length ? `${page.nodes.length} of ${page.totalCount} users` : plural(page.totalCount, 'user');
  const hits = page.nodes.map((user) => {
    const add = actionButton({ class: 'add-member', 'data-user-id': user.id, 'aria-label': `Add ${nameOf(user)} to ${group.name}` }, 'Add', failure, () =>
      send(ADD_GROUP_MEMBER, { groupId: group.id, userId: user.id }, () => editing.afterEdit(group.id, `Added “${nameOf(user)}” to ${group.name}.`)),
    );
    return h('li', { 'data-user-id': user.id }, h('span', { class: 'user-name' }, nameOf(user)), user.email && ' ', user.email && h('span', { class: 'email' }, user.email), ' ', add);
  });
  return [h('p', { class: 'summary' }, `${summary} named like “${text}”`), h('ul', { class: 'user-hits' }, ...hits)];
}

/**
 * The roles the group grants itself (its descendants inherit them), each with "Unassign", and a
 * picker of the workspace's other roles to assign. Without roles:read, which scope it needs.
 */
export function groupRoles(group: GroupDetails, result: Result<unknown>, editing: Editing): HTMLElement {
  const section = h('section', { id: 'group-roles' }, h('h3', {}, 'Roles assigned to this group'));
  const readScopes = neededScopes(result.errors, ['group', 'roles']);
  if (readScopes || !group.roles) {
    section.append(needsScope(readScopes ?? 'roles:read'));
    return section;
  }
  const allowed = mayUse(editing.scopes, ROLES_WRITE);
  const note = !allowed && scopeNote('roles-needs-scope', ROLES_WRITE);
  if (group.roles.length === 0) section.append(h('p', { class: 'empty' }, 'None'));
  else
    section.append(
      h(
        'ul',
        {},
        ...group.roles.map((role) => {
          const failure = h('span', { class: 'edit-error', role: 'alert' });
          const button = actionButton(
            { class: 'unassign-role', 'data-role-id': role.id, 'aria-label': `Unassign ${role.name} from ${group.name}`, 'aria-describedby': allowed ? undefined : 'roles-needs-scope' },
            'Unassign',
            failure,
            () => send(UNASSIGN_GROUP_ROLE, { groupId: group.id, roleId: role.id }, () => editing.afterEdit(group.id, `Unassigned role “${role.name}” from ${group.name}.`)),
          );
          button.disabled = !allowed;
          return h('li', { 'data-role-id': role.id }, h('span', { class: 'role' }, role.name), ' ', button, failure);
        }),
      ),
    );
  section.append(assignForm(group, group.roles, editing, allowed, note));
  return section;
}

/** A select of the roles the group does not grant itself yet, and "Assign". */
function assignForm(group: GroupDetails, assigned: Role[], editing: Editing, allowed: boolean, scopeNote: HTMLElement | false): HTMLFormElement {
  const select = h('select', { id: 'assign-role-select', name: 'role', required: '' }, h('option', { value: '' }, allowed ? 'Loading roles…' : 'Choose a role'));
  const button = h('button', { type: 'submit' }, 'Assign');
  const failure = h('div', { id: 'assign-role-error', class: 'edit-error', role: 'alert' });
  const fieldset = h('fieldset', {}, h('legend', {}, `Assign a role to ${group.name}`), h('label', { for: select.id }, 'Role'), select, button, scopeNote);
  fieldset.disabled = !allowed;
  const form = h('form', { id: 'assign-role', class: 'edit' }, fieldset, failure);
  const names = new Map<string, string>();
  if (allowed) {
    void allRoles().then(({ roles, result }) => {
      if (!roles) {
        select.replaceChildren(h('option', { value: '' }, 'No roles'));
        showFailure(failure, result);
        return;
      }
      const mine = new Set(assigned.map((role) => role.id));
      const others = roles.filter((role) => !mine.has(role.id));
      for (const role of others) names.set(role.id, role.name);
      select.replaceChildren(
        h('option', { value: '' }, others.length ? 'Choose a role' : roles.length ? 'Every role is assigned' : 'The workspace has no roles'),
        ...others.map((role) => h('option', { value: role.id }, role.name)),
      );
      form.dataset.loaded = String(others.length);
    });
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const roleId = select.value;
    if (!roleId || button.disabled) return;
    button.disabled = true;
    failure.replaceChildren();
    const name = names.get(roleId) ?? roleId;
    const result = await send(ASSIGN_GROUP_ROLE, { groupId: group.id, roleId }, () => editing.afterEdit(group.id, `Assigned role “${name}” to ${group.name}.`));
    button.disabled = false;
    if (result) showFailure(failure, result);
  });
  return form;
}

/** Every role of the workspace, a page of 100 at a time; null roles with the answer that failed. */
async function allRoles(): Promise<{ roles: Role[] | null; result: Result<unknown> }> {
  const roles: Role[] = [];
  let after: string | null = null;
  for (;;) {
    const result: Result<ResultOf<typeof ROLE_PAGE>> = await graphql(ROLE_PAGE, { first: ROLE_PAGE_SIZE, after });
    const page = result.data?.roles;
    if (!page) return { roles: null, result };
    roles.push(...page.nodes);
    after = page.pageInfo.endCursor;
    if (!page.pageInfo.hasNextPage || !after) return { roles, result };
  }
}
