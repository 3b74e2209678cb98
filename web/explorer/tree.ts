// The group tree: the workspace's roots, then each group's children loaded the first time it is
// expanded, one page at a time ("Show more", scrolling that button into view, or the keyboard
// going past the last loaded item). Pages follow the connection's cursor (`after: endCursor`), so
// a group added or removed meanwhile neither repeats nor skips a child.
import { CHILD_PAGE, type Connection, type GroupRow, PAGE_SIZE, ROOT_PAGE, type Result, graphql, neededScopes, problem } from './api';
import { h, needsScope, plural } from './dom';
import { keepTabStop, moveTabStop, wireKeyboard } from './keyboard';

/** Where a list's pages come from: the roots, or one group's children. */
type Source = { roots: true } | { parentId: string };

const ITEM = '[role="treeitem"]';

/** What an item shows of its group: a refresh redraws the item when it changes. */
const rowKey = (group: GroupRow): string => JSON.stringify([group.name, group.directMembers, group.allMembers, group.subgroups.totalCount]);

export class GroupTree {
  /** Clicks a "Show more" button once it scrolls into view. */
  private readonly observer: IntersectionObserver;
  /** The page each list is loading, for whoever waits for what it brings. */
  private readonly loading = new WeakMap<HTMLUListElement, Promise<void>>();
  /** Loads a list's next page, while it has one. */
  private readonly nextPage = new WeakMap<HTMLUListElement, () => Promise<void>>();
  /** Whether rows are made draggable (drag.ts moves them): only for a key that may write groups. */
  rowsDraggable = false;
  /** Counts `showRoots`: a refresh begun before the latest one stops. */
  private generation = 0;

  constructor(
    private readonly tree: HTMLUListElement,
    scroller: HTMLElement,
    private readonly onSelect: (id: string) => void,
  ) {
    this.observer = new IntersectionObserver(
      (entries) => entries.filter((entry) => entry.isIntersecting).forEach((entry) => (entry.target as HTMLElement).click()),
      { root: scroller },
    );
    wireKeyboard(tree, {
      expand: (item) => this.expand(item),
      collapse: (item) => this.collapse(item),
      loadMore: (list) => this.loadMore(list),
      select: (item) => this.onSelect(item.dataset.groupId ?? ''),
    });
  }

  async showRoots(): Promise<void> {
    this.generation++;
    this.observer.disconnect();
    this.tree.replaceChildren();
    await this.load(this.tree, { roots: true }, 1, null, 0);
  }

  /** Marks the group (none: null) as selected, and the tree's tab stop, if it is in the tree (it may be in a page not loaded yet). */
  markSelected(id: string | null): void {
    for (const item of this.tree.querySelectorAll('[aria-selected="true"]')) item.setAttribute('aria-selected', 'false');
    const item = id === null ? null : this.tree.querySelector<HTMLElement>(`${ITEM}[data-group-id="${CSS.escape(id)}"]`);
    if (!item) return;
    item.setAttribute('aria-selected', 'true');
    moveTabStop(this.tree, item);
    // Under a collapsed group (until `reveal` opens it), its nearest visible ancestor holds the tab stop.
    keepTabStop(this.tree);
  }

  /**
   * Opens the tree down to the last group of `path` (root first), loading the pages each group is
   * in, and scrolls it into view; null if one of them is not in the tree.
   */
  async reveal(path: string[]): Promise<HTMLElement | null> {
    let list: HTMLUListElement | null = this.tree;
    let item: HTMLElement | null = null;
    for (const id of path) {
      item = list && (await this.find(list, id));
      if (!item) return null;
      if (id !== path[path.length - 1]) list = await this.expand(item);
    }
    item?.scrollIntoView({ block: 'nearest' });
    return item;
  }

  /** Expands the item if it has children, the first time asking for their first page; its list of children, once loaded. */
  async expand(item: HTMLElement): Promise<HTMLUListElement | null> {
    if (!item.hasAttribute('aria-expanded')) return null;
    item.setAttribute('aria-expanded', 'true');
    let list = item.querySelector<HTMLUListElement>(':scope > ul');
    if (list) list.hidden = false;
    else {
      list = h('ul', { role: 'group' });
      item.append(list);
      void this.load(list, { parentId: item.dataset.groupId ?? '' }, Number(item.getAttribute('aria-level')) + 1, null, 0);
    }
    await this.loading.get(list);
    return list;
  }

  /** Hides the item's children; a tab stop or focus among them moves to the item. */
  collapse(item: HTMLElement): void {
    const list = item.querySelector<HTMLUListElement>(':scope > ul');
    if (item.getAttribute('aria-expanded') !== 'true' || !list) return;
    const hadFocus = list.contains(document.activeElement);
    item.setAttribute('aria-expanded', 'false');
    list.hidden = true;
    if (hadFocus) moveTabStop(this.tree, item, true);
    else keepTabStop(this.tree);
  }

  /**
   * Reloads every loaded level in place (live.ts): the items of groups that changed are redrawn,
   * those gone removed, new ones inserted in order; expansion, selection and a focus in the tree
   * stay. Every level is asked for first, then all are shown at once: a moved group leaves its old
   * place as it appears in its new one.
   */
  async refresh(): Promise<void> {
    const generation = this.generation;
    const lists = [this.tree, ...this.tree.querySelectorAll<HTMLUListElement>(`${ITEM} > ul`)];
    const answers = await Promise.all(
      lists.map((list) => {
        const parentId = list === this.tree ? null : list.parentElement?.dataset.groupId ?? '';
        const level = parentId === null ? 1 : Number(list.parentElement?.getAttribute('aria-level')) + 1;
        return this.reload(list, parentId === null ? { roots: true } : { parentId }, level);
      }),
    );
    // Root first: a list whose group has gone meanwhile is no longer in the tree, and is skipped.
    for (const apply of answers) if (generation === this.generation) apply?.();
    keepTabStop(this.tree);
  }

  /** Loads the list's next page (once the one loading, if any, is in); false if there is none. */
  async loadMore(list: HTMLUListElement): Promise<boolean> {
    await this.loading.get(list);
    const next = this.nextPage.get(list);
    if (!next) return false;
    await next();
    return true;
  }

  /** Asks for the list again (as many items as it has, page by page); what shows the answer, unless it is stale or failed. */
  private async reload(list: HTMLUListElement, source: Source, level: number): Promise<(() => void) | null> {
    const loading = this.loading.get(list);
    await loading;
    const wanted = list.querySelectorAll(`:scope > ${ITEM}`).length;
    const nodes: GroupRow[] = [];
    let after: string | null = null;
    let last: Connection<GroupRow> | null;
    do {
      last = (await this.page(source, after)).page;
      if (!last) return null; // left as it is: the next change tries again
      nodes.push(...last.nodes);
      after = last.pageInfo.endCursor;
    } while (nodes.length < wanted && last.pageInfo.hasNextPage && after);
    const page = last;
    // Reloaded, or a page added, meanwhile: that list is newer than this answer.
    return () => {
      if (list.isConnected && this.loading.get(list) === loading) this.showReloaded(list, source, level, nodes, page);
    };
  }

  /** Shows a reloaded list: `nodes`, all its pages so far, and `last`, the last of them. */
  private showReloaded(list: HTMLUListElement, source: Source, level: number, nodes: GroupRow[], last: Connection<GroupRow>): void {
    const focused = this.tree.contains(document.activeElement) ? document.activeElement?.closest<HTMLElement>(ITEM) : null;
    const before = new Map([...list.querySelectorAll<HTMLElement>(`:scope > ${ITEM}`)].map((item) => [item.dataset.groupId, item]));
    for (const row of list.querySelectorAll<HTMLElement>(`:scope > li:not(${ITEM})`)) {
      const more = row.querySelector('button.more');
      if (more) this.observer.unobserve(more);
      row.remove();
    }
    this.nextPage.delete(list);
    const ids = new Set(nodes.map((group) => group.id));
    for (const [id, item] of before) if (!ids.has(id ?? '')) item.remove();
    nodes.forEach((group, i) => {
      let item = before.get(group.id);
      if (item?.dataset.row !== rowKey(group)) {
        const fresh = this.item(group, level, i + 1);
        if (item) {
          fresh.tabIndex = item.tabIndex;
          fresh.setAttribute('aria-selected', item.getAttribute('aria-selected') ?? 'false');
          const children = item.querySelector(':scope > ul');
          if (children && fresh.hasAttribute('aria-expanded')) {
            fresh.setAttribute('aria-expanded', item.getAttribute('aria-expanded') ?? 'false');
            fresh.append(children);
          }
          item.replaceWith(fresh);
        }
        item = fresh;
      }
      if (list.children[i] !== item) list.insertBefore(item, list.children[i] ?? null);
      item.setAttribute('aria-posinset', String(i + 1));
      item.setAttribute('aria-setsize', String(last.totalCount));
    });
    if (last.pageInfo.hasNextPage && last.pageInfo.endCursor) {
      list.append(this.moreButton(list, source, level, last.pageInfo.endCursor, nodes.length, last.totalCount));
    }
    if (last.totalCount === 0 && 'roots' in source) list.append(h('li', { role: 'none', class: 'status' }, 'This workspace has no groups yet.'));
    // A focus the redraw took (its item redrawn or gone) goes back: to the group, or the tree's tab stop.
    if (focused && !focused.isConnected && (document.activeElement === document.body || document.activeElement === null)) {
      keepTabStop(this.tree);
      const id = focused.dataset.groupId ?? '';
      const again = this.tree.querySelector<HTMLElement>(`${ITEM}[data-group-id="${CSS.escape(id)}"]`) ?? this.tree.querySelector<HTMLElement>(`${ITEM}[tabindex="0"]`);
      if (again) moveTabStop(this.tree, again, true);
    }
  }

  /** The group's item among the list's, loading the list's pages until it comes; null if it never does. */
  private async find(list: HTMLUListElement, id: string): Promise<HTMLElement | null> {
    for (;;) {
      await this.loading.get(list);
      const item = list.querySelector<HTMLElement>(`:scope > ${ITEM}[data-group-id="${CSS.escape(id)}"]`);
      if (item || !(await this.loadMore(list))) return item;
    }
  }

  /** One page of the source, after the cursor `after` (null: the first page); null with the reason shown if there is none. */
  private async page(source: Source, after: string | null): Promise<{ page: Connection<GroupRow> | null; result: Result<unknown> }> {
    const variables = { first: PAGE_SIZE, after: after ?? undefined };
    if ('roots' in source) {
      const result = await graphql(ROOT_PAGE, variables);
      return { page: result.data?.groups ?? null, result };
    }
    const result = await graphql(CHILD_PAGE, { parentId: source.parentId, ...variables });
    return { page: result.data?.group?.children ?? null, result };
  }

  private load(list: HTMLUListElement, source: Source, level: number, after: string | null, loaded: number): Promise<void> {
    const loading = this.appendPage(list, source, level, after, loaded);
    this.loading.set(list, loading);
    return loading;
  }

  /** Appends the page after `after` to `list` (`loaded` items are there already), then a "Show more" button if there are more. */
  private async appendPage(list: HTMLUListElement, source: Source, level: number, after: string | null, loaded: number): Promise<void> {
    const loading = h('li', { role: 'none', class: 'status' }, 'Loading…');
    list.append(loading);
    const { page, result } = await this.page(source, after);
    loading.remove();
    if (!page) {
      const scopes = neededScopes(result.errors, ['groups'], ['group']);
      const reason = scopes ? needsScope(scopes) : (problem(result) ?? 'This group no longer exists.');
      list.append(h('li', { role: 'none', class: 'status error' }, reason));
      return;
    }
    list.append(...page.nodes.map((group, i) => this.item(group, level, loaded + i + 1)));
    // The count may have changed since the first page: every item says the latest.
    for (const item of list.querySelectorAll(`:scope > ${ITEM}`)) item.setAttribute('aria-setsize', String(page.totalCount));
    const shown = loaded + page.nodes.length;
    if (page.pageInfo.hasNextPage && page.pageInfo.endCursor) {
      list.append(this.moreButton(list, source, level, page.pageInfo.endCursor, shown, page.totalCount));
    }
    if (page.totalCount === 0 && 'roots' in source) list.append(h('li', { role: 'none', class: 'status' }, 'This workspace has no groups yet.'));
    keepTabStop(this.tree);
  }

  /** Not a tab stop: the keyboard loads the next page by going past the last loaded item. */
  private moreButton(list: HTMLUListElement, source: Source, level: number, after: string, shown: number, total: number): HTMLLIElement {
    const button = h('button', { type: 'button', class: 'more', tabindex: '-1' }, `Show more (${shown} of ${total})`);
    const row = h('li', { role: 'none' }, button);
    // Once: a click, the observer's click and the keyboard at the same moment load the page once.
    let next: Promise<void> | undefined;
    const loadNext = (): Promise<void> => {
      if (!next) {
        this.observer.unobserve(button);
        this.nextPage.delete(list);
        row.remove();
        next = this.load(list, source, level, after, shown);
      }
      return next;
    };
    button.addEventListener('click', () => void loadNext());
    this.nextPage.set(list, loadNext);
    this.observer.observe(button);
    return row;
  }

  private item(group: GroupRow, level: number, position: number): HTMLLIElement {
    const subgroups = group.subgroups.totalCount;
    const expandable = subgroups > 0;
    const item = h('li', {
      role: 'treeitem',
      tabindex: '-1',
      'data-group-id': group.id,
      'aria-level': String(level),
      'aria-posinset': String(position),
      'aria-selected': 'false',
      'aria-expanded': expandable ? 'false' : undefined,
      'data-row': rowKey(group),
    });
    // The item is the tab stop, not its buttons: they are for the mouse.
    const toggle = expandable
      ? h('button', { type: 'button', class: 'toggle', tabindex: '-1', 'aria-label': `Subgroups of ${group.name}`, title: plural(subgroups, 'subgroup') }, '▸')
      : h('span', { class: 'toggle' });
    const name = h('button', { type: 'button', class: 'name', tabindex: '-1' }, group.name);
    const members = h(
      'span',
      { class: 'count', title: `${plural(group.directMembers, 'direct member')}, ${group.allMembers} including subgroups` },
      plural(group.allMembers, 'member'),
    );
    item.append(h('div', { class: 'row', draggable: this.rowsDraggable ? 'true' : undefined }, toggle, name, members));
    toggle.addEventListener('click', () => (item.getAttribute('aria-expanded') === 'true' ? this.collapse(item) : void this.expand(item)));
    name.addEventListener('click', () => this.onSelect(group.id));
    return item;
  }
}
