// GraphQL's user and role writes (updateUser, deleteUser, updateRole, deleteRole) and the externalIds
// SCIM sets, over real HTTP on both backends: each write with its scope and audit event, its
// CONFLICT and NOT_FOUND, and deactivation through GraphQL being the very write SCIM makes.
import { type Workspace, codes, eachBackend } from './support/harness';
import { AUDIT, GROUP_SCHEMA, Scim, USER_GQL, USER_SCHEMA, changesOf, connectScim, created, expectScimError, ok, patchOp } from './support/scim';

const UPDATE_USER = 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id name email userName externalId active } }';
const DELETE_USER = 'mutation($id: ID!) { deleteUser(id: $id) }';
const UPDATE_ROLE = 'mutation($id: ID!, $input: UpdateRoleInput!) { updateRole(id: $id, input: $input) { id name description } }';
const DELETE_ROLE = 'mutation($id: ID!) { deleteRole(id: $id) }';

async function audit(ws: Workspace, filter: Record<string, unknown>): Promise<any[]> {
  return (await ws.ok(AUDIT, { filter })).auditEvents.nodes;
}

/** A user provisioned by SCIM, who is a member of `groupId` and, through it, holds `roleId`. */
async function scimMember(scim: Scim, ws: Workspace, userName: string, groupId: string): Promise<string> {
  const user = await created(
    scim.post('/Users', { schemas: [USER_SCHEMA], userName, externalId: `ext-${userName}`, emails: [{ value: `${userName}@example.com`, type: 'work', primary: true }] }),
  );
  await ws.addMember(groupId, user.id);
  return user.id;
}

const memberCount = async (ws: Workspace, groupId: string): Promise<number> =>
  (await ws.ok('query($id: ID!) { group(id: $id) { memberCount } }', { id: groupId })).group.memberCount;

eachBackend('GraphQL user and role writes', (h) => {
  describe('updateUser', () => {
    it('changes name, email, userName and externalId, recording USER_UPDATED with the fields that changed', async () => {
      const ws = await h.workspace();
      const id = await ws.user('Ann', 'ann@example.com');
      const input = { name: 'Ann Lee', email: 'ann.lee@example.com', userName: 'ann.lee', externalId: 'idp-7' };
      const updated = (await ws.ok(UPDATE_USER, { id, input })).updateUser;
      expect(updated).toEqual({ id, ...input, active: true });
      expect((await ws.ok(USER_GQL, { id })).user).toMatchObject(input);
      const [event] = await audit(ws, { action: 'USER_UPDATED' });
      expect(event.target).toEqual({ type: 'User', id });
      expect(changesOf(event)).toEqual({
        name: ['Ann', 'Ann Lee'],
        userName: ['ann@example.com', 'ann.lee'],
        externalId: [null, 'idp-7'],
        emails: [[{ value: 'ann@example.com', type: 'work', primary: true }], [{ value: 'ann.lee@example.com', type: 'work', primary: true }]],
      });
    });

    it('leaves absent fields as they are, clears name, email and externalId given as null, and records nothing when nothing changes', async () => {
      const ws = await h.workspace();
      const id = await ws.user('Bo', 'bo@example.com');
      await ws.ok(UPDATE_USER, { id, input: { externalId: 'x1' } });
      expect((await ws.ok(UPDATE_USER, { id, input: {} })).updateUser).toEqual({
        id, name: 'Bo', email: 'bo@example.com', userName: 'bo@example.com', externalId: 'x1', active: true,
      });
      expect((await ws.ok(UPDATE_USER, { id, input: { name: null, email: null, externalId: null } })).updateUser).toEqual({
        id, name: null, email: null, userName: 'bo@example.com', externalId: null, active: true,
      });
      await ws.ok(UPDATE_USER, { id, input: { name: null } });
      expect((await audit(ws, { action: 'USER_UPDATED' })).length).toBe(2);
    });

    it('replaces only the main address of a user with several emails, keeping its type and the others', async () => {
      const { ws, scim } = await connectScim(h);
      const emails = [{ value: 'home@example.com', type: 'home', primary: false }, { value: 'work@example.com', type: 'work', primary: true }];
      const user = await created(scim.post('/Users', { schemas: [USER_SCHEMA], userName: 'multi', emails }));
      await ws.ok(UPDATE_USER, { id: user.id, input: { email: 'New@Example.com' } });
      expect((await ok(scim.get(`/Users/${user.id}`))).emails).toEqual([
        { value: 'new@example.com', type: 'work', primary: true },
        { value: 'home@example.com', type: 'home' },
      ]);
    });

    it('refuses a null userName or active with BAD_USER_INPUT naming the field, changing nothing', async () => {
      const ws = await h.workspace();
      const id = await ws.user('Cy');
      for (const [field, input] of [['userName', { userName: null }], ['active', { active: null }], ['name', { name: 'a\u202eb' }]] as const) {
        const res = await ws.gql(UPDATE_USER, { id, input });
        expect(codes(res.body)).toEqual(['BAD_USER_INPUT']);
        expect(res.body.errors![0].extensions.field).toBe(field);
      }
      expect(await audit(ws, { action: 'USER_UPDATED' })).toEqual([]);
    });

    it("answers CONFLICT for another user's email or userName (ignoring case), as SCIM's uniqueness", async () => {
      const { ws, scim } = await connectScim(h);
      const taken = await created(scim.post('/Users', { schemas: [USER_SCHEMA], userName: 'Taken', emails: [{ value: 'taken@example.com', primary: true }] }));
      const id = await ws.user('Dee', 'dee@example.com');
      const byEmail = await ws.gql(UPDATE_USER, { id, input: { email: 'TAKEN@example.com' } });
      expect(codes(byEmail.body)).toEqual(['CONFLICT']);
      expect(byEmail.body.errors![0].extensions.field).toBe('email');
      const byUserName = await ws.gql(UPDATE_USER, { id, input: { userName: 'taken' } });
      expect(codes(byUserName.body)).toEqual(['CONFLICT']);
      expect(byUserName.body.errors![0].extensions.field).toBe('userName');
      // The same conflict through SCIM, for comparison: the same rule.
      expectScimError(await scim.patch(`/Users/${id}`, patchOp({ op: 'replace', path: 'userName', value: 'TAKEN' })), 409, 'uniqueness');
      expect((await ws.ok(USER_GQL, { id })).user).toMatchObject({ email: 'dee@example.com', userName: 'dee@example.com' });
      expect(taken.userName).toBe('Taken');
    });
  });

  describe('deactivation', () => {
    it('through GraphQL is what SCIM active:false is: the same user, trail, version and memberships', async () => {
      const { ws, scim } = await connectScim(h);
      const group = await ws.group('Team');
      const role = await ws.role('dev');
      await ws.assignGroupRole(group, role);
      const viaGraphql = await scimMember(scim, ws, 'gql', group);
      const viaScim = await scimMember(scim, ws, 'scim', group);
      expect(await memberCount(ws, group)).toBe(2);

      expect((await ws.ok(UPDATE_USER, { id: viaGraphql, input: { active: false } })).updateUser.active).toBe(false);
      await ok(scim.patch(`/Users/${viaScim}`, patchOp({ op: 'replace', path: 'active', value: false })));

      const [a, b] = [await ok(scim.get(`/Users/${viaGraphql}`)), await ok(scim.get(`/Users/${viaScim}`))];
      expect(a.active).toBe(false);
      const strip = (u: any) => ({ ...u, id: null, userName: null, externalId: null, emails: null, meta: { ...u.meta, location: null, created: null, lastModified: null } });
      expect(strip(a)).toEqual(strip(b));
      const [ga, gb] = [(await ws.ok(USER_GQL, { id: viaGraphql })).user, (await ws.ok(USER_GQL, { id: viaScim })).user];
      expect([ga.effectiveRoles, gb.effectiveRoles]).toEqual([[], []]);
      expect(await memberCount(ws, group)).toBe(0);
      const rows = await h.db.prisma.groupMember.count({ where: { groupId: Number(group) } });
      expect(rows).toBe(2);
      const events = await audit(ws, { action: 'USER_UPDATED' });
      expect(events.map((e) => [e.target.id, changesOf(e)])).toEqual([
        [viaGraphql, { active: [true, false] }],
        [viaScim, { active: [true, false] }],
      ]);
    });

    it('reactivates through GraphQL a user SCIM deactivated, and the other way round', async () => {
      const { ws, scim } = await connectScim(h);
      const group = await ws.group('Team');
      const id = await scimMember(scim, ws, 'flip', group);
      await ok(scim.patch(`/Users/${id}`, patchOp({ op: 'replace', path: 'active', value: false })));
      expect(await memberCount(ws, group)).toBe(0);
      await ws.ok(UPDATE_USER, { id, input: { active: true } });
      expect((await ok(scim.get(`/Users/${id}`))).active).toBe(true);
      expect(await memberCount(ws, group)).toBe(1);
      await ws.ok(UPDATE_USER, { id, input: { active: false } });
      expect((await ok(scim.get(`/Users/${id}`))).active).toBe(false);
      await ok(scim.patch(`/Users/${id}`, patchOp({ op: 'replace', path: 'active', value: true })));
      expect((await ws.ok(USER_GQL, { id })).user.active).toBe(true);
    });
  });

  describe('deleteUser', () => {
    it('removes the user with their memberships and role assignments in one write, recording USER_DELETED and MEMBER_REMOVED', async () => {
      const { ws, scim } = await connectScim(h);
      const [g1, g2] = [await ws.group('One'), await ws.group('Two')];
      const role = await ws.role('ops');
      const id = await scimMember(scim, ws, 'gone', g1);
      await ws.addMember(g2, id);
      await ws.ok('mutation($u: ID!, $r: ID!) { assignUserRole(userId: $u, roleId: $r) { id } }', { u: id, r: role });
      expect((await ws.ok(DELETE_USER, { id })).deleteUser).toBe(id);
      expect([await memberCount(ws, g1), await memberCount(ws, g2)]).toEqual([0, 0]);
      expect(await h.db.prisma.groupMember.count({ where: { userId: Number(id) } })).toBe(0);
      expect(await h.db.prisma.userRole.count({ where: { userId: Number(id) } })).toBe(0);
      expect((await ws.ok(USER_GQL, { id })).user).toBeNull();
      expectScimError(await scim.get(`/Users/${id}`), 404);
      const events = await audit(ws, {});
      const tail = events.slice(-3).map((e) => [e.action, e.target.id]);
      expect(tail).toEqual([['USER_DELETED', id], ['MEMBER_REMOVED', g1], ['MEMBER_REMOVED', g2]]);
      expect(changesOf(events.at(-3))).toEqual({ userName: ['gone', null], email: ['gone@example.com', null] });
    });
  });

  describe('updateRole and deleteRole', () => {
    it('renames and re-describes a role, recording ROLE_UPDATED; a null description clears it; no change records nothing', async () => {
      const ws = await h.workspace();
      const id = await ws.role('editor');
      expect((await ws.ok(UPDATE_ROLE, { id, input: { name: 'writer', description: 'writes' } })).updateRole).toEqual({ id, name: 'writer', description: 'writes' });
      expect((await ws.ok(UPDATE_ROLE, { id, input: { description: null } })).updateRole).toEqual({ id, name: 'writer', description: null });
      await ws.ok(UPDATE_ROLE, { id, input: { name: ' writer ' } });
      const events = await audit(ws, { action: 'ROLE_UPDATED' });
      expect(events.map((e) => [e.target, changesOf(e)])).toEqual([
        [{ type: 'Role', id }, { name: ['editor', 'writer'], description: [null, 'writes'] }],
        [{ type: 'Role', id }, { description: ['writes', null] }],
      ]);
    });

    it('answers CONFLICT for a name another role has and BAD_USER_INPUT for a null name, changing nothing', async () => {
      const ws = await h.workspace();
      await ws.role('taken');
      const id = await ws.role('mine');
      const clash = await ws.gql(UPDATE_ROLE, { id, input: { name: 'taken' } });
      expect(codes(clash.body)).toEqual(['CONFLICT']);
      expect(clash.body.errors![0].extensions.field).toBe('name');
      expect(codes((await ws.gql(UPDATE_ROLE, { id, input: { name: null } })).body)).toEqual(['BAD_USER_INPUT']);
      expect((await ws.ok('query($id: ID!) { role(id: $id) { name } }', { id })).role.name).toBe('mine');
      expect(await audit(ws, { action: 'ROLE_UPDATED' })).toEqual([]);
    });

    it('deletes a role with every assignment of it, so no effective roles include it, recording each unassignment', async () => {
      const ws = await h.workspace();
      const top = await ws.group('Top');
      const leaf = await ws.group('Leaf', top);
      const [doomed, kept] = [await ws.role('doomed'), await ws.role('kept')];
      const [member, direct] = [await ws.user('Member'), await ws.user('Direct')];
      await ws.addMember(leaf, member);
      await ws.assignGroupRole(top, doomed);
      await ws.assignGroupRole(top, kept);
      await ws.ok('mutation($u: ID!, $r: ID!) { assignUserRole(userId: $u, roleId: $r) { id } }', { u: direct, r: doomed });
      const effective = 'query($u: ID!, $d: ID!, $g: ID!) { member: user(id: $u) { effectiveRoles { role { name } } } direct: user(id: $d) { roles { name } effectiveRoles { role { name } } } group(id: $g) { effectiveRoles { name } } }';
      const before = await ws.ok(effective, { u: member, d: direct, g: leaf });
      expect(before.member.effectiveRoles.map((r: any) => r.role.name)).toEqual(['doomed', 'kept']);

      expect((await ws.ok(DELETE_ROLE, { id: doomed })).deleteRole).toBe(doomed);
      expect(await ws.ok(effective, { u: member, d: direct, g: leaf })).toEqual({
        member: { effectiveRoles: [{ role: { name: 'kept' } }] },
        direct: { roles: [], effectiveRoles: [] },
        group: { effectiveRoles: [{ name: 'kept' }] },
      });
      expect((await ws.ok('query($id: ID!) { role(id: $id) { id } }', { id: doomed })).role).toBeNull();
      expect(await h.db.prisma.groupRole.count({ where: { roleId: Number(doomed) } })).toBe(0);
      const tail = (await audit(ws, {})).slice(-3);
      expect(tail.map((e) => [e.action, e.target, changesOf(e)])).toEqual([
        ['ROLE_DELETED', { type: 'Role', id: doomed }, { name: ['doomed', null], description: [null, null] }],
        ['GROUP_ROLE_UNASSIGNED', { type: 'Group', id: top }, { roleId: [Number(doomed), null] }],
        ['USER_ROLE_UNASSIGNED', { type: 'User', id: direct }, { roleId: [Number(doomed), null] }],
      ]);
      // The group's unassignment is in its subtree's trail, as any unassignment is.
      const bySubtree = await audit(ws, { group: top, includeSubtree: true, action: 'GROUP_ROLE_UNASSIGNED' });
      expect(bySubtree.length).toBe(1);
    });

    it('is workspace-wide: a roles:write key that reads one subtree deletes a role assigned outside it', async () => {
      const ws = await h.workspace();
      const [inside, outside] = [await ws.group('Inside'), await ws.group('Outside')];
      const role = await ws.role('shared');
      await ws.assignGroupRole(outside, role);
      const key = await ws.key(['roles:write', `groups:read@${inside}`]);
      expect((await ws.gql(DELETE_ROLE, { id: role }, key)).body.data).toEqual({ deleteRole: role });
      expect(await h.db.prisma.groupRole.count({ where: { groupId: Number(outside) } })).toBe(0);
    });
  });

  describe('not found and scopes', () => {
    it('answers NOT_FOUND for unknown ids and for ids of another workspace', async () => {
      const ws = await h.workspace();
      const other = await h.workspace();
      const [theirUser, theirRole] = [await other.user('Theirs'), await other.role('theirs')];
      for (const [query, variables] of [
        [UPDATE_USER, { id: '999999', input: { name: 'x' } }],
        [UPDATE_USER, { id: theirUser, input: { name: 'x' } }],
        [DELETE_USER, { id: '999999' }],
        [DELETE_USER, { id: theirUser }],
        [UPDATE_ROLE, { id: '999999', input: { name: 'x' } }],
        [UPDATE_ROLE, { id: theirRole, input: { name: 'x' } }],
        [DELETE_ROLE, { id: '999999' }],
        [DELETE_ROLE, { id: theirRole }],
      ] as const) {
        const res = await ws.gql(query, variables);
        expect({ query, codes: codes(res.body) }).toEqual({ query, codes: ['NOT_FOUND'] });
      }
      expect((await other.ok(USER_GQL, { id: theirUser })).user.name).toBe('Theirs');
      expect((await other.ok('query($id: ID!) { role(id: $id) { name } }', { id: theirRole })).role.name).toBe('theirs');
    });

    it('needs users:write for the user writes and roles:write for the role writes: FORBIDDEN without, changing nothing', async () => {
      const ws = await h.workspace();
      const user = await ws.user('Kept');
      const role = await ws.role('kept');
      const readOnly = await ws.key(['users:read', 'roles:read', 'groups:write']);
      const cases = [
        ['updateUser', UPDATE_USER, { id: user, input: { active: false } }, 'users:write'],
        ['deleteUser', DELETE_USER, { id: user }, 'users:write'],
        ['updateRole', UPDATE_ROLE, { id: role, input: { name: 'changed' } }, 'roles:write'],
        ['deleteRole', DELETE_ROLE, { id: role }, 'roles:write'],
      ] as const;
      for (const [field, query, variables, scope] of cases) {
        const res = await ws.gql(query, variables, readOnly);
        expect(res.body.errors).toEqual([expect.objectContaining({ path: [field], extensions: { code: 'FORBIDDEN', requiredScopes: [[scope]] } })]);
      }
      expect((await ws.ok(USER_GQL, { id: user })).user).toMatchObject({ name: 'Kept', active: true });
      expect((await ws.ok('query($id: ID!) { role(id: $id) { name } }', { id: role })).role.name).toBe('kept');
      const writer = await ws.key(['users:write', 'roles:write']);
      for (const [field, query, variables] of cases) {
        const res = await ws.gql(query, variables, writer);
        expect({ field, errors: res.body.errors }).toEqual({ field, errors: undefined });
      }
    });
  });

  describe('externalId', () => {
    it("reads a group's externalId (set by SCIM) with groups:read, and a user's with users:read only", async () => {
      const { ws, scim } = await connectScim(h);
      const group = await created(scim.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Synced', externalId: 'entra-g1' }));
      const user = await created(scim.post('/Users', { schemas: [USER_SCHEMA], userName: 'synced', externalId: 'entra-u1' }));
      const made = await ws.group('Made here');
      const groupsOnly = await ws.key(['groups:read']);
      const q = 'query($g: ID!, $m: ID!) { group(id: $g) { externalId } made: group(id: $m) { externalId } }';
      expect((await ws.gql(q, { g: group.id, m: made }, groupsOnly)).body).toMatchObject({ data: { group: { externalId: 'entra-g1' }, made: { externalId: null } } });
      const userQ = 'query($id: ID!) { user(id: $id) { externalId } }';
      expect((await ws.gql(userQ, { id: user.id }, await ws.key(['users:read']))).body).toMatchObject({ data: { user: { externalId: 'entra-u1' } } });
      const denied = await ws.gql(userQ, { id: user.id }, groupsOnly);
      expect(codes(denied.body)).toEqual(['FORBIDDEN']);
    });
  });
});
