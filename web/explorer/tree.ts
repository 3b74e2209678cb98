// The group tree: the workspace's roots, then each group's children loaded the first time it is
// expanded, one page at a time ("Show more", or scrolling that button into view). Pages follow
// the connection's cursor (`after: endCursor`), so a group added or removed meanwhile neither
// repeats nor skips a child.
import { CHILD_PAGE, type Connection, type GroupRow, PAGE_SIZE, ROOT_PAGE, type Result, graphql, neededScopes, problem } from './api';
import { h, needsScope, plural } from './dom';

/** Where a list's pages come from: the roots, or one group's children. */
type Source = { roots: true } | { parentId: string };

export class GroupTree {
  /** Clicks a "Show more" button once it scrolls into view. */
  private readonly observer: IntersectionObserver;

  constructor(
    private readonly tree: HTMLUListElement,
    scroller: HTMLElement,
    private readonly onSelect: (id: string) => void,
  ) {
    this.observer = new IntersectionObserver(
      (entries) => entries.filter((entry) => entry.isIntersecting).forEach((entry) => (entry.target as HTMLElement).click()),
      { root: scroller },
    );
  }

  async showRoots(): Promise<void> {
    this.observer.disconnect();
    this.tree.replaceChildren();
    await this.appendPage(this.tree, { roots: true }, 1, null, 0);
  }

  /** Marks the group as selected if it is in the tree (it may be in a page not loaded yet). */
  markSelected(id: string): void {
    for (const item of this.tree.querySelectorAll('[aria-selected="true"]')) item.setAttribute('aria-selected', 'false');
    this.tree.querySelector(`[role="treeitem"][data-group-id="${CSS.escape(id)}"]`)?.setAttribute('aria-selected', 'true');
  }

  /** One page of the source, after the cursor `after` (null: the first page); null with the reason shown if there is none. */
  private async page(source: Source, after: string | null): Promise<{ page: Connection<GroupRow> | null; result: Result<unknown> }> {
    const variables = { first: PAGE_SIZE, after: after ?? undefined };
    if ('roots' in source) {
      const result = await graphql<{ groups: Connection<GroupRow> }>(ROOT_PAGE, variables);
      return { page: result.data?.groups ?? null, result };
    }
    const result = await graphql<{ group: { children: Connection<GroupRow> } | null }>(CHILD_PAGE, { parentId: source.parentId, ...variables });
    return { page: result.data?.group?.children ?? null, result };
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
    list.append(...page.nodes.map((group) => this.item(group, level)));
    const shown = loaded + page.nodes.length;
    if (page.pageInfo.hasNextPage && page.pageInfo.endCursor) {
      list.append(this.moreButton(list, source, level, page.pageInfo.endCursor, shown, page.totalCount));
    }
    if (page.totalCount === 0 && 'roots' in source) list.append(h('li', { role: 'none', class: 'status' }, 'This workspace has no groups yet.'));
  }

  private moreButton(list: HTMLUListElement, source: Source, level: number, after: string, shown: number, total: number): HTMLLIElement {
    const button = h('button', { type: 'button', class: 'more' }, `Show more (${shown} of ${total})`);
    const row = h('li', { role: 'none' }, button);
    // `once`: a click and the observer's click at the same moment load the page once.
    button.addEventListener(
      'click',
      () => {
        this.observer.unobserve(button);
        row.remove();
        void this.appendPage(list, source, level, after, shown);
      },
      { once: true },
    );
    this.observer.observe(button);
    return row;
  }

  private item(group: GroupRow, level: number): HTMLLIElement {
    const subgroups = group.subgroups.totalCount;
    const expandable = subgroups > 0;
    const item = h('li', {
      role: 'treeitem',
      'data-group-id': group.id,
      'aria-level': String(level),
      'aria-selected': 'false',
      'aria-expanded': expandable ? 'false' : undefined,
    });
    const toggle = expandable
      ? h('button', { type: 'button', class: 'toggle', 'aria-label': `Subgroups of ${group.name}`, title: plural(subgroups, 'subgroup') }, '▸')
      : h('span', { class: 'toggle' });
    const name = h('button', { type: 'button', class: 'name' }, group.name);
    const members = h(
      'span',
      { class: 'count', title: `${plural(group.directMembers, 'direct member')}, ${group.allMembers} including subgroups` },
      plural(group.allMembers, 'member'),
    );
    item.append(h('div', { class: 'row' }, toggle, name, members));
    toggle.addEventListener('click', () => this.toggle(item, group.id, level));
    name.addEventListener('click', () => this.onSelect(group.id));
    return item;
  }

  /** Expands or collapses; the first expansion asks for the first page of children. */
  private toggle(item: HTMLLIElement, id: string, level: number): void {
    const expanded = item.getAttribute('aria-expanded') === 'true';
    item.setAttribute('aria-expanded', String(!expanded));
    const children = item.querySelector<HTMLUListElement>(':scope > ul');
    if (children) {
      children.hidden = expanded;
      return;
    }
    const list = h('ul', { role: 'group' });
    item.append(list);
    void this.appendPage(list, { parentId: id }, level + 1, null, 0);
  }
}
