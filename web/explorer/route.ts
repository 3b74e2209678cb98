// Each group has an address in the page's fragment, `/explorer#/groups/42`: the fragment never
// reaches the server, so the page (and its Content-Security-Policy) stays the same document.

const GROUP_ROUTE = /^#\/groups\/([^/]+)$/;

export function groupLink(id: string): string {
  return `#/groups/${encodeURIComponent(id)}`;
}

/** The group the fragment names; null for no fragment; `{ unknown }` for one that names no group. */
export function groupInHash(hash: string): { id: string } | { unknown: string } | null {
  if (hash === '' || hash === '#' || hash === '#/') return null;
  const match = GROUP_ROUTE.exec(hash);
  if (!match) return { unknown: hash };
  try {
    return { id: decodeURIComponent(match[1]) };
  } catch {
    return { unknown: hash };
  }
}
