// The scope catalog as a table: what parses, what each scope implies, how restrictions
// (`<scope>@<groupId>`) cover the tree, and what a credential may hand out (no escalation).
import {
  type Grant,
  type ScopeName,
  coveredRoots,
  coversGroup,
  expandGrants,
  formatGrant,
  grantCovers,
  knownGrants,
  parseScope,
  satisfies,
} from '../../src/policy/scopes';

/** The grant a scope text parses to; fails the test if it does not parse. */
function grantOf(text: string): Grant {
  const parsed = parseScope(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.grant;
}

/** The scopes of the issue, as an unknown scope's refusal lists them. */
const KNOWN = 'groups:read, groups:members:write, groups:write, users:read, users:write, roles:read, roles:write, apikeys:read, apikeys:write, audit:read';

const grants = (...scopes: string[]): Grant[] => expandGrants(scopes.map(grantOf));
const formatted = (list: Grant[]): string[] => list.map(formatGrant).sort();

// A tree used by the restriction tables:   1 ─ 12 ─ 120 ─ 1200
//                                           │    └─ 121
//                                           └─ 13          2 (another root)
const PATHS: Record<number, number[]> = {
  1: [1],
  12: [1, 12],
  120: [1, 12, 120],
  1200: [1, 12, 120, 1200],
  121: [1, 12, 121],
  13: [1, 13],
  2: [2],
};
const pathOf = (id: number): number[] | null => PATHS[id] ?? null;

describe('the scope catalog', () => {
  it('knows exactly the scopes of the issue, and names them when refusing another', () => {
    expect(parseScope('groups:admin')).toEqual({ ok: false, problem: `unknown scope "groups:admin"; known scopes: ${KNOWN}` });
  });

  it.each<[string, boolean]>([
    ['groups:read', true],
    ['groups:members:write', true],
    ['groups:write', true],
    ['users:read', false],
    ['users:write', false],
    ['roles:read', false],
    ['roles:write', false],
    ['apikeys:read', false],
    ['apikeys:write', false],
    ['audit:read', true],
  ])('parses %s, and a restriction of it to a subtree only if it is a groups:* or audit scope (%s)', (scope, restrictable) => {
    expect(parseScope(scope)).toEqual({ ok: true, grant: { scope, group: null } });
    expect(parseScope(`${scope}@7`)).toEqual(
      restrictable
        ? { ok: true, grant: { scope, group: 7 } }
        : { ok: false, problem: `scope "${scope}" cannot be restricted to a group ("${scope}@7")` },
    );
  });
});

describe('parseScope', () => {
  it.each<[string, Grant]>([
    ['groups:read', { scope: 'groups:read', group: null }],
    ['groups:members:write', { scope: 'groups:members:write', group: null }],
    ['groups:write@12', { scope: 'groups:write', group: 12 }],
    ['groups:read@1', { scope: 'groups:read', group: 1 }],
    ['groups:members:write@2147483647', { scope: 'groups:members:write', group: 2147483647 }],
    ['users:read', { scope: 'users:read', group: null }],
    ['apikeys:write', { scope: 'apikeys:write', group: null }],
    ['audit:read@12', { scope: 'audit:read', group: 12 }],
  ])('parses %s', (text, expected) => {
    expect(parseScope(text)).toEqual({ ok: true, grant: expected });
    expect(formatGrant(grantOf(text))).toBe(text);
  });

  it.each<[string, string, 'unknown' | 'restriction' | 'no group']>([
    ['an unknown scope', 'groups:admin', 'unknown'],
    ['an unknown namespace', 'teams:read', 'unknown'],
    ['an empty string', '', 'unknown'],
    ['a bare name', 'groups', 'unknown'],
    ['upper case', 'GROUPS:READ', 'unknown'],
    ['surrounding spaces', ' groups:read', 'unknown'],
    ['a trailing colon', 'groups:read:', 'unknown'],
    ['group 0', 'groups:read@0', 'unknown'],
    ['a leading zero', 'groups:read@012', 'unknown'],
    ['a negative group', 'groups:read@-1', 'unknown'],
    ['a non-numeric group', 'groups:read@abc', 'unknown'],
    ['an empty restriction', 'groups:read@', 'unknown'],
    ['two restrictions', 'groups:read@1@2', 'unknown'],
    ['a group beyond 32 bits', 'groups:read@2147483648', 'no group'],
    ['a wildcard', 'groups:*', 'unknown'],
    ['a restricted non-groups scope (users:read)', 'users:read@12', 'restriction'],
    ['a restricted non-groups scope (roles:write)', 'roles:write@12', 'restriction'],
    ['a restricted non-groups scope (apikeys:write)', 'apikeys:write@3', 'restriction'],
  ])('rejects %s, saying why', (_, text, kind) => {
    const scope = text.split('@')[0];
    const problems: Record<typeof kind, string> = {
      unknown: `unknown scope "${text}"; known scopes: ${KNOWN}`,
      restriction: `scope "${scope}" cannot be restricted to a group ("${text}")`,
      'no group': `"${text}" names no group: group ids go up to 2147483647`,
    };
    const problem = problems[kind];
    expect(parseScope(text)).toEqual({ ok: false, problem });
  });
});

describe('knownGrants', () => {
  it('keeps the scopes this version knows, unexpanded, and drops the others', () => {
    expect(knownGrants(['groups:write@12', 'openid', 'legacy:admin', 'users:read', 'users:read@3'])).toEqual([
      { scope: 'groups:write', group: 12 },
      { scope: 'users:read', group: null },
    ]);
  });
});

describe('expandGrants (implications)', () => {
  it.each<[string[], string[]]>([
    [['groups:read'], ['groups:read']],
    [['groups:members:write'], ['groups:members:write', 'groups:read']],
    [['groups:write'], ['groups:members:write', 'groups:read', 'groups:write']],
    [['users:read'], ['users:read']],
    [['users:write'], ['users:read', 'users:write']],
    [['roles:read'], ['roles:read']],
    [['roles:write'], ['roles:read', 'roles:write']],
    [['apikeys:read'], ['apikeys:read']],
    [['apikeys:write'], ['apikeys:read', 'apikeys:write']],
    [['audit:read'], ['audit:read']],
    [['audit:read@12'], ['audit:read@12']],
    [['groups:write@12'], ['groups:members:write@12', 'groups:read@12', 'groups:write@12']],
    [['groups:members:write@12'], ['groups:members:write@12', 'groups:read@12']],
    [['groups:write@12', 'groups:read'], ['groups:members:write@12', 'groups:read', 'groups:read@12', 'groups:write@12']],
    [['groups:write', 'groups:write'], ['groups:members:write', 'groups:read', 'groups:write']],
    [['groups:read@12', 'groups:read@13'], ['groups:read@12', 'groups:read@13']],
    [[], []],
  ])('%j gives %j', (given, expected) => {
    expect(formatted(grants(...given))).toEqual(expected.sort());
  });

  it('never lets a restricted scope imply one outside the groups:* family', () => {
    for (const scope of ['groups:read', 'groups:members:write', 'groups:write']) {
      for (const g of grants(`${scope}@7`)) expect(g).toEqual({ scope: expect.stringMatching(/^groups:/), group: 7 });
    }
  });
});

describe('coversGroup (restrictions)', () => {
  it.each<[string, string[], ScopeName, number | null, boolean]>([
    ['an unrestricted scope covers any group', ['groups:write'], 'groups:write', 1200, true],
    ['an unrestricted scope covers the top level', ['groups:write'], 'groups:write', null, true],
    ['a restriction covers its root', ['groups:write@12'], 'groups:write', 12, true],
    ['a restriction covers a child', ['groups:write@12'], 'groups:write', 120, true],
    ['a restriction covers a deep descendant', ['groups:write@12'], 'groups:write', 1200, true],
    ['a restriction does not cover the parent', ['groups:write@12'], 'groups:write', 1, false],
    ['a restriction does not cover a sibling', ['groups:write@12'], 'groups:write', 13, false],
    ['a restriction does not cover another root', ['groups:write@12'], 'groups:write', 2, false],
    ['a restriction does not cover the top level', ['groups:write@12'], 'groups:write', null, false],
    ['an implied restricted scope covers the subtree', ['groups:write@12'], 'groups:read', 121, true],
    ['an implied restricted scope stays restricted', ['groups:write@12'], 'groups:read', 13, false],
    ['members:write implies read on the same subtree', ['groups:members:write@12'], 'groups:read', 120, true],
    ['members:write does not imply groups:write', ['groups:members:write'], 'groups:write', 12, false],
    ['read does not imply members:write', ['groups:read'], 'groups:members:write', 12, false],
    ['any of several restrictions covers', ['groups:read@13', 'groups:read@120'], 'groups:read', 1200, true],
    ['several restrictions still leave gaps', ['groups:read@13', 'groups:read@120'], 'groups:read', 121, false],
    ['no grant of the scope covers nothing', ['users:read'], 'groups:read', 12, false],
  ])('%s', (_, held, scope, groupId, expected) => {
    const path = groupId === null ? null : pathOf(groupId);
    expect(coversGroup(grants(...held), scope, path)).toBe(expected);
  });

  it.each<[string, string[], number | null, boolean]>([
    ['the restriction root itself is not strictly below it', ['groups:write@12'], 12, false],
    ['a child is strictly below', ['groups:write@12'], 120, true],
    ['a deep descendant is strictly below', ['groups:write@12'], 1200, true],
    ['a sibling is not', ['groups:write@12'], 13, false],
    ['the parent is not', ['groups:write@12'], 1, false],
    ['an unrestricted scope covers any group strictly', ['groups:write'], 12, true],
    ['an unrestricted scope covers a root strictly', ['groups:write'], 2, true],
    ['a restriction on an ancestor covers the inner root strictly', ['groups:write@1'], 12, true],
  ])('strictly below: %s', (_, held, groupId, expected) => {
    const path = groupId === null ? null : pathOf(groupId);
    expect(coversGroup(grants(...held), 'groups:write', path, true)).toBe(expected);
  });
});

describe('coveredRoots', () => {
  it.each<[string[], ScopeName, number[] | null]>([
    [['groups:read'], 'groups:read', null],
    [['groups:write'], 'groups:read', null],
    [['groups:read@12'], 'groups:read', [12]],
    [['groups:members:write@12'], 'groups:read', [12]],
    [['groups:read@12', 'groups:write@13'], 'groups:read', [12, 13]],
    [['groups:read@12', 'groups:read'], 'groups:read', null],
    [['groups:read@12', 'groups:members:write'], 'groups:read', null],
    [['users:read'], 'groups:read', []],
    [[], 'groups:read', []],
  ])('%j covers %s under %j', (held, scope, expected) => {
    const roots = coveredRoots(grants(...held), scope);
    expect(roots === null ? null : [...roots].sort((a, b) => a - b)).toEqual(expected);
  });
});

describe('satisfies (an OR of ANDs)', () => {
  it.each<[string, string[], string[][], number | null | undefined, boolean]>([
    ['one held scope', ['users:read'], [['users:read']], undefined, true],
    ['a scope not held', ['users:read'], [['roles:read']], undefined, false],
    ['an implied scope', ['users:write'], [['users:read']], undefined, true],
    ['no scopes at all', [], [['users:read']], undefined, false],
    ['an empty requirement is never satisfied', ['groups:write', 'users:write'], [], undefined, false],
    ['either alternative (first)', ['users:read'], [['users:read'], ['groups:read']], undefined, true],
    ['either alternative (second)', ['groups:read'], [['users:read'], ['groups:read']], undefined, true],
    ['neither alternative', ['roles:read'], [['users:read'], ['groups:read']], undefined, false],
    ['both parts of an AND', ['roles:read', 'groups:read'], [['roles:read', 'groups:read']], undefined, true],
    ['only one part of an AND', ['roles:read'], [['roles:read', 'groups:read']], undefined, false],
    ['an AND through implications', ['roles:write', 'groups:write'], [['roles:read', 'groups:read']], undefined, true],
    ['an unknown scope in the requirement', ['groups:write'], [['groups:admin']], undefined, false],
    ['a restricted scope where no group is involved', ['groups:read@12'], [['groups:read']], undefined, true],
    ['a restricted scope inside its subtree', ['groups:read@12'], [['groups:read']], 120, true],
    ['a restricted scope outside its subtree', ['groups:read@12'], [['groups:read']], 13, false],
    ['a restricted scope at the top level', ['groups:write@12'], [['groups:write']], null, false],
    ['an unrestricted scope at the top level', ['groups:write'], [['groups:write']], null, true],
    ['a non-restrictable scope ignores the group', ['roles:read'], [['roles:read']], 13, true],
    ['an AND with a group: both must hold there', ['roles:read', 'groups:read@12'], [['roles:read', 'groups:read']], 13, false],
    ['an OR with a group: the other alternative can hold', ['users:read', 'groups:read@12'], [['groups:read'], ['users:read']], 13, true],
  ])('%s', (_, held, requirement, groupId, expected) => {
    const path = groupId === undefined ? undefined : groupId === null ? null : pathOf(groupId);
    expect(satisfies(grants(...held), requirement, path)).toBe(expected);
  });
});

describe('grantCovers (no escalation)', () => {
  it.each<[string, string[], string, boolean]>([
    ['the same unrestricted scope', ['groups:write'], 'groups:write', true],
    ['an implied unrestricted scope', ['groups:write'], 'groups:read', true],
    ['a scope not held', ['groups:read'], 'groups:write', false],
    ['a scope that implies the held one', ['users:read'], 'users:write', false],
    ['a restricted form of an unrestricted scope', ['groups:write'], 'groups:write@12', true],
    ['a restricted form of an implied scope', ['groups:write'], 'groups:members:write@120', true],
    ['the same restriction', ['groups:write@12'], 'groups:write@12', true],
    ['a narrower restriction', ['groups:write@12'], 'groups:write@120', true],
    ['a much narrower restriction', ['groups:write@12'], 'groups:read@1200', true],
    ['a wider restriction', ['groups:write@12'], 'groups:write@1', false],
    ['a sibling subtree', ['groups:write@12'], 'groups:write@13', false],
    ['another root', ['groups:write@12'], 'groups:read@2', false],
    ['the unrestricted scope from a restricted one', ['groups:write@12'], 'groups:write', false],
    ['an implied unrestricted scope from a restricted one', ['groups:write@12'], 'groups:read', false],
    ['a group that does not exist', ['groups:write'], 'groups:write@999', false],
    ['a non-groups scope', ['apikeys:write'], 'apikeys:read', true],
    ['apikeys:write from apikeys:read', ['apikeys:read'], 'apikeys:write', false],
  ])('%s', (_, held, wanted, expected) => {
    expect(grantCovers(grants(...held), grantOf(wanted), pathOf)).toBe(expected);
  });
});
