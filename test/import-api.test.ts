// Importing through GraphQL (importWorkspace, README "Import and export" › "Through the API"): the
// CLI's import behind a credential, on both backends. The counts, the tree it makes, the audit
// event naming the key; the dry run; a re-run changing nothing; each scope the contents need; a
// restricted key confined to its subtree; a bad document at its JSON pointer. Refused means nothing written.
import { syntheticExternalId } from '../src/domain/import/plan';
import { type GraphQLBody, type Response, type Workspace, codes, eachBackend } from './support/harness';
import { AUDIT } from './support/scim';
import { buildTree } from './support/tree-fixture';

const IMPORT = `mutation($d: JSON!, $dry: Boolean, $from: ImportSource) { importWorkspace(document: $d, dryRun: $dry, from: $from) {
  dryRun groups { created updated unchanged } users { created updated unchanged } roles { created updated unchanged }
  memberships { created unchanged } roleAssignments { created unchanged } } }`;

const WRITE_SCOPES = ['groups:write', 'groups:members:write', 'users:write', 'roles:write'];

const doc = (parts: Record<string, unknown>) => ({ format: 'kauth-workspace', version: 1, ...parts });

/** A small organisation: a root with a chain below it, users, roles, links. */
const organisation = () =>
  doc({
    groups: [
      { externalId: 'g-eng', name: 'Engineering' },
      { externalId: 'g-platform', name: 'Platform', parent: 'g-eng' },
      { externalId: 'g-db', name: 'Databases', parent: 'g-platform' },
    ],
    users: [
      { externalId: 'u-ann', userName: 'ann', email: 'ann@example.com', name: 'Ann' },
      { externalId: 'u-bob', userName: 'bob' },
    ],
    roles: [{ name: 'admin', description: 'Does everything' }],
    memberships: [
      { group: 'g-db', user: 'u-ann' },
      { group: 'g-platform', user: 'u-bob' },
    ],
    roleAssignments: [
      { role: 'admin', group: 'g-platform' },
      { role: 'admin', user: 'u-bob' },
    ],
  });

const tally = (created: number, updated = 0, unchanged = 0) => ({ created, updated, unchanged });

/** Everything the workspace holds that an import could write, audit events included. */
async function contents(ws: Workspace) {
  const db = ws.h.db.prisma;
  const where = { where: { tenantId: ws.tenant.id } };
  const [groups, users, roles, members, groupRoles, userRoles, events] = await Promise.all([
    db.group.findMany({ ...where, orderBy: { id: 'asc' } }),
    db.user.findMany({ ...where, orderBy: { id: 'asc' } }),
    db.role.findMany({ ...where, orderBy: { id: 'asc' } }),
    db.groupMember.count(where),
    db.groupRole.count(where),
    db.userRole.count(where),
    db.auditEvent.count(where),
  ]);
  return { groups, users, roles, members, groupRoles, userRoles, events };
}

function expectRefused(res: Response<GraphQLBody>, code: string, extensions: Record<string, unknown>): void {
  expect(res.status).toBe(200);
  expect(res.body.errors).toEqual([expect.objectContaining({ path: ['importWorkspace'], extensions: expect.objectContaining({ code, ...extensions }) })]);
  expect(res.body.data?.importWorkspace ?? null).toBeNull();
}

eachBackend('importWorkspace through GraphQL', (h) => {
  it('imports with a key holding the write scopes: the counts, the tree, and WORKSPACE_IMPORTED naming the key', async () => {
    const ws = await h.workspace();
    const key = await ws.key(WRITE_SCOPES);
    const res = await ws.gql(IMPORT, { d: organisation() }, key);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.importWorkspace).toEqual({
      dryRun: false,
      groups: tally(3),
      users: tally(2),
      roles: tally(1),
      memberships: { created: 2, unchanged: 0 },
      roleAssignments: { created: 2, unchanged: 0 },
    });
    const { groups } = await contents(ws);
    const byName = new Map(groups.map((g) => [g.name, g]));
    expect(byName.get('Databases')!.path).toEqual([byName.get('Engineering')!.id, byName.get('Platform')!.id, byName.get('Databases')!.id]);
    const events = (await ws.ok(AUDIT, { filter: { action: 'WORKSPACE_IMPORTED' } })).auditEvents.nodes;
    expect(events).toHaveLength(1);
    const keyId = (await ws.gql('{ viewer { apiKey { id } } }', {}, key)).body.data.viewer.apiKey.id;
    expect(events[0].actor).toEqual({ kind: 'API_KEY', ref: `apikey:${keyId}` });
    expect(events[0].changes).toContainEqual({ field: 'source', before: null, after: 'api:kauth' });
  });

  it('counts without writing on a dry run, and a re-run of the import changes nothing and records nothing', async () => {
    const ws = await h.workspace();
    const before = await contents(ws);
    const dry = await ws.gql(IMPORT, { d: organisation(), dry: true });
    expect(dry.body.data.importWorkspace).toMatchObject({ dryRun: true, groups: tally(3), memberships: { created: 2, unchanged: 0 } });
    expect(await contents(ws)).toEqual(before);

    await ws.ok(IMPORT, { d: organisation() });
    const after = await contents(ws);
    const again = (await ws.ok(IMPORT, { d: organisation() })).importWorkspace;
    expect(again).toEqual({
      dryRun: false,
      groups: tally(0, 0, 3),
      users: tally(0, 0, 2),
      roles: tally(0, 0, 1),
      memberships: { created: 0, unchanged: 2 },
      roleAssignments: { created: 0, unchanged: 2 },
    });
    expect(await contents(ws)).toEqual(after);
  });

  it('reads a CSV document sent as one string', async () => {
    const ws = await h.workspace();
    const csv = 'group path,user email\nSales/EMEA,eve@example.com\n';
    const result = (await ws.ok(IMPORT, { d: csv, from: 'CSV' })).importWorkspace;
    expect(result).toMatchObject({ groups: tally(2), users: tally(1), memberships: { created: 1, unchanged: 0 } });
  });

  describe('refuses a key missing a scope the contents need, naming it, with nothing written', () => {
    const cases = [
      { part: 'groups', scope: 'groups:write', document: () => organisation() },
      { part: 'users', scope: 'users:write', document: () => organisation() },
      { part: 'roles', scope: 'roles:write', document: () => organisation() },
      {
        part: 'memberships',
        scope: 'groups:members:write',
        document: (group: string) => doc({ users: [{ externalId: 'u-x', userName: 'x' }], memberships: [{ group, user: 'u-x' }] }),
      },
      {
        part: 'roleAssignments',
        scope: 'roles:write',
        document: (group: string) => doc({ roleAssignments: [{ role: 'editor', group }] }),
      },
    ];
    it.each(cases)('$part needs $scope', async ({ part, scope, document }) => {
      const ws = await h.workspace();
      const t = await buildTree(ws, { groups: { R: {} }, roles: ['editor'] });
      // Without the scope, and without groups:write when the missing one is groups:members:write (which it implies).
      const key = await ws.key(WRITE_SCOPES.filter((s) => s !== scope && !(scope === 'groups:members:write' && s === 'groups:write')));
      const before = await contents(ws);
      const res = await ws.gql(IMPORT, { d: document(syntheticExternalId(ws.tenant.slug, Number(t.R))) }, key);
      expectRefused(res, 'FORBIDDEN', { requiredScopes: [[scope]], pointer: `/${part}` });
      expect(res.body.errors![0].message).toContain(scope);
      expect(await contents(ws)).toEqual(before);
    });
  });

  describe('with groups:write restricted to a subtree', () => {
    /** A key that may write in A's subtree; with `readsAll`, it may also read every group (else A's subtree only). */
    async function restricted(ws: Workspace, readsAll = false) {
      const t = await buildTree(ws, { groups: { R: { A: { A1: {} }, B: {} } }, users: { ann: 'Ann' }, roles: ['editor'] });
      const ext = (id: string) => syntheticExternalId(ws.tenant.slug, Number(id));
      const key = await ws.key([`groups:write@${t.A}`, 'users:write', 'roles:write', ...(readsAll ? ['groups:read'] : [])]);
      return { t, ext, key };
    }

    it('creates, updates, moves and links inside the subtree', async () => {
      const ws = await h.workspace();
      const { t, ext, key } = await restricted(ws);
      const document = doc({
        groups: [
          { externalId: 'g-new', name: 'New', parent: ext(t.A) },
          { externalId: ext(t.A1), name: 'A1', description: 'changed', parent: 'g-new' },
        ],
        users: [{ externalId: 'u-cy', userName: 'cy' }],
        memberships: [{ group: 'g-new', user: 'u-cy' }, { group: ext(t.A1), user: ext(t.ann) }],
        roleAssignments: [{ role: 'editor', group: ext(t.A1) }],
      });
      const res = await ws.gql(IMPORT, { d: document }, key);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.importWorkspace).toMatchObject({ groups: tally(1, 1), memberships: { created: 2, unchanged: 0 }, roleAssignments: { created: 1, unchanged: 0 } });
      const a1 = (await contents(ws)).groups.find((g) => String(g.id) === t.A1)!;
      expect(a1.path.slice(0, 2).map(String)).toEqual([t.R, t.A]);
      expect(a1.description).toBe('changed');
    });

    // Refusals of a key that reads the whole workspace: the groups outside are known to it.
    const outside: { name: string; pointer: string; scope: string; document: (t: Record<string, string>, ext: (id: string) => string) => object }[] = [
      { name: 'a new root', pointer: '/groups/0/parent', scope: 'groups:write', document: () => doc({ groups: [{ externalId: 'g-root', name: 'Root' }] }) },
      {
        name: 'a new group in a sibling subtree',
        pointer: '/groups/1/parent',
        scope: 'groups:write',
        document: (t, ext) => doc({ groups: [{ externalId: 'g-in', name: 'In', parent: ext(t.A) }, { externalId: 'g-out', name: 'Out', parent: ext(t.B) }] }),
      },
      {
        name: 'a new root listed after its new child (the root is the entry refused)',
        pointer: '/groups/1/parent',
        scope: 'groups:write',
        document: () => doc({ groups: [{ externalId: 'g-child', name: 'Child', parent: 'g-top' }, { externalId: 'g-top', name: 'Top' }] }),
      },
      {
        name: 'an update of a group outside',
        pointer: '/groups/0',
        scope: 'groups:write',
        document: (t, ext) => doc({ groups: [{ externalId: ext(t.B), name: 'B', description: 'mine now', parent: ext(t.R) }] }),
      },
      {
        name: 'a move out of the subtree',
        pointer: '/groups/0/parent',
        scope: 'groups:write',
        document: (t, ext) => doc({ groups: [{ externalId: ext(t.A1), name: 'A1', parent: ext(t.B) }] }),
      },
      {
        name: 'a move of the restriction root itself',
        pointer: '/groups/0/parent',
        scope: 'groups:write',
        document: (t, ext) => doc({ groups: [{ externalId: ext(t.A), name: 'A', parent: null }] }),
      },
      {
        name: 'a membership on a group outside',
        pointer: '/memberships/1/group',
        scope: 'groups:members:write',
        document: (t, ext) => doc({ memberships: [{ group: ext(t.A1), user: ext(t.ann) }, { group: ext(t.B), user: ext(t.ann) }] }),
      },
    ];
    it.each(outside)('refuses $name with FORBIDDEN at its pointer, writing nothing', async ({ pointer, scope, document }) => {
      const ws = await h.workspace();
      const { t, ext, key } = await restricted(ws, true);
      const before = await contents(ws);
      const res = await ws.gql(IMPORT, { d: document(t, ext) }, key);
      expectRefused(res, 'FORBIDDEN', { pointer, requiredScopes: [[scope]] });
      expect(res.body.errors![0].message).toMatch(new RegExp(`^${pointer}: `));
      expect(await contents(ws)).toEqual(before);
    });

    it('refuses a new root, or a new group where it cannot write, with FORBIDDEN also to a key that reads only its subtree', async () => {
      const ws = await h.workspace();
      const { t, ext, key } = await restricted(ws);
      const before = await contents(ws);
      // "R" is a root it cannot read: the refusal is the access one, not a sibling-name clash that would tell it so.
      expectRefused(await ws.gql(IMPORT, { d: doc({ groups: [{ externalId: 'g-r', name: 'r' }] }) }, key), 'FORBIDDEN', { pointer: '/groups/0/parent' });
      expectRefused(await ws.gql(IMPORT, { d: doc({ groups: [{ externalId: ext(t.B), name: 'B', parent: ext(t.A) }] }) }, key), 'FORBIDDEN', { pointer: '/groups/0' });
      expect(await contents(ws)).toEqual(before);
    });

    // A key that reads only its subtree: a group outside is, to the import, as if it did not exist
    // (single writes answer NOT_FOUND alike); no refusal names one.
    const hidden: { name: string; pointer: string; document: (t: Record<string, string>, ext: (id: string) => string) => object }[] = [
      {
        name: 'a new group under a group outside',
        pointer: '/groups/0/parent',
        document: (t, ext) => doc({ groups: [{ externalId: 'g-out', name: 'Out', parent: ext(t.B) }] }),
      },
      {
        name: 'a move under a group outside',
        pointer: '/groups/0/parent',
        document: (t, ext) => doc({ groups: [{ externalId: ext(t.A1), name: 'A1', parent: ext(t.B) }] }),
      },
      {
        name: 'a membership on a group outside',
        pointer: '/memberships/0/group',
        document: (t, ext) => doc({ memberships: [{ group: ext(t.B), user: ext(t.ann) }] }),
      },
      {
        name: 'a role assignment on a group outside',
        pointer: '/roleAssignments/0/group',
        document: (t, ext) => doc({ roleAssignments: [{ role: 'editor', group: ext(t.R) }] }),
      },
    ];
    it.each(hidden)('answers $name as it answers an external id no group has, writing nothing', async ({ pointer, document }) => {
      const ws = await h.workspace();
      const { t, ext, key } = await restricted(ws);
      const before = await contents(ws);
      const res = await ws.gql(IMPORT, { d: document(t, ext) }, key);
      expectRefused(res, 'BAD_USER_INPUT', { pointer });
      const outsideId = [t.R, t.B].find((id) => JSON.stringify(document(t, ext)).includes(ext(id)))!;
      const unknown = await ws.gql(IMPORT, { d: JSON.parse(JSON.stringify(document(t, ext)).replaceAll(ext(outsideId), 'kauth:nowhere:1')) }, key);
      expect(res.body.errors![0].message).toBe(unknown.body.errors![0].message.replace('kauth:nowhere:1', ext(outsideId)));
      expect(await contents(ws)).toEqual(before);
    });
  });

  it('refuses an invalid document with BAD_USER_INPUT at its JSON pointer, writing nothing', async () => {
    const ws = await h.workspace();
    const before = await contents(ws);
    const res = await ws.gql(IMPORT, { d: doc({ groups: [{ externalId: 'g', name: 'G' }, { externalId: 'h', name: '' }] }) });
    expectRefused(res, 'BAD_USER_INPUT', { pointer: '/groups/1/name' });
    const cycle = await ws.gql(IMPORT, { d: doc({ groups: [{ externalId: 'a', name: 'A', parent: 'b' }, { externalId: 'b', name: 'B', parent: 'a' }] }) });
    expect(codes(cycle.body)).toEqual(['BAD_USER_INPUT']);
    expect(await contents(ws)).toEqual(before);
  });

  it('is priced at its fixed weight in the cost model', async () => {
    const ws = await h.workspace();
    const res = await ws.gql(IMPORT, { d: doc({}), dry: true });
    expect(res.body.extensions?.rateLimit?.queryCost).toBeGreaterThanOrEqual(10_000);
  });
});
