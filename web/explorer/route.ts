// Each group and each user has an address in the page's fragment, `/explorer#/groups/42` and
// `/explorer#/users/7`: the fragment never reaches the server, so the page (and its
// Content-Security-Policy) stays the same document.

const ROUTE = /^#\/(groups|users)\/([^/]+)$/;

export type Route = { group: string } | { user: string } | { unknown: string };

export function groupLink(id: string): string {
  return `#/groups/${encodeURIComponent(id)}`;
}

export function userLink(id: string): string {
  return `#/users/${encodeURIComponent(id)}`;
}

/** The group or user the fragment names; null for no fragment; `{ unknown }` for one that names neither. */
export function routeOf(hash: string): Route | null {
  if (hash === '' || hash === '#' || hash === '#/') return null;
  const match = ROUTE.exec(hash);
  if (!match) return { unknown: hash };
  try {
    const id = decodeURIComponent(match[2]);
    return match[1] === 'groups' ? { group: id } : { user: id };
  } catch {
    return { unknown: hash };
  }
}
