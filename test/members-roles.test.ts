import { codes, eachBackend } from './support/harness';

const ids = (list: { id: string }[]) => list.map((x) => x.id);

eachBackend('members and roles', (h) => {
  it('adds and removes members idempotently', async () => {
    const ws = await h.workspace();
    const g = await ws.group('G');
    const u = await ws.user('Ann');
    const add = 'mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id members { nodes { id name } totalCount } memberCount } }';
    const remove = 'mutation($g: ID!, $u: ID!) { removeGroupMember(groupId: $g, userId: $u) { id memberCount } }';
    expect((await ws.ok(add, { g, u })).addGroupMember.memberCount).toBe(1);
    const again = (await ws.ok(add, { g, u })).addGroupMember;
    expect(again).toEqual({ id: g, members: { nodes: [{ id: u, name: 'Ann' }], totalCount: 1 }, memberCount: 1 });
    expect((await ws.ok(remove, { g, u })).removeGroupMember.memberCount).toBe(0);
    expect((await ws.ok(remove, { g, u })).removeGroupMember.memberCount).toBe(0);
  });

  it('lists inherited members of a group and all its descendants, each once', async () => {
    const ws = await h.workspace();
    const top = await ws.group('Top');
    const mid = await ws.group('Mid', top);
    const leaf = await ws.group('Leaf', mid);
    const [a, b, c] = [await ws.user('a'), await ws.user('b'), await ws.user('c')];
    await ws.addMember(top, a);
    await ws.addMember(mid, b);
    await ws.addMember(leaf, c);
    await ws.addMember(leaf, b);
    const q = `query($id: ID!) { group(id: $id) {
      direct: members { nodes { id } totalCount } all: members(inherited: true) { nodes { id } totalCount }
      directCount: memberCount inheritedCount: memberCount(inherited: true) } }`;
    expect((await ws.ok(q, { id: top })).group).toEqual({
      direct: { nodes: [{ id: a }], totalCount: 1 },
      all: { nodes: [{ id: a }, { id: b }, { id: c }], totalCount: 3 },
      directCount: 1,
      inheritedCount: 3,
    });
    expect((await ws.ok(q, { id: mid })).group).toMatchObject({ all: { nodes: [{ id: b }, { id: c }], totalCount: 2 }, inheritedCount: 2 });
  });

  it('sets the member list exactly and reports what was added and removed', async () => {
    const ws = await h.workspace();
    const g = await ws.group('G');
    const [a, b, c] = [await ws.user('a'), await ws.user('b'), await ws.user('c')];
    await ws.addMember(g, a);
    await ws.addMember(g, b);
    const set = 'mutation($g: ID!, $u: [ID!]!) { setGroupMembers(groupId: $g, userIds: $u) { group { members { nodes { id } } } added { id } removed { id } } }';
    const res = (await ws.ok(set, { g, u: [b, c] })).setGroupMembers;
    expect(res).toEqual({ group: { members: { nodes: [{ id: b }, { id: c }] } }, added: [{ id: c }], removed: [{ id: a }] });
  });

  it('changes nothing when setGroupMembers names an unknown user', async () => {
    const ws = await h.workspace();
    const other = await h.workspace();
    const g = await ws.group('G');
    const [a, b] = [await ws.user('a'), await ws.user('b')];
    const foreign = await other.user('x');
    await ws.addMember(g, a);
    const set = 'mutation($g: ID!, $u: [ID!]!) { setGroupMembers(groupId: $g, userIds: $u) { added { id } } }';
    for (const bad of ['999999', foreign]) {
      const res = await ws.gql(set, { g, u: [b, bad] });
      expect(codes(res.body)).toEqual(['NOT_FOUND']);
      expect(res.body.errors![0].message).toContain(bad);
    }
    const members = (await ws.ok('query($id: ID!) { group(id: $id) { members { nodes { id } totalCount } } }', { id: g })).group.members;
    expect(members).toEqual({ nodes: [{ id: a }], totalCount: 1 });
  });

  it('gives a group the roles of itself and every ancestor', async () => {
    const ws = await h.workspace();
    const top = await ws.group('Top');
    const mid = await ws.group('Mid', top);
    const leaf = await ws.group('Leaf', mid);
    const [r1, r2, r3] = [await ws.role('employee'), await ws.role('dev'), await ws.role('unused')];
    await ws.assignGroupRole(top, r1);
    await ws.assignGroupRole(mid, r2);
    await ws.assignGroupRole(leaf, r2);
    const q = 'query($id: ID!) { group(id: $id) { roles { id } effectiveRoles { id name } } }';
    const g = (await ws.ok(q, { id: leaf })).group;
    expect(g.roles).toEqual([{ id: r2 }]);
    expect(g.effectiveRoles).toEqual([{ id: r1, name: 'employee' }, { id: r2, name: 'dev' }]);
    expect(ids(g.effectiveRoles)).not.toContain(r3);
  });

  it('gives a user direct roles plus the effective roles of their groups, naming every granting group', async () => {
    const ws = await h.workspace();
    const top = await ws.group('Top');
    const mid = await ws.group('Mid', top);
    const side = await ws.group('Side');
    const u = await ws.user('u');
    const [employee, dev, admin] = [await ws.role('employee'), await ws.role('dev'), await ws.role('admin')];
    await ws.assignGroupRole(top, employee);
    await ws.assignGroupRole(mid, dev);
    await ws.assignGroupRole(side, dev);
    await ws.addMember(mid, u);
    await ws.addMember(side, u);
    await ws.ok('mutation($u: ID!, $r: ID!) { assignUserRole(userId: $u, roleId: $r) { id } }', { u, r: admin });
    await ws.ok('mutation($u: ID!, $r: ID!) { assignUserRole(userId: $u, roleId: $r) { id } }', { u, r: dev });
    const q = 'query($id: ID!) { user(id: $id) { roles { id } effectiveRoles { role { id } direct via { id } } } }';
    const user = (await ws.ok(q, { id: u })).user;
    expect(user.roles).toEqual([{ id: dev }, { id: admin }].sort((x, y) => Number(x.id) - Number(y.id)));
    const byRole = Object.fromEntries(user.effectiveRoles.map((e: any) => [e.role.id, { direct: e.direct, via: ids(e.via) }]));
    expect(byRole).toEqual({
      [employee]: { direct: false, via: [top] },
      [dev]: { direct: true, via: [mid, side] },
      [admin]: { direct: true, via: [] },
    });
  });

  it('shows every change to the very next request', async () => {
    const ws = await h.workspace();
    const parent = await ws.group('Parent');
    const child = await ws.group('Child');
    const u = await ws.user();
    const role = await ws.role('r');
    await ws.assignGroupRole(parent, role);
    await ws.addMember(child, u);
    const q = 'query($id: ID!) { user(id: $id) { effectiveRoles { role { id } } } }';
    expect((await ws.ok(q, { id: u })).user.effectiveRoles).toEqual([]);
    await ws.ok('mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p }) { id } }', { id: child, p: parent });
    expect((await ws.ok(q, { id: u })).user.effectiveRoles).toEqual([{ role: { id: role } }]);
    await ws.ok('mutation($g: ID!, $r: ID!) { unassignGroupRole(groupId: $g, roleId: $r) { id } }', { g: parent, r: role });
    expect((await ws.ok(q, { id: u })).user.effectiveRoles).toEqual([]);
  });

  it('rejects duplicate role names and user emails with CONFLICT', async () => {
    const ws = await h.workspace();
    await ws.role('same');
    const dup = await ws.gql('mutation { createRole(input: { name: "same" }) { id } }');
    expect(codes(dup.body)).toEqual(['CONFLICT']);
    await ws.user('x', 'dup@example.com');
    const dupUser = await ws.gql('mutation { createUser(input: { email: "DUP@example.com" }) { id } }');
    expect(codes(dupUser.body)).toEqual(['CONFLICT']);
    expect(dupUser.body.errors![0].extensions.field).toBe('email');
  });
});
