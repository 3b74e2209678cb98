// Search by name, anywhere in the tree: each hit says where it is, and selecting it shows its details.
import { PAGE_SIZE, type Result, type ResultOf, SEARCH_GROUPS, type SearchHit, graphql, neededScopes, problem } from './api';
import { h, needsScope, plural } from './dom';

/** Waits for a pause in typing before asking. */
const TYPING_PAUSE_MS = 250;

/**
 * Search as you type, for the page's search and the pickers: `ask` is sent the input's text after
 * a pause in typing (or at once, when the returned function is called: Enter, a submit), and
 * `show` gets the answer to the latest text only (an earlier one arriving late is dropped); an
 * emptied input is `clear`ed without asking.
 */
export function searchAsYouType<T>(input: HTMLInputElement, ask: (text: string) => Promise<T>, show: (answer: T, text: string) => void, clear: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let latest = 0;
  const search = async () => {
    const request = ++latest;
    const text = input.value.trim();
    if (!text) {
      clear();
      return;
    }
    const answer = await ask(text);
    if (request === latest) show(answer, text);
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, TYPING_PAUSE_MS);
  });
  return () => {
    clearTimeout(timer);
    void search();
  };
}

export function wireSearch(input: HTMLInputElement, results: HTMLElement, onSelect: (id: string) => void): void {
  const now = searchAsYouType(
    input,
    (text) => {
      results.hidden = false;
      return graphql(SEARCH_GROUPS, { search: text, first: PAGE_SIZE });
    },
    (result, text) => results.replaceChildren(...searchHits(text, result, (hit) => onSelect(hit.id))),
    () => (results.hidden = true),
  );
  input.form?.addEventListener('submit', (event) => {
    event.preventDefault();
    now();
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
