// The key's scopes in the header: one line that never wraps (the scopes as far as they fit, then
// "…", and how many), which opens into the whole list, one chip a scope.
import { h } from './dom';

export function scopeSummary(scopes: string[]): HTMLElement {
  return h(
    'details',
    { class: 'scopes' },
    h('summary', {}, 'scopes: ', h('span', { class: 'scope-line' }, scopes.join(', ')), h('span', { class: 'scope-count' }, ` (${scopes.length})`)),
    h('ul', { class: 'chips', 'aria-label': 'Scopes of this key' }, ...scopes.map((scope) => h('li', {}, h('code', {}, scope)))),
  );
}
