// Microsoft Entra ID's provisioning conversation with /t/{slug}/scim/v2, request by request, as
// Microsoft's "Develop and plan provisioning for a SCIM endpoint" tutorial and its "Known issues
// with SCIM 2.0 protocol compliance" page show it: Test connection with a random userName, users
// created with the enterprise extension and `roles: []`, found by `filter=userName eq`, PATCHed
// with "Replace" (capitalised), string booleans ("False") and value objects without a path; groups
// created with `members: []`, found with `excludedAttributes=members`, PATCHed with "Add"/"Remove"
// member lists and renamed with {id, displayName}; users deleted. Each answer is checked exactly,
// and its effect through the rest of the service (GraphQL).
import { randomUUID } from 'node:crypto';
import { eachBackend } from '../support/harness';
import {
  ENTERPRISE_USER_SCHEMA,
  GROUP_SCHEMA,
  ID,
  LIST_SCHEMA,
  SCIM_CONTENT_TYPE,
  Scim,
  TIMESTAMP,
  TREE_SCHEMA,
  USER_GQL,
  USER_SCHEMA,
  VERSION,
  byNumber,
  connectScim,
  created,
  expectNoContent,
  expectResource,
  expectScimError,
  filter,
  memberValues,
  patchOp,
  restrictedSubtree,
  sortedIds,
} from '../support/scim';

/** The schema URN Entra puts beside the core Group schema when it creates a group. */
const AD_GROUP_SCHEMA = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';

/** Entra's create-user request, as in Microsoft's example (the enterprise extension included). */
function entraUser(tag = randomUUID()) {
  return {
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    externalId: randomUUID(),
    userName: `Test_User_${tag}`,
    active: true as boolean | string,
    emails: [{ primary: true, type: 'work', value: `test_user_${tag}@testuser.com` }],
    meta: { resourceType: 'User' },
    name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
    roles: [],
    title: 'Engineer',
    phoneNumbers: [{ type: 'work', value: '+1 555 0100' }],
    addresses: [{ type: 'work', streetAddress: '1 Main St', locality: 'Redmond', country: 'US' }],
    [ENTERPRISE_USER_SCHEMA]: {
      employeeNumber: '701984',
      department: 'Tour Operations',
      costCenter: '4130',
      organization: 'Universal Studios',
      manager: { value: '26118915-6090-4610-87e4-49d8ca9f808d' },
    },
  };
}

/** Entra's create-group request (with the empty member list it sends). */
function entraGroup(displayName = `Group ${randomUUID()}`) {
  return {
    schemas: [GROUP_SCHEMA, AD_GROUP_SCHEMA],
    externalId: randomUUID(),
    displayName,
    members: [],
    meta: { resourceType: 'Group' },
  };
}

/** POSTs Entra's user; fails the test unless it answers 201. */
const provisionUser = (scim: Scim, body: object = entraUser()): Promise<any> => created(scim.post('/Users', body));

/** POSTs Entra's group; fails the test unless it answers 201. */
const provisionGroup = (scim: Scim, body: object = entraGroup()): Promise<any> => created(scim.post('/Groups', body));

const GROUP_GQL = `query($id: ID!) { group(id: $id) {
  id name parent { id }
  members { nodes { id } } memberCount
  inherited: members(inherited: true) { nodes { id } } inheritedCount: memberCount(inherited: true) } }`;

eachBackend('SCIM: Microsoft Entra ID provisioning', (h) => {
  describe('Test connection', () => {
    it('answers Test connection (a random userName) with an empty list', async () => {
      const { scim } = await connectScim(h);
      const res = await scim.get(`/Users?${filter(`userName eq "${randomUUID()}"`)}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE);
      expect(res.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
    });

    it('understands the query as Entra encodes it (spaces as +, quotes and @ escaped)', async () => {
      const { scim } = await connectScim(h);
      const user = await provisionUser(scim, { ...entraUser(), userName: 'dale.mohr@romaguera.uk' });
      const res = await scim.get('/Users?filter=userName+eq+%22dale.mohr%40romaguera.uk%22');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ totalResults: 1, itemsPerPage: 1, startIndex: 1 });
      expect(res.body.Resources.map((u: any) => u.id)).toEqual([user.id]);
    });

    it('fails Test connection with a wrong secret token: 401 SCIM error', async () => {
      const { scim } = await connectScim(h);
      for (const key of ['not-a-key', null]) {
        const res = await scim.as(key).get(`/Users?${filter(`userName eq "${randomUUID()}"`)}`);
        expectScimError(res, 401);
      }
    });
  });

  describe('users', () => {
    it('creates the user of Microsoft’s example: 201 with Location and ETag, unstored attributes and the enterprise extension ignored', async () => {
      const { ws, scim } = await connectScim(h);
      const request = entraUser();
      const res = await scim.post('/Users', request);
      expectResource(res, 201);
      const id = res.body.id;
      expect(id).toMatch(ID);
      expect(res.headers.get('location')).toBe(`${scim.base}/Users/${id}`);
      expect(res.body).toEqual({
        schemas: [USER_SCHEMA],
        id,
        externalId: request.externalId,
        userName: request.userName,
        name: { givenName: 'givenName', familyName: 'familyName' },
        displayName: 'givenName familyName',
        emails: [{ value: request.emails[0].value, type: 'work', primary: true }],
        active: true,
        meta: {
          resourceType: 'User',
          created: expect.stringMatching(TIMESTAMP),
          lastModified: expect.stringMatching(TIMESTAMP),
          location: `${scim.base}/Users/${id}`,
          version: expect.stringMatching(VERSION),
        },
      });
      const data = await ws.ok(USER_GQL, { id });
      expect(data.user).toEqual({
        id,
        name: 'givenName familyName',
        email: request.emails[0].value,
        userName: request.userName,
        externalId: request.externalId,
        active: true,
        effectiveRoles: [],
      });
    });

    it('accepts active as the string "True" and answers a boolean', async () => {
      const { ws, scim } = await connectScim(h);
      const res = await scim.post('/Users', { ...entraUser(), active: 'True' });
      expectResource(res, 201);
      expect(res.body.active).toBe(true);
      expect((await ws.ok(USER_GQL, { id: res.body.id })).user.active).toBe(true);
    });

    it('keeps the userName as given and the GraphQL email lower-cased (Entra sends mixed case)', async () => {
      const { ws, scim } = await connectScim(h);
      const tag = randomUUID();
      const request = { ...entraUser(tag), emails: [{ primary: true, type: 'work', value: `Test_User_${tag}@TestUser.com` }] };
      const user = await provisionUser(scim, request);
      expect(user.userName).toBe(`Test_User_${tag}`);
      expect(user.emails).toHaveLength(1);
      expect(user.emails[0].value.toLowerCase()).toBe(`test_user_${tag}@testuser.com`);
      const data = await ws.ok(USER_GQL, { id: user.id });
      expect(data.user).toMatchObject({ email: `test_user_${tag}@testuser.com`, userName: `Test_User_${tag}` });
    });

    it('finds the user with filter=userName eq "...", case-insensitively, integers in the list', async () => {
      const { scim } = await connectScim(h);
      const other = await provisionUser(scim);
      const user = await provisionUser(scim);
      for (const userName of [user.userName, user.userName.toUpperCase(), user.userName.toLowerCase()]) {
        const res = await scim.get(`/Users?${filter(`userName eq "${userName}"`)}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE);
        expect(res.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 1, itemsPerPage: 1, startIndex: 1, Resources: [user] });
      }
      expect(other.id).not.toBe(user.id);
    });

    it('reads the user by id with its ETag', async () => {
      const { scim } = await connectScim(h);
      const user = await provisionUser(scim);
      const res = await scim.get(`/Users/${user.id}`);
      expectResource(res);
      expect(res.body).toEqual(user);
    });

    it('shows a disabled user as active false in a filtered GET', async () => {
      const { scim } = await connectScim(h);
      const user = await provisionUser(scim, { ...entraUser(), active: false });
      expect(user.active).toBe(false);
      const res = await scim.get(`/Users?${filter(`userName eq "${user.userName}"`)}`);
      expect(res.body.Resources).toEqual([user]);
      expect(res.body.Resources[0].active).toBe(false);
    });

    it('answers a second user with the same userName in another case with 409 uniqueness, writing nothing', async () => {
      const { scim } = await connectScim(h);
      const user = await provisionUser(scim);
      const res = await scim.post('/Users', { ...entraUser(), userName: user.userName.toUpperCase() });
      expectScimError(res, 409, 'uniqueness');
      const list = await scim.get(`/Users?${filter(`userName eq "${user.userName}"`)}`);
      expect(list.body.totalResults).toBe(1);
    });

    it('updates multi-valued and single-valued attributes with "op":"Replace"', async () => {
      const { ws, scim } = await connectScim(h);
      const user = await provisionUser(scim);
      const multi = await scim.patch(
        `/Users/${user.id}`,
        patchOp(
          { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedemail@microsoft.com' },
          { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
        ),
      );
      expectResource(multi);
      expect(multi.body).toMatchObject({
        id: user.id,
        userName: user.userName,
        name: { givenName: 'givenName', familyName: 'updatedFamilyName' },
        emails: [{ value: 'updatedemail@microsoft.com', type: 'work', primary: true }],
        active: true,
      });
      expect(multi.body.meta.version).not.toBe(user.meta.version);
      const newName = `${randomUUID()}@testuser.com`;
      const single = await scim.patch(`/Users/${user.id}`, patchOp({ op: 'Replace', path: 'userName', value: newName }));
      expectResource(single);
      expect(single.body.userName).toBe(newName);
      expect((await scim.get(`/Users/${user.id}`)).body).toEqual(single.body);
      const data = await ws.ok(USER_GQL, { id: user.id });
      expect(data.user).toMatchObject({ userName: newName, email: 'updatedemail@microsoft.com' });
      const found = await scim.get(`/Users?${filter(`userName eq "${newName}"`)}`);
      expect(found.body.Resources.map((u: any) => u.id)).toEqual([user.id]);
      const old = await scim.get(`/Users?${filter(`userName eq "${user.userName}"`)}`);
      expect(old.body.totalResults).toBe(0);
    });

    it('sets attributes the user did not have with "op":"Add" and a path', async () => {
      const { ws, scim } = await connectScim(h);
      const { externalId: _externalId, emails: _emails, ...bare } = entraUser();
      const user = await provisionUser(scim, bare);
      expect(user.externalId ?? null).toBeNull();
      const externalId = randomUUID();
      const res = await scim.patch(
        `/Users/${user.id}`,
        patchOp(
          { op: 'Add', path: 'externalId', value: externalId },
          { op: 'Add', path: 'emails[type eq "work"].value', value: 'added@testuser.com' },
        ),
      );
      expectResource(res);
      expect(res.body).toMatchObject({ externalId, emails: [{ value: 'added@testuser.com', type: 'work' }] });
      expect((await ws.ok(USER_GQL, { id: user.id })).user).toMatchObject({ externalId, email: 'added@testuser.com' });
    });

    it('disables the user with "value":"False" (no roles, out of Group.members) and enables it with "True"', async () => {
      const { ws, scim } = await connectScim(h);
      const user = await provisionUser(scim);
      const stays = await provisionUser(scim);
      const parent = await ws.group('Parent');
      const child = await ws.group('Child', parent);
      const role = await ws.role('Reader');
      await ws.assignGroupRole(parent, role);
      await ws.addMember(child, user.id);
      await ws.addMember(child, stays.id);
      expect((await ws.ok(USER_GQL, { id: user.id })).user.effectiveRoles).toEqual([{ role: { name: 'Reader' } }]);

      const off = await scim.patch(`/Users/${user.id}`, patchOp({ op: 'Replace', path: 'active', value: 'False' }));
      expectResource(off);
      expect(off.body.active).toBe(false);
      expect((await scim.get(`/Users/${user.id}`)).body.active).toBe(false);
      expect((await ws.ok(USER_GQL, { id: user.id })).user).toMatchObject({ active: false, effectiveRoles: [] });
      expect((await ws.ok(GROUP_GQL, { id: child })).group).toMatchObject({
        members: { nodes: [{ id: stays.id }] },
        memberCount: 1,
        inherited: { nodes: [{ id: stays.id }] },
        inheritedCount: 1,
      });
      expect((await ws.ok(GROUP_GQL, { id: parent })).group).toMatchObject({ inherited: { nodes: [{ id: stays.id }] }, inheritedCount: 1 });
      // SCIM still lists the disabled member
      expect(memberValues((await scim.get(`/Groups/${child}`)).body)).toEqual([user.id, stays.id].sort(byNumber));

      const on = await scim.patch(`/Users/${user.id}`, patchOp({ op: 'Replace', path: 'active', value: 'True' }));
      expectResource(on);
      expect(on.body.active).toBe(true);
      expect((await ws.ok(USER_GQL, { id: user.id })).user).toMatchObject({ active: true, effectiveRoles: [{ role: { name: 'Reader' } }] });
      const group = (await ws.ok(GROUP_GQL, { id: child })).group;
      expect({ members: sortedIds(group.members.nodes), count: group.memberCount }).toEqual({ members: [user.id, stays.id].sort(byNumber), count: 2 });
      expect((await ws.ok(GROUP_GQL, { id: parent })).group.inheritedCount).toBe(2);
    });

    it('applies a value object without a path (the compliant form: dotted and nested names)', async () => {
      const { ws, scim } = await connectScim(h);
      const user = await provisionUser(scim);
      const externalId = randomUUID();
      const res = await scim.patch(
        `/Users/${user.id}`,
        patchOp({ op: 'replace', value: { active: false, 'name.givenName': 'Barbara', displayName: 'Babs Jensen', externalId } }),
      );
      expectResource(res);
      expect(res.body).toMatchObject({
        active: false,
        name: { givenName: 'Barbara', familyName: 'familyName' },
        displayName: 'Babs Jensen',
        externalId,
      });
      expect((await ws.ok(USER_GQL, { id: user.id })).user).toMatchObject({ name: 'Babs Jensen', externalId, active: false });
    });

    it('replaces with a nested value object only the sub-attributes it names (RFC 7644 §3.5.2.3)', async () => {
      const { ws, scim } = await connectScim(h);
      const user = await provisionUser(scim, { ...entraUser(), active: false, name: { givenName: 'Barbara', familyName: 'familyName' }, displayName: 'Babs Jensen' });
      const nested = await scim.patch(`/Users/${user.id}`, patchOp({ op: 'Replace', value: { name: { familyName: 'Jensen' }, active: 'True' } }));
      expectResource(nested);
      expect(nested.body).toMatchObject({ active: true, name: { givenName: 'Barbara', familyName: 'Jensen' }, displayName: 'Babs Jensen' });
      expect((await scim.get(`/Users/${user.id}`)).body.name).toEqual({ givenName: 'Barbara', familyName: 'Jensen' });
      expect((await ws.ok(USER_GQL, { id: user.id })).user).toMatchObject({ name: 'Babs Jensen', active: true });
    });

    it('deletes the user: 204, then 404, gone from its groups and from the service', async () => {
      const { ws, scim } = await connectScim(h);
      const user = await provisionUser(scim);
      const group = await provisionGroup(scim, { ...entraGroup(), members: [{ value: user.id }] });
      expect(memberValues(group)).toEqual([user.id]);
      expectNoContent(await scim.delete(`/Users/${user.id}`));
      expectScimError(await scim.get(`/Users/${user.id}`), 404);
      expectScimError(await scim.delete(`/Users/${user.id}`), 404);
      const list = await scim.get(`/Users?${filter(`userName eq "${user.userName}"`)}`);
      expect(list.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
      expect(memberValues((await scim.get(`/Groups/${group.id}`)).body)).toEqual([]);
      expect((await ws.ok(USER_GQL, { id: user.id })).user).toBeNull();
      expect((await ws.ok(GROUP_GQL, { id: group.id })).group).toMatchObject({ members: { nodes: [] }, memberCount: 0 });
    });
  });

  describe('groups', () => {
    it('creates a group with members: [] as a root: 201 with Location and ETag, the AD schema ignored', async () => {
      const { ws, scim } = await connectScim(h);
      const request = entraGroup('Sales');
      const res = await scim.post('/Groups', request);
      expectResource(res, 201);
      const id = res.body.id;
      expect(id).toMatch(ID);
      expect(res.headers.get('location')).toBe(`${scim.base}/Groups/${id}`);
      const { members, ...rest } = res.body;
      expect(members ?? []).toEqual([]);
      expect(rest).toEqual({
        schemas: [GROUP_SCHEMA, TREE_SCHEMA],
        id,
        externalId: request.externalId,
        displayName: 'Sales',
        [TREE_SCHEMA]: { parentId: null, ancestorIds: [] },
        meta: {
          resourceType: 'Group',
          created: expect.stringMatching(TIMESTAMP),
          lastModified: expect.stringMatching(TIMESTAMP),
          location: `${scim.base}/Groups/${id}`,
          version: expect.stringMatching(VERSION),
        },
      });
      expect((await ws.ok(GROUP_GQL, { id })).group).toEqual({ id, name: 'Sales', parent: null, members: { nodes: [] }, memberCount: 0, inherited: { nodes: [] }, inheritedCount: 0 });
    });

    it('finds the group with excludedAttributes=members&filter=displayName eq "..."', async () => {
      const { ws, scim } = await connectScim(h);
      const user = await provisionUser(scim);
      await provisionGroup(scim, entraGroup('Other'));
      const group = await provisionGroup(scim, { ...entraGroup('Marketing'), members: [{ value: user.id }] });
      const res = await scim.get(`/Groups?excludedAttributes=members&${filter('displayName eq "Marketing"')}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE);
      const { members, ...withoutMembers } = group;
      expect(members).toEqual([{ value: user.id, display: user.displayName, type: 'User', $ref: `${scim.base}/Users/${user.id}` }]);
      expect(res.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 1, itemsPerPage: 1, startIndex: 1, Resources: [withoutMembers] });
      const none = await scim.get(`/Groups?excludedAttributes=members&${filter(`displayName eq "${randomUUID()}"`)}`);
      expect(none.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
      expect((await ws.ok(GROUP_GQL, { id: group.id })).group.members.nodes).toEqual([{ id: user.id }]);
    });

    it('adds members with "op":"Add" (204), a present member again without error', async () => {
      const { ws, scim } = await connectScim(h);
      const [alice, bob] = [await provisionUser(scim), await provisionUser(scim)];
      const group = await provisionGroup(scim);
      const add = (value: string) => patchOp({ op: 'Add', path: 'members', value: [{ $ref: null, value }] });
      expectNoContent(await scim.patch(`/Groups/${group.id}`, add(alice.id)));
      expectNoContent(await scim.patch(`/Groups/${group.id}`, add(bob.id)));
      expectNoContent(await scim.patch(`/Groups/${group.id}`, add(alice.id)));
      const res = await scim.get(`/Groups/${group.id}`);
      expectResource(res);
      const members = [...res.body.members].sort((a: any, b: any) => byNumber(a.value, b.value));
      expect(members).toEqual(
        [alice, bob]
          .sort((a, b) => byNumber(a.id, b.id))
          .map((u) => ({ value: u.id, display: u.displayName, type: 'User', $ref: `${scim.base}/Users/${u.id}` })),
      );
      expect(res.body.meta.version).not.toBe(group.meta.version);
      const data = (await ws.ok(GROUP_GQL, { id: group.id })).group;
      expect({ members: sortedIds(data.members.nodes), count: data.memberCount }).toEqual({ members: [alice.id, bob.id].sort(byNumber), count: 2 });
    });

    it('removes only the listed members with "op":"Remove" and a value list', async () => {
      const { ws, scim } = await connectScim(h);
      const users = [await provisionUser(scim), await provisionUser(scim), await provisionUser(scim)];
      const group = await provisionGroup(scim, { ...entraGroup(), members: users.map((u) => ({ value: u.id })) });
      expect(memberValues(group)).toEqual(users.map((u) => u.id).sort(byNumber));
      const res = await scim.patch(`/Groups/${group.id}`, patchOp({ op: 'Remove', path: 'members', value: [{ $ref: null, value: users[1].id }] }));
      expectNoContent(res);
      const left = [users[0].id, users[2].id].sort(byNumber);
      expect(memberValues((await scim.get(`/Groups/${group.id}`)).body)).toEqual(left);
      expect(sortedIds((await ws.ok(GROUP_GQL, { id: group.id })).group.members.nodes)).toEqual(left);
      // removing an absent member is not an error
      expectNoContent(await scim.patch(`/Groups/${group.id}`, patchOp({ op: 'Remove', path: 'members', value: [{ $ref: null, value: users[1].id }] })));
      expect(memberValues((await scim.get(`/Groups/${group.id}`)).body)).toEqual(left);
    });

    it('renames the group with "op":"Replace" of displayName and with a {id, displayName} value object', async () => {
      const { ws, scim } = await connectScim(h);
      const group = await provisionGroup(scim, entraGroup('Before'));
      const byPath = await scim.patch(`/Groups/${group.id}`, patchOp({ op: 'Replace', path: 'displayName', value: `${group.id}updatedDisplayName` }));
      expectNoContent(byPath);
      expect((await scim.get(`/Groups/${group.id}`)).body.displayName).toBe(`${group.id}updatedDisplayName`);
      const byValue = await scim.patch(`/Groups/${group.id}`, patchOp({ op: 'replace', value: { id: group.id, displayName: 'Group 1' } }));
      expectNoContent(byValue);
      const res = await scim.get(`/Groups/${group.id}`);
      expectResource(res);
      expect(res.body).toMatchObject({ id: group.id, displayName: 'Group 1', externalId: group.externalId });
      expect(res.body.meta.version).not.toBe(group.meta.version);
      expect((await ws.ok(GROUP_GQL, { id: group.id })).group.name).toBe('Group 1');
      const found = await scim.get(`/Groups?excludedAttributes=members&${filter('displayName eq "Group 1"')}`);
      expect(found.body.Resources.map((g: any) => g.id)).toEqual([group.id]);
    });

    it('answers a group with the displayName of a sibling (another case) with 409 uniqueness', async () => {
      const { scim } = await connectScim(h);
      await provisionGroup(scim, entraGroup('Finance'));
      expectScimError(await scim.post('/Groups', entraGroup('FINANCE')), 409, 'uniqueness');
      const other = await provisionGroup(scim, entraGroup('Legal'));
      expectScimError(await scim.patch(`/Groups/${other.id}`, patchOp({ op: 'replace', value: { id: other.id, displayName: 'finance' } })), 409, 'uniqueness');
      expect((await scim.get(`/Groups/${other.id}`)).body.displayName).toBe('Legal');
    });

    it('deletes the group: 204, then 404', async () => {
      const { ws, scim } = await connectScim(h);
      const user = await provisionUser(scim);
      const group = await provisionGroup(scim, { ...entraGroup(), members: [{ value: user.id }] });
      expectNoContent(await scim.delete(`/Groups/${group.id}`));
      expectScimError(await scim.get(`/Groups/${group.id}`), 404);
      expect((await ws.ok(GROUP_GQL, { id: group.id })).group).toBeNull();
      expect((await scim.get(`/Users/${user.id}`)).status).toBe(200);
    });
  });

  describe('a secret token restricted to a subtree', () => {
    /** Root R with children G and Sibling; Outside another root; a key restricted to G. */
    const subtree = () => restrictedSubtree(h);

    it('provisions groups as children of G, with their place in the tree in the extension', async () => {
      const { ws, root, g, scim } = await subtree();
      const res = await scim.post('/Groups', entraGroup('Engineering'));
      expectResource(res, 201);
      expect(res.body[TREE_SCHEMA].parentId).toBe(g);
      expect(res.body[TREE_SCHEMA].ancestorIds[0]).toBe(g);
      expect(res.body.schemas).toEqual([GROUP_SCHEMA, TREE_SCHEMA]);
      expect((await ws.ok(GROUP_GQL, { id: res.body.id })).group.parent).toEqual({ id: g });
      const admin = scim.as(ws.adminKey);
      expect((await admin.get(`/Groups/${res.body.id}`)).body[TREE_SCHEMA]).toEqual({ parentId: g, ancestorIds: [g, root] });
      // ignored in requests: a parentId of the caller's choosing does not move it
      const other = await scim.post('/Groups', { ...entraGroup('Ops'), schemas: [GROUP_SCHEMA, TREE_SCHEMA], [TREE_SCHEMA]: { parentId: root } });
      expectResource(other, 201);
      expect(other.body[TREE_SCHEMA].parentId).toBe(g);
      expect((await admin.get(`/Groups/${other.body.id}`)).body[TREE_SCHEMA]).toEqual({ parentId: g, ancestorIds: [g, root] });
    });

    it('shows the restricted key only the ancestors it can read, nearest first: the groups above G stay unknown to it', async () => {
      const { ws, root, g, scim } = await subtree();
      const created = await provisionGroup(scim, entraGroup('Engineering'));
      expect(created[TREE_SCHEMA]).toEqual({ parentId: g, ancestorIds: [g] });
      expect((await scim.get(`/Groups/${g}`)).body[TREE_SCHEMA]).toEqual({ parentId: null, ancestorIds: [] });
      const admin = new Scim(h.baseUrl, ws.tenant.slug, ws.adminKey);
      expect((await admin.get(`/Groups/${created.id}`)).body[TREE_SCHEMA]).toEqual({ parentId: g, ancestorIds: [g, root] });
    });

    it('provisions users and their memberships in its groups', async () => {
      const { ws, scim } = await subtree();
      const user = await provisionUser(scim);
      const group = await provisionGroup(scim);
      expectNoContent(await scim.patch(`/Groups/${group.id}`, patchOp({ op: 'Add', path: 'members', value: [{ $ref: null, value: user.id }] })));
      expect((await ws.ok(GROUP_GQL, { id: group.id })).group.members.nodes).toEqual([{ id: user.id }]);
    });

    it('lists and finds only groups of the subtree; others are 404 like unknown ids', async () => {
      const { root, g, sibling, outside, scim } = await subtree();
      const created = await provisionGroup(scim, entraGroup('Inside'));
      const list = await scim.get('/Groups?excludedAttributes=members');
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ totalResults: 2, itemsPerPage: 2, startIndex: 1 });
      expect(list.body.Resources.map((x: any) => x.id)).toEqual([g, created.id]);
      for (const name of ['Outside', 'Sibling', 'R']) {
        const res = await scim.get(`/Groups?excludedAttributes=members&${filter(`displayName eq "${name}"`)}`);
        expect(res.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
      }
      for (const id of [outside, sibling, root]) expectScimError(await scim.get(`/Groups/${id}`), 404);
    });

    it('changes nothing outside the subtree (404) and cannot delete G itself (403)', async () => {
      const { ws, g, sibling, outside, scim } = await subtree();
      const user = await provisionUser(scim);
      for (const id of [outside, sibling]) {
        expectScimError(await scim.patch(`/Groups/${id}`, patchOp({ op: 'Add', path: 'members', value: [{ value: user.id }] })), 404);
        expectScimError(await scim.patch(`/Groups/${id}`, patchOp({ op: 'replace', value: { id, displayName: 'Taken' } })), 404);
        expectScimError(await scim.delete(`/Groups/${id}`), 404);
        expect((await ws.ok(GROUP_GQL, { id })).group).toMatchObject({ id, members: { nodes: [] } });
      }
      expectScimError(await scim.delete(`/Groups/${g}`), 403);
      expect((await ws.ok(GROUP_GQL, { id: g })).group).toMatchObject({ id: g, name: 'G' });
    });
  });
});
