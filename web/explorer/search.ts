// Search by name, anywhere in the tree: each hit says where it is, and selecting it shows its details.
import { PAGE_SIZE, type Result, type ResultOf, SEARCH_GROUPS, type SearchHit, graphql, neededScopes, problem } from './api';
import { h, needsScope, plural } from './dom';

/** Waits for a pause in typing before asking. */
const TYPING_PAUSE_MS = 250;

export function wireSearch(input: HTMLInputElement, results: HTMLElement, onSelect: (id: string) => void): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let latest = 0;
  const search = async () => {
    const request = ++latest;
    const text = input.value.trim();
    results.hidden = text === '';
    if (!text) return;
    const result = await graphql(SEARCH_GROUPS, { search: text, first: PAGE_SIZE });
    if (request === latest) results.replaceChildren(...searchHits(text, result, (hit) => onSelect(hit.id)));
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, TYPING_PAUSE_MS);
  });
  input.form?.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(timer);
    void search();
  });
}

/** The groups named like `text`, each a button with where it is in the tree; `onPick` gets the one clicked. */
export function searchHits(text: string, result: Result<ResultOf<typeof SEARCH_GROUPS>>, onPick: (hit: SearchHit) => void): HTMLElement[] {
  const page = result.data?.groups;
  if (!page) {
    const scopes = neededScopes(result.errors, ['groups']);
    return [scopes ? needsScope(scopes) : h('p', { class: 'status error' }, problem(result))];
  }
  const summary = page.totalCount > page.nodes.length ? `${page.nodes.length} of ${page.totalCount} groups` : plural(page.totalCount, 'group');
  const hits = page.nodes.map((hit) => {
    const button = h('button', { type: 'button', class: 'link', 'data-group-id': hit.id }, hit.name);
    button.addEventListener('click', () => onPick(hit));
    const where = hit.ancestors.length ? `in ${[...hit.ancestors].reverse().map((a) => a.name).join(' › ')}` : 'a root group';
    return h('li', {}, button, ' ', h('span', { class: 'where' }, where));
  });
  return [h('p', { class: 'summary' }, `${summary} named like “${text}”`), h('ul', {}, ...hits)];
}
