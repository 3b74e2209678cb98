// A list shown a page at a time: the first page comes with its view, "Show more" asks for the next
// after the last cursor.
import { type Connection, type Result, problem } from './api';
import { h } from './dom';

/** The next page after `after`, and the answer it came in (to say why there is none). */
export type NextPage<T> = (after: string) => Promise<{ page: Connection<T> | null | undefined; result: Result<unknown> }>;

/**
 * Fills `list` (already in the page) with `first`'s items and, while there are more, puts a
 * "Show more" after it; `gone` says why a next page did not come when the answer has no error.
 */
export function showPaged<T>(list: HTMLElement, first: Connection<T>, item: (node: T) => HTMLElement, next: NextPage<T>, gone: string): void {
  const append = (page: Connection<T>, shownBefore: number) => {
    list.append(...page.nodes.map(item));
    const shown = shownBefore + page.nodes.length;
    const after = page.pageInfo.endCursor;
    if (!page.pageInfo.hasNextPage || !after) return;
    const more = h('button', { type: 'button', class: 'more' }, `Show more (${shown} of ${page.totalCount})`);
    more.addEventListener(
      'click',
      async () => {
        more.disabled = true;
        const { page: following, result } = await next(after);
        if (following) {
          more.remove();
          append(following, shown);
        } else {
          more.replaceWith(h('p', { class: 'status error' }, problem(result) ?? gone));
        }
      },
      { once: true },
    );
    list.after(more);
  };
  append(first, 0);
}
