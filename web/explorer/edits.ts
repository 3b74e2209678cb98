// Editing groups: a root group (above the tree), and in the details pane a child of the selected
// group, its name and description, and deleting it after a confirmation. A form the key's scopes
// do not allow is disabled and says "needs scope groups:write"; a failure is shown beside its form
// as the API words it, with its code, and the form keeps what was typed.
import { CREATE_GROUP, DELETE_GROUP, type GroupDetails, type Result, type TypedDocumentString, UPDATE_GROUP, graphql } from './api';
import { h, needsScope, plural } from './dom';

export const WRITE = 'groups:write';

export const MEMBERS_WRITE = 'groups:members:write';
export const ROLES_WRITE = 'roles:write';
export const USERS_READ = 'users:read';

/** Scopes that imply another (viewer.scopes lists the key's scopes as given). */
const IMPLIED_BY: Record<string, string[]> = {
  [MEMBERS_WRITE]: [WRITE],
  [USERS_READ]: ['users:write'],
  [ROLES_WRITE]: [],
};

/**
 * Whether the key holds `scope` or one implying it, unrestricted or restricted to a subtree
 * (groups:members:write@42): the service decides where a restricted one applies.
 */
export function mayUse(scopes: string[], scope: string): boolean {
  const allowing = [scope, ...(IMPLIED_BY[scope] ?? [])];
  return scopes.some((held) => allowing.some((allowed) => held === allowed || held.startsWith(`${allowed}@`)));
}

/**
 * Whether any scope of the key allows editing groups. One restricted to a subtree
 * (groups:write@42) allows it inside that subtree only: the service decides, and its refusal is shown.
 */
export function mayWriteGroups(scopes: string[]): boolean {
  return mayUse(scopes, WRITE);
}

export interface Editing {
  mayWrite: boolean;
  /** The key's scopes as given (viewer.scopes), for the controls of other scopes. */
  scopes: string[];
  /** After an edit: shows the group (null: no group), the tree and details reloaded, and says what was done. */
  afterEdit(show: string | null, done: string): Promise<void>;
}

interface Field {
  name: string;
  label: string;
  value?: string;
  required?: boolean;
}

/**
 * A form of labelled text fields (ids `${id}-${field.name}`) and a submit button. `submit` sends
 * the values; a result with errors is shown under the form, the fields left as they were.
 */
function editForm(
  id: string,
  title: string,
  fields: Field[],
  submitLabel: string,
  editing: Editing,
  submit: (values: Record<string, string>) => Promise<Result<unknown> | null>,
): HTMLFormElement {
  const inputs = fields.map((field) =>
    h('input', { id: `${id}-${field.name}`, name: field.name, type: 'text', autocomplete: 'off', required: field.required ? '' : undefined }),
  );
  fields.forEach((field, i) => (inputs[i].value = field.value ?? ''));
  const button = h('button', { type: 'submit' }, submitLabel);
  const failure = h('div', { id: `${id}-error`, class: 'edit-error', role: 'alert' });
  const fieldset = h(
    'fieldset',
    {},
    h('legend', {}, title),
    ...fields.flatMap((field, i) => [h('label', { for: inputs[i].id }, field.label), inputs[i]]),
    button,
    !editing.mayWrite && needsScope(WRITE),
  );
  fieldset.disabled = !editing.mayWrite;
  const form = h('form', { id, class: 'edit' }, fieldset, failure);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    failure.replaceChildren();
    const values = Object.fromEntries(fields.map((field, i) => [field.name, inputs[i].value]));
    void submit(values).then((result) => {
      button.disabled = false;
      if (result?.errors.length) showFailure(failure, result);
    });
  });
  return form;
}

/** Each error as the API says it: its code, then its message word for word. */
export function showFailure(where: HTMLElement, result: Result<unknown>): void {
  where.replaceChildren(
    ...result.errors.map((error) => h('p', { class: 'status error' }, h('code', {}, error.extensions?.code ?? 'ERROR'), ' ', error.message)),
  );
}

/** Null when the mutation succeeded (`afterEdit` then shows what changed), else its result. */
export async function send<R, V>(mutation: TypedDocumentString<R, V>, variables: V, done: (data: R) => Promise<void>): Promise<Result<unknown> | null> {
  const result = await graphql(mutation, variables);
  if (result.errors.length || !result.data) return result;
  await done(result.data);
  return null;
}

/** Creating a root group, for above the tree. */
export function rootGroupForm(editing: Editing): HTMLFormElement {
  return editForm(
    'create-root',
    'New root group',
    [{ name: 'name', label: 'Name', required: true }, { name: 'description', label: 'Description' }],
    'Create root group',
    editing,
    ({ name, description }) =>
      send(CREATE_GROUP, { input: { name, description, parentId: null } }, (data) =>
        editing.afterEdit(data.createGroup.id, `Created root group “${name}”.`),
      ),
  );
}

/** The selected group's edits: rename and describe, a new subgroup, the `others` (a move), delete. */
export function groupEdits(group: GroupDetails, editing: Editing, ...others: HTMLElement[]): HTMLElement {
  const update = editForm(
    'edit-group',
    'Name and description',
    [
      { name: 'name', label: 'Name', value: group.name, required: true },
      { name: 'description', label: 'Description', value: group.description ?? '' },
    ],
    'Save',
    editing,
    ({ name, description }) =>
      send(UPDATE_GROUP, { id: group.id, input: { name, description } }, () => editing.afterEdit(group.id, `Saved “${name}”.`)),
  );
  const child = editForm(
    'create-child',
    `New subgroup of ${group.name}`,
    [{ name: 'name', label: 'Name', required: true }, { name: 'description', label: 'Description' }],
    'Create subgroup',
    editing,
    ({ name, description }) =>
      send(CREATE_GROUP, { input: { name, description, parentId: group.id } }, (data) =>
        editing.afterEdit(data.createGroup.id, `Created “${name}” in ${group.name}.`),
      ),
  );
  return h('section', { id: 'group-edits' }, h('h3', {}, 'Edit'), update, child, ...others, deletion(group, editing));
}

/** "Delete group…", then a confirmation that says what becomes of the children. */
function deletion(group: GroupDetails, editing: Editing): HTMLElement {
  const start = h('button', { type: 'button', id: 'delete-group' }, 'Delete group…');
  const confirm = h('button', { type: 'button', id: 'confirm-delete' }, `Delete “${group.name}”`);
  const cancel = h('button', { type: 'button', id: 'cancel-delete' }, 'Cancel');
  const children = group.subgroups.totalCount;
  const consequence = children ? `Its ${plural(children, 'subgroup')} become${children === 1 ? 's a root group' : ' root groups'}` : 'It has no subgroups';
  const question = h(
    'div',
    { id: 'delete-confirmation', role: 'group', 'aria-label': 'Confirm deletion', hidden: '' },
    h('p', {}, `Delete “${group.name}”? ${consequence}; its memberships and role assignments are deleted.`),
    confirm,
    ' ',
    cancel,
  );
  const failure = h('div', { id: 'delete-group-error', class: 'edit-error', role: 'alert' });
  start.disabled = !editing.mayWrite;
  start.addEventListener('click', () => {
    question.hidden = false;
    cancel.focus();
  });
  cancel.addEventListener('click', () => {
    question.hidden = true;
    failure.replaceChildren();
    start.focus();
  });
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    failure.replaceChildren();
    const result = await send(DELETE_GROUP, { id: group.id }, () =>
      editing.afterEdit(null, `Deleted “${group.name}”.${children ? ' Its subgroups are now root groups.' : ''}`),
    );
    confirm.disabled = false;
    if (result) showFailure(failure, result);
  });
  return h('div', { id: 'delete' }, start, !editing.mayWrite && needsScope(WRITE), question, failure);
}
