// The group tree: the workspace's roots, then each group's children loaded the first time it is
// expanded, one page at a time ("Show more", or scrolling that button into view).
import { GROUP_PAGE, type GroupRow, PAGE_SIZE, type Page, graphql, neededScopes, problem } from './api';
import { h, needsScope, plural } from './dom';

type Filter = { rootsOnly: true } | { parentId: string };

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
    await this.appendPage(this.tree, { rootsOnly: true }, 1, 0);
  }

  /** Marks the group as selected if it is in the tree (it may be in a page not loaded yet). */
  markSelected(id: string): void {
    for (const item of this.tree.querySelectorAll('[aria-selected="true"]')) item.setAttribute('aria-selected', 'false');
    this.tree.querySelector(`[role="treeitem"][data-group-id="${CSS.escape(id)}"]`)?.setAttribute('aria-selected', 'true');
  }

  /** Appends the page at `offset` to `list`, then a "Show more" button if there are more. */
  private async appendPage(list: HTMLUListElement, filter: Filter, level: number, offset: number): Promise<void> {
    const loading = h('li', { role: 'none', class: 'status' }, 'Loading…');
    list.append(loading);
    const result = await graphql<{ groups: Page<GroupRow> }>(GROUP_PAGE, { ...filter, offset, limit: PAGE_SIZE });
    loading.remove();
    const page = result.data?.groups;
    if (!page) {
      const scopes = neededScopes(result.errors, ['groups']);
      list.append(h('li', { role: 'none', class: 'status error' }, scopes ? needsScope(scopes) : problem(result)));
      return;
    }
    list.append(...page.nodes.map((group) => this.item(group, level)));
    const loaded = offset + page.nodes.length;
    if (loaded < page.total) list.append(this.moreButton(list, filter, level, loaded, page.total));
    if (page.total === 0 && 'rootsOnly' in filter) list.append(h('li', { role: 'none', class: 'status' }, 'This workspace has no groups yet.'));
  }

  private moreButton(list: HTMLUListElement, filter: Filter, level: number, loaded: number, total: number): HTMLLIElement {
    const button = h('button', { type: 'button', class: 'more' }, `Show more (${loaded} of ${total})`);
    const row = h('li', { role: 'none' }, button);
    // `once`: a click and the observer's click at the same moment load the page once.
    button.addEventListener(
      'click',
      () => {
        this.observer.unobserve(button);
        row.remove();
        void this.appendPage(list, filter, level, loaded);
      },
      { once: true },
    );
    this.observer.observe(button);
    return row;
  }

  private item(group: GroupRow, level: number): HTMLLIElement {
    const expandable = group.children.length > 0;
    const item = h('li', {
      role: 'treeitem',
      'data-group-id': group.id,
      'aria-level': String(level),
      'aria-selected': 'false',
      'aria-expanded': expandable ? 'false' : undefined,
    });
    const toggle = expandable
      ? h('button', { type: 'button', class: 'toggle', 'aria-label': `Subgroups of ${group.name}` }, '▸')
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
    void this.appendPage(list, { parentId: id }, level + 1, 0);
  }
}
