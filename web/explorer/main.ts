// The group-tree explorer: a reference example of a browser app on the public GraphQL API.
// Paste an API key (kept in this tab's session storage only); browse the tree, search it, and
// select a group to see its ancestors, members and effective roles. Fields the key may not read
// say which scope they need. See api.ts for every query it makes.
import './explorer.css';
import { VIEWER, type Viewer, apiKey, graphql, isUnauthenticated, problem } from './api';
import { showDetails } from './details';
import { byId, h } from './dom';
import { wireSearch } from './search';
import { GroupTree } from './tree';

const keyForm = byId<HTMLFormElement>('key-form');
const keyInput = byId<HTMLInputElement>('key');
const status = byId('status');
const workspace = byId('workspace');
const explorer = byId('explorer');
const details = byId('details');
const search = byId<HTMLInputElement>('search');
const searchResults = byId('search-results');

const tree = new GroupTree(byId<HTMLUListElement>('tree'), byId('tree-panel'), select);
wireSearch(search, searchResults, select);

function select(id: string): void {
  tree.markSelected(id);
  void showDetails(details, id, select);
}

/** Checks the stored key, names its workspace and scopes, then shows the roots. */
async function open(): Promise<void> {
  status.textContent = 'Checking the key…';
  const result = await graphql<{ viewer: Viewer }>(VIEWER);
  const viewer = result.data?.viewer;
  if (!viewer) {
    if (isUnauthenticated(result)) apiKey.forget();
    showKeyForm(isUnauthenticated(result) ? 'The service refused this key: check that it was copied whole and is not revoked or expired.' : problem(result));
    return;
  }
  status.textContent = '';
  keyForm.hidden = true;
  workspace.replaceChildren(
    h('strong', {}, viewer.tenant.name),
    ` (${viewer.tenant.slug}) · scopes: ${viewer.scopes.join(', ')} `,
    forgetButton(),
  );
  workspace.hidden = false;
  explorer.hidden = false;
  await tree.showRoots();
}

/** Back to the key form, with a message (the explorer hidden). */
function showKeyForm(message: string | null): void {
  status.textContent = message;
  keyForm.hidden = false;
  workspace.hidden = true;
  explorer.hidden = true;
  search.value = '';
  searchResults.hidden = true;
  details.replaceChildren(h('p', { class: 'hint' }, 'Select a group to see its ancestors, members and roles.'));
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
