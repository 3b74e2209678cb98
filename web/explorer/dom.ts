// Building DOM from data. Strings from the server become text nodes, never HTML: a group named
// "<img src=x onerror=…>" shows as those characters.

type Child = Node | string | null | undefined | false;

/** `h('li', { 'data-group-id': '7' }, 'Platform')`: an element, its attributes and its children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) element.setAttribute(name, value);
  element.append(...children.filter((child): child is Node | string => Boolean(child)));
  return element;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from explorer.html`);
  return element as T;
}

export function plural(count: number, noun: string): string {
  return `${count.toLocaleString('en')} ${noun}${count === 1 ? '' : 's'}`;
}

/** "needs scope roles:read", where a field the key may not read would be. */
export function needsScope(scopes: string): HTMLElement {
  return h('p', { class: 'needs-scope' }, `needs scope ${scopes}`);
}
