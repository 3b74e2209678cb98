// The tree's keyboard, as WAI-ARIA's tree view pattern has it
// (https://www.w3.org/WAI/ARIA/apg/patterns/treeview/): the tree is one tab stop (a roving
// tabindex: one item 0, the others -1); arrows, Home and End move among the visible items, typing
// a name's first letters goes to it, Enter selects. Pages not loaded yet load on the way.

/** What the keys ask of the tree; the tree owns expanding, loading and selecting. */
export interface TreeActions {
  /** Expands the item if it has children, waiting for their first page; its list, null if none. */
  expand(item: HTMLElement): Promise<HTMLUListElement | null>;
  collapse(item: HTMLElement): void;
  /** Loads the list's next page; false if it has none. */
  loadMore(list: HTMLUListElement): Promise<boolean>;
  select(item: HTMLElement): void;
}

const ITEM = '[role="treeitem"]';
/** Letters typed closer together than this make one prefix. */
const TYPE_AHEAD_PAUSE_MS = 500;

const isVisible = (item: HTMLElement): boolean => !item.parentElement?.closest('ul[hidden]');

export function visibleItems(tree: HTMLElement): HTMLElement[] {
  return [...tree.querySelectorAll<HTMLElement>(ITEM)].filter(isVisible);
}

const parentItem = (item: HTMLElement): HTMLElement | null => item.parentElement?.closest<HTMLElement>(ITEM) ?? null;
const childItems = (item: HTMLElement): HTMLElement[] => [...item.querySelectorAll<HTMLElement>(`:scope > ul > ${ITEM}`)];
const nameOf = (item: HTMLElement): string => item.querySelector(':scope > .row > .name')?.textContent ?? '';

function isLastLoaded(item: HTMLElement): boolean {
  let sibling = item.nextElementSibling;
  while (sibling && !sibling.matches(ITEM)) sibling = sibling.nextElementSibling;
  return !sibling;
}

/** Makes `item` the tree's one tab stop, and focuses it if asked. */
export function moveTabStop(tree: HTMLElement, item: HTMLElement, focus = false): void {
  for (const other of tree.querySelectorAll<HTMLElement>(`${ITEM}[tabindex="0"]`)) if (other !== item) other.tabIndex = -1;
  item.tabIndex = 0;
  if (focus) item.focus();
}

/** Keeps the tab stop on a visible item: a hidden one's nearest visible ancestor, or the first item. */
export function keepTabStop(tree: HTMLElement): void {
  const stop = tree.querySelector<HTMLElement>(`${ITEM}[tabindex="0"]`);
  let holder = stop;
  while (holder && !isVisible(holder)) holder = parentItem(holder);
  const target = holder ?? visibleItems(tree)[0];
  if (target && target !== stop) moveTabStop(tree, target);
}

export function wireKeyboard(tree: HTMLElement, actions: TreeActions): void {
  const typeAhead = typeAheadSearch(tree);
  // A click on a row's buttons focuses the row's item: the keys then start from there.
  tree.addEventListener('focusin', (event) => {
    const target = event.target as HTMLElement;
    const item = target.matches(ITEM) ? target : target.closest('.row')?.parentElement;
    if (!item?.matches(ITEM)) return;
    moveTabStop(tree, item);
    if (event.target !== item) item.focus({ preventScroll: true });
  });
  tree.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const item = (event.target as Element).closest<HTMLElement>(ITEM);
    if (!item) return;
    // Letters typed before another key do not begin the next type-ahead.
    if (event.key.length > 1) typeAhead.reset();
    const target = keyTarget(event.key, item);
    if (target === undefined) return;
    event.preventDefault();
    // Loading may take a while: the focus moves only if it has not moved meanwhile.
    void Promise.resolve(target).then((next) => {
      if (next && document.activeElement === item) moveTabStop(tree, next, true);
    });
  });

  /** Where the key moves the focus (null: nowhere); undefined for a key the tree leaves alone. */
  function keyTarget(key: string, item: HTMLElement): HTMLElement | null | Promise<HTMLElement | null> | undefined {
    const visible = visibleItems(tree);
    switch (key) {
      case 'ArrowDown':
        return following(item);
      case 'ArrowUp':
        return visible[visible.indexOf(item) - 1] ?? null;
      case 'ArrowRight':
        if (item.getAttribute('aria-expanded') === 'false') return actions.expand(item).then(() => null);
        return actions.expand(item).then((list) => list?.querySelector<HTMLElement>(`:scope > ${ITEM}`) ?? null);
      case 'ArrowLeft':
        if (item.getAttribute('aria-expanded') !== 'true') return parentItem(item);
        actions.collapse(item);
        return null;
      case 'Home':
        return visible[0] ?? null;
      case 'End':
        return visible[visible.length - 1] ?? null;
      case 'Enter':
        actions.select(item);
        return null;
      default:
        return key.length === 1 ? typeAhead.find(item, key) : undefined;
    }
  }

  /** The next visible item; a list's pages not loaded yet come after its last loaded item, so they are loaded first. */
  async function following(item: HTMLElement): Promise<HTMLElement | null> {
    const open = item.getAttribute('aria-expanded') === 'true';
    if (open) await actions.expand(item);
    if (!open || childItems(item).length === 0) {
      for (let node: HTMLElement | null = item; node && isLastLoaded(node); node = parentItem(node)) {
        if (await actions.loadMore(node.parentElement as HTMLUListElement)) break;
      }
    }
    const visible = visibleItems(tree);
    return visible[visible.indexOf(item) + 1] ?? null;
  }
}

/** Type-ahead: the next visible item whose name starts with the letters typed; the same letter again moves on among them. */
function typeAheadSearch(tree: HTMLElement) {
  let typed = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reset = () => {
    clearTimeout(timer);
    typed = '';
  };
  const find = (item: HTMLElement, key: string): HTMLElement | null | undefined => {
    if (key === ' ' && typed === '') return undefined;
    clearTimeout(timer);
    timer = setTimeout(reset, TYPE_AHEAD_PAUSE_MS);
    typed += key.toLowerCase();
    const prefix = [...typed].every((letter) => letter === typed[0]) ? typed[0] : typed;
    const visible = visibleItems(tree);
    // One letter looks from the next item on; more letters refine the match from this one.
    const from = visible.indexOf(item) + (prefix.length === 1 ? 1 : 0);
    return [...visible.slice(from), ...visible.slice(0, from)].find((candidate) => nameOf(candidate).toLowerCase().startsWith(prefix)) ?? null;
  };
  return { find, reset };
}
