// The scope catalog, what each scope implies, subtree restrictions (`<scope>@<groupId>`), and
// what the object types mean to them. Every authorization question in the service is answered
// by the functions in this file. Policy only: no I/O and no imports, so every layer can use it.

export const SCOPE_CATALOG = {
  'groups:read': { grants: 'groups, the tree, members (id and name)', implies: [], restrictable: true },
  'groups:members:write': {
    grants: 'add, remove and set members; reading the groups it may change',
    implies: ['groups:read'],
    restrictable: true,
  },
  'groups:write': {
    grants: 'create, update, move and delete groups',
    implies: ['groups:read', 'groups:members:write'],
    restrictable: true,
  },
  'users:read': { grants: 'user records, including email', implies: [], restrictable: false },
  'users:write': { grants: 'create, update, deactivate and delete users', implies: ['users:read'], restrictable: false },
  'roles:read': { grants: 'roles, role assignments, effective roles', implies: [], restrictable: false },
  'roles:write': { grants: 'create, update and delete roles, assign and unassign them', implies: ['roles:read'], restrictable: false },
  'apikeys:read': { grants: 'list API keys (never secrets)', implies: [], restrictable: false },
  'apikeys:write': { grants: 'create and revoke API keys', implies: ['apikeys:read'], restrictable: false },
  'audit:read': {
    grants: 'the audit trail: who changed what, when (restricted: events about groups in the subtree)',
    implies: [],
    restrictable: true,
  },
} as const satisfies Record<string, { grants: string; implies: readonly string[]; restrictable: boolean }>;

export type ScopeName = keyof typeof SCOPE_CATALOG;

export const ALL_SCOPES = Object.keys(SCOPE_CATALOG) as ScopeName[];

/** One scope held by a credential; `group` is the subtree root it is restricted to, or null. */
export interface Grant {
  scope: ScopeName;
  group: number | null;
}

const SCOPE_FORMAT = /^([a-z]+(?::[a-z]+)+)(?:@([1-9][0-9]{0,9}))?$/;

export function isScopeName(value: string): value is ScopeName {
  return Object.prototype.hasOwnProperty.call(SCOPE_CATALOG, value);
}

export type ParsedScope = { ok: true; grant: Grant } | { ok: false; problem: string };

/** Parses `groups:write` or `groups:write@12`; an unknown or malformed scope comes back with the problem. */
export function parseScope(text: string): ParsedScope {
  const match = SCOPE_FORMAT.exec(text);
  if (!match || !isScopeName(match[1])) {
    return { ok: false, problem: `unknown scope "${text}"; known scopes: ${ALL_SCOPES.join(', ')}` };
  }
  const scope = match[1];
  const group = match[2] === undefined ? null : Number(match[2]);
  if (group !== null && !SCOPE_CATALOG[scope].restrictable) {
    return { ok: false, problem: `scope "${scope}" cannot be restricted to a group ("${text}")` };
  }
  if (group !== null && group > 2_147_483_647) {
    return { ok: false, problem: `"${text}" names no group: group ids go up to 2147483647` };
  }
  return { ok: true, grant: { scope, group } };
}

/** The grants of the scopes this version knows; others (another service's, or since dropped) grant nothing. */
export function knownGrants(texts: readonly string[]): Grant[] {
  return texts.flatMap((text) => {
    const parsed = parseScope(text);
    return parsed.ok ? [parsed.grant] : [];
  });
}

export function formatGrant(grant: Grant): string {
  return grant.group === null ? grant.scope : `${grant.scope}@${grant.group}`;
}

/** The grants a set of scopes gives, implications included (a restriction carries over). */
export function expandGrants(grants: readonly Grant[]): Grant[] {
  const seen = new Map<string, Grant>();
  const visit = (grant: Grant) => {
    const key = formatGrant(grant);
    if (seen.has(key)) return;
    seen.set(key, grant);
    for (const implied of SCOPE_CATALOG[grant.scope].implies) visit({ scope: implied, group: grant.group });
  };
  grants.forEach(visit);
  return [...seen.values()];
}

/** Holds `scope` in some form, restricted or not. */
export function holdsAny(grants: readonly Grant[], scope: ScopeName): boolean {
  return grants.some((g) => g.scope === scope);
}

/**
 * May `scope` be used on a group with this path (root..self)? `null` is the top level.
 * With `strictlyBelow`, a restriction root does not cover itself (it cannot be moved or deleted).
 */
export function coversGroup(
  grants: readonly Grant[],
  scope: ScopeName,
  path: readonly number[] | null,
  strictlyBelow = false,
): boolean {
  return grants.some((g) => {
    if (g.scope !== scope) return false;
    if (g.group === null) return true;
    if (path === null) return false;
    const inside = strictlyBelow ? path.slice(0, -1) : path;
    return inside.includes(g.group);
  });
}

/** Roots of the subtrees `scope` covers; null when it covers every group. */
export function coveredRoots(grants: readonly Grant[], scope: ScopeName): number[] | null {
  const relevant = grants.filter((g) => g.scope === scope);
  if (relevant.some((g) => g.group === null)) return null;
  return relevant.map((g) => g.group as number);
}

/** Is one scope set (an AND) satisfied? Restrictable scopes are checked against `path` when given. */
export function satisfiesAll(grants: readonly Grant[], required: readonly string[], path?: readonly number[] | null): boolean {
  return required.every((name) => {
    if (!isScopeName(name)) return false;
    if (path !== undefined && SCOPE_CATALOG[name].restrictable) return coversGroup(grants, name, path);
    return holdsAny(grants, name);
  });
}

/** Is a requirement (an OR of ANDs) satisfied? */
export function satisfies(grants: readonly Grant[], requirement: readonly (readonly string[])[], path?: readonly number[] | null): boolean {
  return requirement.some((set) => satisfiesAll(grants, set, path));
}

/**
 * No escalation: may a holder of `held` hand out `wanted`? An unrestricted grant covers every
 * form; a restricted one covers the same or a narrower subtree (`pathOf` gives a group's path,
 * or null if the group does not exist in the tenant).
 */
export function grantCovers(held: readonly Grant[], wanted: Grant, pathOf: (groupId: number) => readonly number[] | null): boolean {
  if (wanted.group === null) return held.some((g) => g.scope === wanted.scope && g.group === null);
  const path = pathOf(wanted.group);
  return path !== null && coversGroup(held, wanted.scope, path);
}

/** The credential reading an object: its API key, or null for a JWT. */
interface Reader {
  apiKey: { id: number } | null;
}

/**
 * What an object type means to the scope model beyond its @requiresScope, by GraphQL type name.
 * `groupPath`: the object is a group, so restricted scopes on its fields are checked against its
 * path (root..self). `readableBy`: who may read the object's fields without the type's scopes.
 */
export interface ObjectRule {
  groupPath?: (object: unknown) => readonly number[];
  readableBy?: (object: unknown, reader: Reader) => boolean;
}

export const OBJECT_RULES: Readonly<Record<string, ObjectRule>> = {
  Group: { groupPath: (group) => (group as { path: readonly number[] }).path },
  // A credential may always read its own key (viewer.apiKey), even without apikeys:read.
  ApiKey: { readableBy: (key, reader) => reader.apiKey !== null && (key as { id: number }).id === reader.apiKey.id },
};

/** The rule of an object type; a type the table does not name has none. */
export function objectRuleOf(typeName: string): ObjectRule {
  return Object.prototype.hasOwnProperty.call(OBJECT_RULES, typeName) ? OBJECT_RULES[typeName] : {};
}
