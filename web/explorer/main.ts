// The group-tree explorer: a reference example of a browser app on the public GraphQL API.
// Paste an API key (kept in this tab's session storage only); browse the tree, search it, and
// select a group to see its ancestors, members and effective roles, and a member to see the user's
// groups and effective roles. Fields the key may not read say which scope they need. Groups are
// created, renamed, described and deleted (edits.ts), and moved after a preview (move.ts), where
// the key's scopes allow. Each group and user has an address (route.ts), and the tree a keyboard
// (keyboard.ts). Changes made elsewhere show live (live.ts). See api.ts for every query and mutation it makes.
import './explorer.css';
import './look.css';
import { VIEWER, apiKey, graphql, isUnauthenticated, problem } from './api';
import { showDetails } from './details';
import { byId, h, needsScope } from './dom';
import { DragMove } from './drag';
import { type Editing, mayWriteGroups, rootGroupForm } from './edits';
import { groupLink, routeOf } from './route';
import { wireSearch } from './search';
import { LiveUpdates } from './live';
import { scopeSummary } from './scopes';
import { GroupTree } from './tree';
import { showUser } from './user';

const keyForm = byId<HTMLFormElement>('key-form');
const keyPage = byId('key-page');
const keyInput = byId<HTMLInputElement>('key');
const status = byId('status');
const workspace = byId('workspace');
const explorer = byId('explorer');
const details = byId('details');
const search = byId<HTMLInputElement>('search');
const searchResults = byId('search-results');
const rootEdits = byId('root-edits');

const tree = new GroupTree(byId<HTMLUListElement>('tree'), byId('tree-panel'), select);
wireSearch(search, searchResults, select);
const drag = new DragMove(byId('tree'));
const live = new LiveUpdates(tree, details, showAddressed);

/** Selecting a group goes to its address: a new history entry, which `showAddressed` follows. */
function select(id: string): void {
  const link = groupLink(id);
  if (location.hash === link) void showAddressed();
  else location.hash = link;
}

/** Back, Forward, or a link typed into the address bar. */
window.addEventListener('hashchange', () => {
  if (!explorer.hidden) void showAddressed();
});

let addressed = 0;
let editing: Editing = { mayWrite: false, scopes: [], afterEdit };

/**
 * After an edit: the address names the group to show (none: the hint), without a hashchange of
 * its own; the tree is reloaded open down to it, the details say what was done, and the focus
 * goes to the group's name (or, with none, to the tree).
 */
async function afterEdit(show: string | null, done: string): Promise<void> {
  const address = show === null ? location.pathname + location.search : groupLink(show);
  if (show === null ? location.hash !== '' : location.hash !== address) history.pushState(null, '', address);
  await Promise.all([tree.showRoots(), showAddressed()]);
  details.prepend(h('p', { id: 'edit-done', class: 'status', role: 'status' }, done));
  const focus = show === null ? byId('tree').querySelector<HTMLElement>('[tabindex="0"]') : details.querySelector<HTMLElement>('h2');
  focus?.focus();
}

/**
 * Shows what the address names: a group (its details, the tree open down to it and selecting it)
 * or a user. Only the latest address is shown, whatever order the answers arrive in.
 */
async function showAddressed(): Promise<void> {
  const request = ++addressed;
  const current = () => request === addressed;
  const route = routeOf(location.hash);
  // An earlier view still loading is not shown: the pane is busy only while this one loads.
  details.removeAttribute('aria-busy');
  tree.markSelected(route && 'group' in route ? route.group : null);
  if (!route) {
    details.replaceChildren(hint());
    return;
  }
  if ('unknown' in route) {
    details.replaceChildren(
      h('p', { class: 'status error', id: 'no-group' }, `This address names no group or user: ${route.unknown}. A group's address ends in #/groups/ and its id, a user's in #/users/ and theirs.`),
    );
    return;
  }
  if ('user' in route) {
    await showUser(details, route.user, select, current);
    return;
  }
  const group = await showDetails(details, route.group, select, current, editing);
  if (current()) live.shown(route.group, group);
  if (!group || !current()) return;
  await tree.reveal([...group.ancestors.map((ancestor) => ancestor.id).reverse(), group.id]);
  if (current()) tree.markSelected(group.id);
}

/** Checks the stored key, names its workspace and scopes, then shows the roots. */
async function open(): Promise<void> {
  status.textContent = 'Checking the key…';
  const result = await graphql(VIEWER);
  const viewer = result.data?.viewer;
  if (!viewer) {
    if (isUnauthenticated(result)) apiKey.forget();
    showKeyForm(isUnauthenticated(result) ? 'The service refused this key: check that it was copied whole and is not revoked or expired.' : problem(result));
    return;
  }
  status.textContent = '';
  keyPage.hidden = true;
  workspace.replaceChildren(
    h('span', { class: 'tenant' }, h('strong', {}, viewer.tenant.name), ` (${viewer.tenant.slug})`),
    scopeSummary(viewer.scopes),
    forgetButton(),
    ' ',
    live.status,
  );
  workspace.hidden = false;
  editing = { mayWrite: mayWriteGroups(viewer.scopes), scopes: viewer.scopes, afterEdit };
  tree.rowsDraggable = editing.mayWrite;
  drag.enable(editing);
  // Folded: one line above the tree until asked for.
  rootEdits.replaceChildren(h('details', {}, h('summary', {}, 'New root group'), rootGroupForm(editing)), editing.mayWrite ? '' : needsScope('groups:write'));
  explorer.hidden = false;
  live.start();
  // The addressed group's details are asked for with the roots; the tree opens to it once they are in.
  await Promise.all([tree.showRoots(), showAddressed()]);
}

/** Back to the key form, with a message (the explorer hidden). */
function showKeyForm(message: string | null): void {
  live.stop();
  status.textContent = message;
  keyPage.hidden = false;
  workspace.hidden = true;
  explorer.hidden = true;
  search.value = '';
  searchResults.hidden = true;
  details.replaceChildren(hint());
}

function hint(): HTMLElement {
  return h('p', { class: 'hint' }, 'Select a group to see its ancestors, members and roles, and a member to see their groups and roles.');
}

function forgetButton(): HTMLButtonElement {
  const button = h('button', { type: 'button', id: 'forget' }, 'Forget key');
  button.addEventListener('click', () => {
    apiKey.forget();
    showKeyForm('Key forgotten.');
  });
  return button;
}

keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  apiKey.set(keyInput.value.trim());
  keyInput.value = '';
  void open();
});

if (apiKey.get()) void open();
else showKeyForm(null);
