// Partial results: a denied field is null with a FORBIDDEN error at its exact path (list
// indices included) and the rest of the response is returned. Reads under a restricted
// groups:read behave as if the groups outside the subtree did not exist.
import { queryLimits } from '../../src/config';
import { type GraphQLBody, type Workspace, eachBackend } from '../support/harness';
import { buildTree } from '../support/tree-fixture';

// These nest lists three deep to show where denials land; pricing is test/limits.test.ts's subject.
const UNPRICED = { app: { query: { ...queryLimits({}), maxCost: Number.MAX_SAFE_INTEGER } } };

/** R ─ A ─ A1 and R ─ B; alice ∈ A and A1, bob ∈ B; editor assigned to R and to alice. */
function tree(ws: Workspace) {
  return buildTree(ws, {
    groups: { R: { A: { A1: {} }, B: {} } },
    users: { alice: 'Alice', bob: 'Bob' },
    roles: ['editor'],
    members: { A: ['alice'], A1: ['alice'], B: ['bob'] },
    groupRoles: { R: ['editor'] },
    userRoles: { alice: ['editor'] },
  });
}

/** The errors as `path → code, requiredScopes`, sorted by path. */
function denials(body: GraphQLBody) {
  return (body.errors ?? [])
    .map((e) => ({ path: e.path, code: e.extensions.code, requiredScopes: e.extensions.requiredScopes }))
    .sort((a, b) => JSON.stringify(a.path).localeCompare(JSON.stringify(b.path)));
}

eachBackend('partial results', (h) => {
  it('returns every group with roles: null and one FORBIDDEN per list entry when roles:read is missing', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key(['groups:read']);
    const res = await ws.gql('{ groups { nodes { id name roles { id } } totalCount } }', {}, key);
    expect(res.status).toBe(200);
    expect(res.body.data.groups).toEqual({
      nodes: [
        { id: t.R, name: 'R', roles: null },
        { id: t.A, name: 'A', roles: null },
        { id: t.B, name: 'B', roles: null },
        { id: t.A1, name: 'A1', roles: null },
      ],
      totalCount: 4,
    });
    expect(denials(res.body)).toEqual(
      [0, 1, 2, 3].map((i) => ({ path: ['groups', 'nodes', i, 'roles'], code: 'FORBIDDEN', requiredScopes: [['roles:read']] })),
    );
  });

  it('hides each member email behind users:read while returning ids and names from groups:read', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key(['groups:read']);
    const res = await ws.gql('query($id: ID!) { group(id: $id) { name members(inherited: true) { nodes { id name email } } } }', { id: t.R }, key);
    expect(res.body.data.group).toEqual({
      name: 'R',
      members: {
        nodes: [
          { id: t.alice, name: 'Alice', email: null },
          { id: t.bob, name: 'Bob', email: null },
        ],
      },
    });
    expect(denials(res.body)).toEqual([
      { path: ['group', 'members', 'nodes', 0, 'email'], code: 'FORBIDDEN', requiredScopes: [['users:read']] },
      { path: ['group', 'members', 'nodes', 1, 'email'], code: 'FORBIDDEN', requiredScopes: [['users:read']] },
    ]);
  });

  it('returns the emails when the key also holds users:read', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key(['groups:read', 'users:read']);
    const res = await ws.gql('query($id: ID!) { group(id: $id) { members { nodes { id email } } } }', { id: t.A }, key);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.group.members.nodes).toEqual([{ id: t.alice, email: expect.stringContaining('@example.com') }]);
  });

  it('denies users as a whole without users:read (a non-null root field: data is null)', async () => {
    const ws = await h.workspace();
    await tree(ws);
    const res = await ws.gql('{ users { nodes { id email } totalCount } }', {}, await ws.key(['groups:read']));
    expect(res.status).toBe(200);
    expect(res.body.data).toBeNull();
    expect(denials(res.body)).toEqual([{ path: ['users'], code: 'FORBIDDEN', requiredScopes: [['users:read']] }]);
  });

  it('reports denials deep inside nested lists with every index on the path', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const res = await ws.gql(
      'query($id: ID!) { group(id: $id) { children { nodes { id members { nodes { id groups { nodes { id } } roles { id } } } } } } }',
      { id: t.R },
      await ws.key(['groups:read']),
    );
    expect(res.body.data.group.children.nodes).toEqual([
      { id: t.A, members: { nodes: [{ id: t.alice, groups: { nodes: [{ id: t.A }, { id: t.A1 }] }, roles: null }] } },
      { id: t.B, members: { nodes: [{ id: t.bob, groups: { nodes: [{ id: t.B }] }, roles: null }] } },
    ]);
    expect(denials(res.body)).toEqual([
      { path: ['group', 'children', 'nodes', 0, 'members', 'nodes', 0, 'roles'], code: 'FORBIDDEN', requiredScopes: [['roles:read']] },
      { path: ['group', 'children', 'nodes', 1, 'members', 'nodes', 0, 'roles'], code: 'FORBIDDEN', requiredScopes: [['roles:read']] },
    ]);
  });

  it('keeps the sibling root fields when one nullable root field is denied, with aliases in the paths', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key(['groups:read']);
    const res = await ws.gql(
      'query($id: ID!, $r: ID!) { top: group(id: $id) { id name } theRole: role(id: $r) { name } viewer { scopes } }',
      { id: t.R, r: t.editor },
      key,
    );
    expect(res.body.data).toEqual({ top: { id: t.R, name: 'R' }, theRole: null, viewer: { scopes: ['groups:read'] } });
    expect(denials(res.body)).toEqual([{ path: ['theRole'], code: 'FORBIDDEN', requiredScopes: [['roles:read']] }]);
  });

  it('needs both roles:read and groups:read for EffectiveRole.via and reports the AND in requiredScopes', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key(['users:read', 'roles:read']);
    const res = await ws.gql('query($id: ID!) { user(id: $id) { email effectiveRoles { direct role { name } via { id } } } }', { id: t.alice }, key);
    expect(res.body.data.user).toEqual({ email: expect.any(String), effectiveRoles: null });
    expect(denials(res.body)).toEqual([
      { path: ['user', 'effectiveRoles', 0, 'via'], code: 'FORBIDDEN', requiredScopes: [['roles:read', 'groups:read']] },
    ]);

    const both = await ws.gql('query($id: ID!) { user(id: $id) { effectiveRoles { direct via { id } } } }', { id: t.alice }, await ws.key(['users:read', 'roles:read', 'groups:read']));
    expect(both.body.errors).toBeUndefined();
    expect(both.body.data.user.effectiveRoles).toEqual([{ direct: true, via: [{ id: t.R }] }]);
  });

  it('returns a mutation result partially but performs the mutation once it is allowed', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key(['groups:members:write']);
    const carol = await ws.user('Carol');
    const res = await ws.gql(
      'mutation($g: ID!, $u: [ID!]!) { setGroupMembers(groupId: $g, userIds: $u) { group { id roles { id } } added { id email } } }',
      { g: t.B, u: [t.bob, carol] },
      key,
    );
    expect(res.body.data.setGroupMembers).toEqual({ group: { id: t.B, roles: null }, added: [{ id: carol, email: null }] });
    expect(denials(res.body)).toEqual([
      { path: ['setGroupMembers', 'added', 0, 'email'], code: 'FORBIDDEN', requiredScopes: [['users:read']] },
      { path: ['setGroupMembers', 'group', 'roles'], code: 'FORBIDDEN', requiredScopes: [['roles:read']] },
    ]);
  });
}, UNPRICED);

eachBackend('reads under a restricted groups:read', (h) => {
  it('shows the restriction root without its parent and without the ancestors above it', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key([`groups:read@${t.A}`]);
    const res = await ws.gql(
      'query($id: ID!) { group(id: $id) { id depth parent { id } ancestors { id } children { nodes { id } totalCount } descendants { nodes { id } totalCount } } }',
      { id: t.A },
      key,
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.group).toEqual({
      id: t.A,
      depth: 1,
      parent: null,
      ancestors: [],
      children: { nodes: [{ id: t.A1 }], totalCount: 1 },
      descendants: { nodes: [{ id: t.A1 }], totalCount: 1 },
    });

    const below = await ws.gql('query($id: ID!) { group(id: $id) { parent { id } ancestors { id } } }', { id: t.A1 }, key);
    expect(below.body.data.group).toEqual({ parent: { id: t.A }, ancestors: [{ id: t.A }] });
  });

  it("lists only a member's visible groups", async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key([`groups:read@${t.A1}`]);
    const res = await ws.gql('query($id: ID!) { group(id: $id) { members { nodes { id groups { nodes { id } totalCount } } } } }', { id: t.A1 }, key);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.group.members.nodes).toEqual([{ id: t.alice, groups: { nodes: [{ id: t.A1 }], totalCount: 1 } }]);
  });

  it('counts only visible groups and answers for a hidden group exactly as for a missing one', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key([`groups:read@${t.A}`]);
    const res = await ws.gql(
      'query($b: ID!, $r: ID!) { all: groups { totalCount } hidden: group(id: $b) { id } parent: group(id: $r) { id } missing: group(id: "2147483000") { id } }',
      { b: t.B, r: t.R },
      key,
    );
    expect(res.body.data).toEqual({ all: { totalCount: 2 }, hidden: null, parent: null, missing: null });
  });

  it('lets groups:members:write@N read the groups it manages, and only those', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key([`groups:members:write@${t.A}`]);
    const res = await ws.gql('{ groups { nodes { id name memberCount(inherited: true) } } }', {}, key);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.groups.nodes).toEqual([
      { id: t.A, name: 'A', memberCount: 1 },
      { id: t.A1, name: 'A1', memberCount: 1 },
    ]);
  });

  it('joins several restrictions', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key([`groups:read@${t.A1}`, `groups:read@${t.B}`]);
    const res = await ws.gql('{ groups { nodes { id } totalCount } }', {}, key);
    expect(res.body.data.groups).toEqual({ nodes: [{ id: t.B }, { id: t.A1 }], totalCount: 2 });
  });
});
