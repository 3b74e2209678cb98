// Moving the selected group: "Move to…" opens a picker (groups found by name, each with its path,
// or "Make it a root group"); picking asks `moveImpact` and shows what the move would change and
// what would refuse it; only "Confirm move" writes it (updateGroup with the new parentId). Cancel
// writes nothing.
import {
  type GroupDetails,
  type GroupRef,
  MOVE_IMPACT,
  MOVE_IMPACT_PAGE,
  type MoveImpact,
  type MoveRefusal,
  PAGE_SIZE,
  type Result,
  type RoleChange,
  SEARCH_GROUPS,
  UPDATE_GROUP,
  type UserMoveImpact,
  graphql,
  neededScopes,
} from './api';
import { h, needsScope, plural } from './dom';
import { type Editing, WRITE, send, showFailure } from './edits';
import { showPaged } from './paged';
import { searchAsYouType, searchHits } from './search';

/** "Move to…", its picker and the preview of the picked destination (null: the top level). */
export function moveGroup(group: GroupDetails, editing: Editing): HTMLElement {
  const start = h('button', { type: 'button', id: 'move-group' }, 'Move to…');
  start.disabled = !editing.mayWrite;
  const search = h('input', { id: 'move-search', type: 'search', autocomplete: 'off', placeholder: 'Search groups by name' });
  const candidates = h('div', { id: 'move-candidates' });
  const toRoot = h('button', { type: 'button', id: 'move-to-root' }, 'Make it a root group');
  const cancelPick = h('button', { type: 'button', id: 'cancel-move-pick' }, 'Cancel');
  const preview = h('div', { id: 'move-preview', role: 'group', 'aria-label': 'Preview of the move', hidden: '' });
  const picker = h(
    'div',
    { id: 'move-picker', role: 'group', 'aria-label': `Move “${group.name}” to`, hidden: '' },
    h('label', { for: search.id }, `New parent of “${group.name}”`),
    ' ',
    search,
    ' ',
    toRoot,
    ' ',
    cancelPick,
    candidates,
    preview,
  );

  let latest = 0;
  const close = () => {
    latest++;
    picker.hidden = true;
    preview.hidden = true;
    preview.replaceChildren();
    candidates.replaceChildren();
    search.value = '';
    start.focus();
  };
  const pick = (parent: GroupRef | null) => {
    const request = ++latest;
    void showPreview(group, parent, editing, preview, close, () => request === latest);
  };

  start.addEventListener('click', () => {
    picker.hidden = false;
    search.focus();
  });
  cancelPick.addEventListener('click', close);
  toRoot.addEventListener('click', () => pick(null));
  const findNow = searchAsYouType(
    search,
    (text) => graphql(SEARCH_GROUPS, { search: text, first: PAGE_SIZE }),
    (result, text) => candidates.replaceChildren(...searchHits(text, result, (hit) => pick({ id: hit.id, name: hit.name }))),
    () => candidates.replaceChildren(),
  );
  search.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    findNow();
  });

  return h('div', { id: 'move' }, start, !editing.mayWrite && needsScope(WRITE), picker);
}

/**
 * Asks `moveImpact` and shows it with "Confirm move" (disabled when the move would be refused)
 * and Cancel; confirming makes the move and shows the group under its new parent. Also the
 * preview of a drag and drop (drag.ts).
 */
export async function showPreview(
  group: GroupRef,
  parent: GroupRef | null,
  editing: Editing,
  pane: HTMLElement,
  cancel: () => void,
  current: () => boolean,
): Promise<void> {
  pane.hidden = false;
  pane.setAttribute('aria-busy', 'true');
  pane.replaceChildren(h('p', { class: 'status' }, 'Working out what the move would change…'));
  const variables = { groupId: group.id, newParentId: parent?.id ?? null };
  const result = await graphql(MOVE_IMPACT, { ...variables, first: PAGE_SIZE });
  if (!current()) return;
  pane.removeAttribute('aria-busy');
  const impact = result.data?.moveImpact;
  const destination = parent ? `under “${parent.name}”` : 'to the top level, as a root group';
  const confirm = h('button', { type: 'button', id: 'confirm-move' }, 'Confirm move');
  const cancelButton = h('button', { type: 'button', id: 'cancel-move' }, 'Cancel');
  cancelButton.addEventListener('click', cancel);
  const failure = h('div', { id: 'move-error', class: 'edit-error', role: 'alert' });
  if (!impact) {
    confirm.disabled = true;
    showFailure(failure, result.errors.length ? result : { data: null, errors: [{ message: `There is no group “${group.id}” that this key can read.` }] });
    pane.replaceChildren(h('h4', {}, `Move “${group.name}” ${destination}`), failure, cancelButton);
    return;
  }
  confirm.disabled = !impact.allowed;
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    failure.replaceChildren();
    const done = `Moved “${group.name}” ${destination}.`;
    const sent = await send(UPDATE_GROUP, { id: group.id, input: { parentId: variables.newParentId } }, () => editing.afterEdit(group.id, done));
    if (!sent) return;
    confirm.disabled = false;
    showFailure(failure, sent);
  });
  pane.replaceChildren(
    h('h4', {}, `Move “${group.name}” ${destination}`),
    ...refusals(impact.refusals),
    totals(impact, result),
    ...affectedUsers(impact, variables),
    h('p', { class: 'move-actions' }, confirm, ' ', cancelButton),
    failure,
  );
}

/** Each check the move would fail, as the API words it: the refusal, the code the move would answer, its message. */
function refusals(list: MoveRefusal[]): HTMLElement[] {
  if (!list.length) return [];
  return [h(
    'div',
    { id: 'move-refusals', class: 'edit-error', role: 'alert' },
    h('p', {}, 'The move would be refused:'),
    h('ul', {}, ...list.map((refusal) => h('li', { 'data-code': refusal.code }, h('strong', {}, refusal.code), ' ', h('code', {}, refusal.errorCode), ' ', refusal.message))),
  )];
}

function totals(impact: MoveImpact, result: Result<unknown>): HTMLElement {
  const groups = 1 + impact.group.descendants.totalCount;
  const moved = `${plural(groups, 'group')} move${groups === 1 ? 's' : ''}`;
  if (!impact.totals) return h('p', { id: 'move-totals' }, `${moved}; roles: `, needsScope(neededScopes(result.errors, ['moveImpact', 'totals']) ?? 'roles:read'));
  const { usersAffected, rolesGained, rolesLost } = impact.totals;
  return h(
    'p',
    { id: 'move-totals' },
    `${moved}; ${plural(usersAffected, 'user')} gain or lose roles: ${plural(rolesGained, 'role')} gained, ${plural(rolesLost, 'role')} lost.`,
  );
}

/** The affected users a page at a time, as the API pages them, each with the roles gained and lost. */
function affectedUsers(impact: MoveImpact, variables: { groupId: string; newParentId: string | null }): HTMLElement[] {
  if (!impact.users || impact.users.totalCount === 0) return [];
  const list = h('ul', { id: 'move-users' });
  const section = h('div', {}, list);
  const next = async (after: string) => {
    const result = await graphql(MOVE_IMPACT_PAGE, { ...variables, first: PAGE_SIZE, after });
    return { page: result.data?.moveImpact?.users, result };
  };
  showPaged(list, impact.users, userChanges, next, 'The group no longer exists.');
  return [section];
}

/** "Ann: gains ops, granted by Ops; loses dev, granted by Engineering". */
function userChanges(change: UserMoveImpact): HTMLElement {
  const line = (kind: 'gained' | 'lost', role: RoleChange) =>
    h(
      'li',
      { class: kind, 'data-role-id': role.role.id },
      kind === 'gained' ? 'gains ' : 'loses ',
      h('span', { class: 'role' }, role.role.name),
      kind === 'gained' ? ', granted after the move by ' : ', granted before the move by ',
      role.grantedBy?.length ? role.grantedBy.map((g) => g.name).join(', ') : 'a group this key cannot read',
    );
  return h(
    'li',
    { 'data-user-id': change.user.id },
    h('span', { class: 'user' }, change.user.name ?? `user ${change.user.id}`),
    h('ul', {}, ...change.gained.map((role) => line('gained', role)), ...change.lost.map((role) => line('lost', role))),
  );
}
