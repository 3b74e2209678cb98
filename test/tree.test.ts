import { type GraphQLBody, MAX_GROUP_DEPTH, eachBackend } from './support/harness';
import { checkTreesAfterEach } from './support/tree-check';

const TREE = `query($id: ID!) { group(id: $id) {
  id name depth parent { id } children(first: 100) { nodes { id } totalCount } ancestors { id }
  descendants(first: 100) { nodes { id } totalCount } } }`;

const idsOf = (connection: { nodes: { id: string }[] }) => connection.nodes.map((g) => g.id);

/** What a refused mutation tells the caller: message and extensions of each error. */
const refusals = (body: GraphQLBody) => (body.errors ?? []).map(({ message, extensions }) => ({ message, extensions }));

// Races between tree writes (the tree lock) are test/tree-lock.test.ts's subject, on PostgreSQL.
eachBackend('group tree', (h) => {
  checkTreesAfterEach(h);

  it('reports ancestors nearest first, descendants in tree order (each group followed by its subtree, siblings by id), and depth from 0', async () => {
    const ws = await h.workspace();
    const root = await ws.group('Root');
    const a = await ws.group('A', root);
    const b = await ws.group('B', root);
    const a1 = await ws.group('A1', a);
    const a1x = await ws.group('A1x', a1);
    const b1 = await ws.group('B1', b);

    const leaf = (await ws.ok(TREE, { id: a1x })).group;
    expect(leaf.depth).toBe(3);
    expect(leaf.parent).toEqual({ id: a1 });
    expect(leaf.ancestors.map((g: { id: string }) => g.id)).toEqual([a1, a, root]);

    const top = (await ws.ok(TREE, { id: root })).group;
    expect(top.depth).toBe(0);
    expect(top.parent).toBeNull();
    expect(top.children).toEqual({ nodes: [{ id: a }, { id: b }], totalCount: 2 });
    // Tree order, not id order (a, b, a1, a1x, b1) nor depth then id (a, b, a1, b1, a1x).
    expect(idsOf(top.descendants)).toEqual([a, a1, a1x, b, b1]);
    expect(top.descendants.totalCount).toBe(5);
  });

  it('moves a subtree and keeps every descendant consistent', async () => {
    const ws = await h.workspace();
    const x = await ws.group('X');
    const y = await ws.group('Y');
    const x1 = await ws.group('X1', x);
    const x2 = await ws.group('X2', x1);
    await ws.ok('mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p }) { id } }', { id: x, p: y });
    const moved = (await ws.ok(TREE, { id: x2 })).group;
    expect(moved.depth).toBe(3);
    expect(moved.ancestors.map((g: { id: string }) => g.id)).toEqual([x1, x, y]);
    const newRoot = (await ws.ok(TREE, { id: y })).group;
    expect(newRoot.descendants).toEqual({ nodes: [{ id: x }, { id: x1 }, { id: x2 }], totalCount: 3 });
    expect(newRoot.children).toEqual({ nodes: [{ id: x }], totalCount: 1 });
  });

  it('makes a group a root with parentId: null and leaves the parent alone when parentId is absent', async () => {
    const ws = await h.workspace();
    const p = await ws.group('P');
    const c = await ws.group('C', p);
    await ws.ok('mutation($id: ID!) { updateGroup(id: $id, input: { name: "C2" }) { id } }', { id: c });
    expect((await ws.ok(TREE, { id: c })).group.parent).toEqual({ id: p });
    await ws.ok('mutation($id: ID!) { updateGroup(id: $id, input: { parentId: null }) { id } }', { id: c });
    const after = (await ws.ok(TREE, { id: c })).group;
    expect(after).toMatchObject({ name: 'C2', depth: 0, parent: null, ancestors: [] });
  });

  it('refuses to move a group under itself or a descendant with CONFLICT and changes nothing', async () => {
    const ws = await h.workspace();
    const a = await ws.group('A');
    const b = await ws.group('B', a);
    const c = await ws.group('C', b);
    for (const target of [a, c]) {
      const res = await ws.gql('mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p, name: "renamed" }) { id } }', {
        id: a,
        p: target,
      });
      expect(res.body.data).toBeNull();
      expect(refusals(res.body)).toEqual([
        {
          message: `cannot move group ${a} under itself or one of its descendants (group ${target})`,
          extensions: { code: 'CONFLICT', field: 'parentId' },
        },
      ]);
    }
    const after = (await ws.ok(TREE, { id: a })).group;
    expect(after).toMatchObject({ name: 'A', depth: 0, parent: null });
    expect(after.descendants).toEqual({ nodes: [{ id: b }, { id: c }], totalCount: 2 });
  });

  it('makes children roots when their parent is deleted, keeping their subtrees', async () => {
    const ws = await h.workspace();
    const top = await ws.group('Top');
    const mid = await ws.group('Mid', top);
    const kid = await ws.group('Kid', mid);
    const grandkid = await ws.group('Grandkid', kid);
    const user = await ws.user();
    await ws.addMember(mid, user);
    const role = await ws.role('r');
    await ws.assignGroupRole(mid, role);

    const res = await ws.ok('mutation($id: ID!) { deleteGroup(id: $id) }', { id: mid });
    expect(res.deleteGroup).toBe(mid);
    expect((await ws.ok(TREE, { id: mid })).group).toBeNull();
    const kidAfter = (await ws.ok(TREE, { id: kid })).group;
    expect(kidAfter).toMatchObject({ depth: 0, parent: null, ancestors: [] });
    expect(kidAfter.descendants).toEqual({ nodes: [{ id: grandkid }], totalCount: 1 });
    const gk = (await ws.ok(TREE, { id: grandkid })).group;
    expect(gk.ancestors).toEqual([{ id: kid }]);
    expect((await ws.ok(TREE, { id: top })).group).toMatchObject({ children: { nodes: [], totalCount: 0 }, descendants: { nodes: [], totalCount: 0 } });
    const u = await ws.ok('query($id: ID!) { user(id: $id) { groups { nodes { id } totalCount } effectiveRoles { role { id } } } }', { id: user });
    expect(u.user).toEqual({ groups: { nodes: [], totalCount: 0 }, effectiveRoles: [] });
  });

  it('enforces the maximum depth on create and on move with BAD_USER_INPUT naming the limit', async () => {
    const ws = await h.workspace();
    let parent: string | null = null;
    const chain: string[] = [];
    for (let i = 0; i < MAX_GROUP_DEPTH; i += 1) {
      parent = await ws.group(`L${i}`, parent);
      chain.push(parent);
    }
    const tooDeep = await ws.gql('mutation($p: ID) { createGroup(input: { name: "deep", parentId: $p }) { id } }', { p: parent });
    const refusal = (depth: number) => ({
      message: `groups can be nested at most ${MAX_GROUP_DEPTH} levels deep (MAX_GROUP_DEPTH=${MAX_GROUP_DEPTH}); this change would make ${depth}`,
      extensions: { code: 'BAD_USER_INPUT', field: 'parentId', maxDepth: MAX_GROUP_DEPTH },
    });
    expect(refusals(tooDeep.body)).toEqual([refusal(MAX_GROUP_DEPTH + 1)]);
    expect((await ws.ok(TREE, { id: parent })).group.children).toEqual({ nodes: [], totalCount: 0 });

    const other = await ws.group('Other');
    const otherChild = await ws.group('OtherChild', other);
    // Under the second-deepest group of the chain, OtherChild would be one level too deep.
    const moveTooDeep = await ws.gql('mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p }) { id } }', {
      id: other,
      p: chain[MAX_GROUP_DEPTH - 2],
    });
    expect(refusals(moveTooDeep.body)).toEqual([refusal(MAX_GROUP_DEPTH + 1)]);
    expect((await ws.ok(TREE, { id: other })).group).toMatchObject({ depth: 0, parent: null });
    expect((await ws.ok(TREE, { id: otherChild })).group).toMatchObject({ depth: 1, parent: { id: other } });
    expect((await ws.ok(TREE, { id: chain[MAX_GROUP_DEPTH - 2] })).group.children).toEqual({ nodes: [{ id: chain[MAX_GROUP_DEPTH - 1] }], totalCount: 1 });
    expect((await ws.ok(TREE, { id: chain[0] })).group.descendants.totalCount).toBe(MAX_GROUP_DEPTH - 1);
  });
});
