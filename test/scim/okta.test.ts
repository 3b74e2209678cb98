// Okta's provisioning conversation with /t/{slug}/scim/v2, request by request, as Okta's "SCIM 2.0
// reference" shows it: the existence check `filter=userName eq "..."&startIndex=1&count=100`, the
// user POSTed with its app profile (password, locale, groups included), read back, PUT whole,
// deactivated with a path-less `{"op":"replace","value":{"active":false}}` and reactivated; Group
// Push: POST /Groups with `members: []`, renames with {id, displayName}, membership PATCHes that
// remove by `members[value eq "id"]` and add in one request, member lists replaced, PUT, DELETE.
// Okta sends `Accept: application/scim+json` and `Content-Type: application/scim+json; charset=utf-8`.
// Each answer is checked exactly, and its effect through the rest of the service (GraphQL).
import { randomUUID } from 'node:crypto';
import { type Harness, type Workspace, eachBackend } from '../support/harness';
import {
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
  connectScim,
  created,
  expectNoContent,
  expectResource,
  expectScimError,
  memberValues,
  patchOp,
  restrictedSubtree,
  sorted,
  sortedIds,
} from '../support/scim';

const OKTA_HEADERS = {
  accept: 'application/scim+json',
  'content-type': 'application/scim+json; charset=utf-8',
  'user-agent': 'Okta SCIM Client 1.0.0',
};

/** The SCIM client as Okta uses it: its headers on every request. */
class Okta {
  constructor(readonly scim: Scim) {}
  get base() {
    return this.scim.base;
  }
  get(path: string) {
    return this.scim.get(path, OKTA_HEADERS);
  }
  post(path: string, body: unknown) {
    return this.scim.post(path, body, OKTA_HEADERS);
  }
  put(path: string, body: unknown) {
    return this.scim.put(path, body, OKTA_HEADERS);
  }
  patch(path: string, body: unknown) {
    return this.scim.patch(path, body, OKTA_HEADERS);
  }
  delete(path: string) {
    return this.scim.delete(path, OKTA_HEADERS);
  }
}

let oktaIds = 0;
/** An Okta user id (what Okta sends as externalId). */
const oktaId = () => `00u${(oktaIds += 1).toString().padStart(4, '0')}${randomUUID().replace(/-/g, '').slice(0, 13)}`;

/** Okta's create-user request, as in its reference. */
function oktaUser(login = `test.user.${randomUUID().slice(0, 8)}@okta.local`, given = 'Test', family = 'User') {
  return {
    schemas: [USER_SCHEMA],
    userName: login,
    name: { givenName: given, familyName: family },
    emails: [{ primary: true, value: login, type: 'work' }],
    displayName: `${given} ${family}`,
    locale: 'en-US',
    externalId: oktaId(),
    groups: [],
    password: '1mz050nq',
    active: true,
  };
}

/** The existence check Okta makes before creating a user. */
const existence = (userName: string) => `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`;

/** A fresh workspace and its admin key's SCIM client as Okta uses it. */
async function connect(h: Harness): Promise<{ ws: Workspace; okta: Okta }> {
  const { ws, scim } = await connectScim(h);
  return { ws, okta: new Okta(scim) };
}

/** POSTs Okta's user; fails the test unless it answers 201. */
const provisionUser = (okta: Okta, body: object = oktaUser()): Promise<any> => created(okta.post('/Users', body));

/** Group Push: POSTs a group as Okta does; fails the test unless it answers 201. */
const pushGroup = (okta: Okta, displayName = `Group ${randomUUID().slice(0, 8)}`, members: { value: string; display?: string }[] = []): Promise<any> =>
  created(okta.post('/Groups', { schemas: [GROUP_SCHEMA], displayName, members }));

/** The resource without unassigned attributes (null, [], {}), which RFC 7643 §2.5 treats as absent. */
function assigned(resource: Record<string, unknown>): Record<string, unknown> {
  const empty = (v: unknown) => v === null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => x === null));
  return Object.fromEntries(Object.entries(resource).filter(([, v]) => !empty(v)));
}

const GROUP_GQL = 'query($id: ID!) { group(id: $id) { id name parent { id } members { nodes { id } } memberCount } }';

eachBackend('SCIM: Okta provisioning', (h) => {
  describe('users', () => {
    it('answers the existence check (filter, startIndex=1, count=100) with an empty list', async () => {
      const { okta } = await connect(h);
      const res = await okta.get(existence('test.user@okta.local'));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE);
      expect(res.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
    });

    it('creates the user of Okta’s example: 201 with Location and ETag; password, locale and groups not kept', async () => {
      const { ws, okta } = await connect(h);
      const request = oktaUser('test.user@okta.local');
      const res = await okta.post('/Users', request);
      expectResource(res, 201);
      const id = res.body.id;
      expect(id).toMatch(ID);
      expect(res.headers.get('location')).toBe(`${okta.base}/Users/${id}`);
      expect(res.body).toEqual({
        schemas: [USER_SCHEMA],
        id,
        externalId: request.externalId,
        userName: 'test.user@okta.local',
        name: { givenName: 'Test', familyName: 'User' },
        displayName: 'Test User',
        emails: [{ value: 'test.user@okta.local', type: 'work', primary: true }],
        active: true,
        meta: {
          resourceType: 'User',
          created: expect.stringMatching(TIMESTAMP),
          lastModified: expect.stringMatching(TIMESTAMP),
          location: `${okta.base}/Users/${id}`,
          version: expect.stringMatching(VERSION),
        },
      });
      expect((await ws.ok(USER_GQL, { id })).user).toEqual({
        id,
        name: 'Test User',
        email: 'test.user@okta.local',
        userName: 'test.user@okta.local',
        externalId: request.externalId,
        active: true,
        effectiveRoles: [],
      });
    });

    it('finds the created user with the same existence check', async () => {
      const { okta } = await connect(h);
      const user = await provisionUser(okta);
      const res = await okta.get(existence(user.userName));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 1, itemsPerPage: 1, startIndex: 1, Resources: [user] });
    });

    it('answers a POST of an existing userName with 409 uniqueness (Okta then links the account)', async () => {
      const { okta } = await connect(h);
      const user = await provisionUser(okta);
      expectScimError(await okta.post('/Users', oktaUser(user.userName)), 409, 'uniqueness');
      expect((await okta.get(existence(user.userName))).body.totalResults).toBe(1);
    });

    it('imports users page by page (startIndex and count), ordered by id, integers in the list', async () => {
      const { okta } = await connect(h);
      const users = [await provisionUser(okta), await provisionUser(okta), await provisionUser(okta)];
      const first = await okta.get('/Users?startIndex=1&count=2');
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 3, itemsPerPage: 2, startIndex: 1, Resources: users.slice(0, 2) });
      const second = await okta.get('/Users?startIndex=3&count=2');
      expect(second.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 3, itemsPerPage: 1, startIndex: 3, Resources: users.slice(2) });
      const all = await okta.get('/Users?startIndex=1&count=100');
      expect(all.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 3, itemsPerPage: 3, startIndex: 1, Resources: users });
    });

    it('reads the user by id with its ETag', async () => {
      const { okta } = await connect(h);
      const user = await provisionUser(okta);
      const res = await okta.get(`/Users/${user.id}`);
      expectResource(res);
      expect(res.body).toEqual(user);
    });

    it('updates the profile with PUT of the whole user (id and meta sent back, ignored)', async () => {
      const { ws, okta } = await connect(h);
      const user = await provisionUser(okta);
      const externalId = oktaId();
      const request = {
        schemas: [USER_SCHEMA],
        id: user.id,
        userName: user.userName,
        name: { givenName: 'Another', familyName: 'User' },
        emails: [{ primary: true, value: 'another.user@okta.local', type: 'work' }],
        displayName: 'Another User',
        locale: 'en-US',
        externalId,
        groups: [],
        active: true,
        meta: { resourceType: 'User', created: user.meta.created, lastModified: user.meta.lastModified },
      };
      const res = await okta.put(`/Users/${user.id}`, request);
      expectResource(res);
      expect(res.body).toEqual({
        ...user,
        externalId,
        name: { givenName: 'Another', familyName: 'User' },
        emails: [{ value: 'another.user@okta.local', type: 'work', primary: true }],
        displayName: 'Another User',
        meta: { ...user.meta, lastModified: expect.stringMatching(TIMESTAMP), version: expect.stringMatching(VERSION) },
      });
      expect(res.body.meta.version).not.toBe(user.meta.version);
      expect((await okta.get(`/Users/${user.id}`)).body).toEqual(res.body);
      expect((await ws.ok(USER_GQL, { id: user.id })).user).toMatchObject({ name: 'Another User', email: 'another.user@okta.local', externalId });
    });

    it('clears on PUT what the PUT leaves out, and an absent active means true', async () => {
      const { ws, okta } = await connect(h);
      const user = await provisionUser(okta, { ...oktaUser(), active: false });
      expect(user.active).toBe(false);
      const res = await okta.put(`/Users/${user.id}`, { schemas: [USER_SCHEMA], userName: user.userName, emails: user.emails });
      expectResource(res);
      // RFC 7643 §2.5: an unassigned attribute may be left out or be null/empty; the same state
      expect(assigned(res.body)).toEqual({
        schemas: [USER_SCHEMA],
        id: user.id,
        userName: user.userName,
        emails: user.emails,
        active: true,
        meta: { ...user.meta, lastModified: expect.stringMatching(TIMESTAMP), version: expect.stringMatching(VERSION) },
      });
      expect((await ws.ok(USER_GQL, { id: user.id })).user).toMatchObject({ externalId: null, active: true });
    });

    it('deactivates with {"op":"replace","value":{"active":false}} (no roles, out of Group.members) and reactivates', async () => {
      const { ws, okta } = await connect(h);
      const user = await provisionUser(okta);
      const other = await provisionUser(okta);
      const group = await ws.group('Support');
      const role = await ws.role('Agent');
      await ws.assignGroupRole(group, role);
      await ws.addMember(group, user.id);
      await ws.addMember(group, other.id);

      const off = await okta.patch(`/Users/${user.id}`, patchOp({ op: 'replace', value: { active: false } }));
      expectResource(off);
      expect(off.body).toEqual({ ...user, active: false, meta: { ...user.meta, lastModified: expect.stringMatching(TIMESTAMP), version: expect.stringMatching(VERSION) } });
      expect(off.body.meta.version).not.toBe(user.meta.version);
      expect((await okta.get(`/Users/${user.id}`)).body.active).toBe(false);
      expect((await ws.ok(USER_GQL, { id: user.id })).user).toMatchObject({ active: false, effectiveRoles: [] });
      expect((await ws.ok(GROUP_GQL, { id: group })).group).toMatchObject({ members: { nodes: [{ id: other.id }] }, memberCount: 1 });
      expect(memberValues((await okta.get(`/Groups/${group}`)).body)).toEqual(sorted([user.id, other.id]));

      const on = await okta.patch(`/Users/${user.id}`, patchOp({ op: 'replace', value: { active: true } }));
      expectResource(on);
      expect(on.body.active).toBe(true);
      expect((await ws.ok(USER_GQL, { id: user.id })).user).toMatchObject({ active: true, effectiveRoles: [{ role: { name: 'Agent' } }] });
      const data = (await ws.ok(GROUP_GQL, { id: group })).group;
      expect({ members: sortedIds(data.members.nodes), count: data.memberCount }).toEqual({ members: sorted([user.id, other.id]), count: 2 });
    });

    it('accepts a password change as an ignored attribute (never returned)', async () => {
      const { okta } = await connect(h);
      const user = await provisionUser(okta);
      const res = await okta.patch(`/Users/${user.id}`, patchOp({ op: 'replace', value: { password: 't1meMa$heen' } }));
      expectResource(res);
      expect(res.body).not.toHaveProperty('password');
      expect(res.body).toMatchObject({ id: user.id, userName: user.userName, active: true });
    });
  });

  describe('Group Push', () => {
    it('pushes a new group: POST /Groups with members: [] answers 201 with the group as a root', async () => {
      const { ws, okta } = await connect(h);
      const res = await okta.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Test SCIMv2', members: [] });
      expectResource(res, 201);
      const id = res.body.id;
      expect(id).toMatch(ID);
      expect(res.headers.get('location')).toBe(`${okta.base}/Groups/${id}`);
      const { members, ...rest } = res.body;
      expect(members ?? []).toEqual([]);
      expect(rest).toEqual({
        schemas: [GROUP_SCHEMA, TREE_SCHEMA],
        id,
        displayName: 'Test SCIMv2',
        [TREE_SCHEMA]: { parentId: null, ancestorIds: [] },
        meta: {
          resourceType: 'Group',
          created: expect.stringMatching(TIMESTAMP),
          lastModified: expect.stringMatching(TIMESTAMP),
          location: `${okta.base}/Groups/${id}`,
          version: expect.stringMatching(VERSION),
        },
      });
      expect((await ws.ok(GROUP_GQL, { id })).group).toEqual({ id, name: 'Test SCIMv2', parent: null, members: { nodes: [] }, memberCount: 0 });
    });

    it('pushes a group with its members in the POST', async () => {
      const { ws, okta } = await connect(h);
      const [a, b] = [await provisionUser(okta), await provisionUser(okta)];
      const group = await pushGroup(okta, 'Pushed', [
        { value: a.id, display: a.userName },
        { value: b.id, display: b.userName },
      ]);
      expect(memberValues(group)).toEqual(sorted([a.id, b.id]));
      expect(sortedIds((await ws.ok(GROUP_GQL, { id: group.id })).group.members.nodes)).toEqual(sorted([a.id, b.id]));
    });

    it('reads the pushed group by id, also with excludedAttributes=members', async () => {
      const { okta } = await connect(h);
      const user = await provisionUser(okta);
      const group = await pushGroup(okta, 'Readable', [{ value: user.id }]);
      const full = await okta.get(`/Groups/${group.id}`);
      expectResource(full);
      expect(full.body).toEqual(group);
      expect(group.members).toEqual([{ value: user.id, display: user.displayName, type: 'User', $ref: `${okta.base}/Users/${user.id}` }]);
      const slim = await okta.get(`/Groups/${group.id}?excludedAttributes=members`);
      expectResource(slim);
      const { members, ...rest } = group;
      expect(members).toHaveLength(1);
      expect(slim.body).toEqual(rest);
    });

    it('finds groups by displayName and lists them page by page', async () => {
      const { okta } = await connect(h);
      const groups = [await pushGroup(okta, 'Alpha'), await pushGroup(okta, 'Beta'), await pushGroup(okta, 'Gamma')];
      const found = await okta.get(`/Groups?filter=${encodeURIComponent('displayName eq "Beta"')}&startIndex=1&count=100`);
      expect(found.status).toBe(200);
      expect(found.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 1, itemsPerPage: 1, startIndex: 1, Resources: [groups[1]] });
      const page = await okta.get('/Groups?startIndex=2&count=1');
      expect(page.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 3, itemsPerPage: 1, startIndex: 2, Resources: [groups[1]] });
    });

    it('renames the group with {"op":"replace","value":{"id","displayName"}}: 204', async () => {
      const { ws, okta } = await connect(h);
      const group = await pushGroup(okta, 'Test SCIMv2');
      const res = await okta.patch(`/Groups/${group.id}`, patchOp({ op: 'replace', value: { id: group.id, displayName: 'Test SCIMv2 renamed' } }));
      expectNoContent(res);
      const read = await okta.get(`/Groups/${group.id}`);
      expect(read.body.displayName).toBe('Test SCIMv2 renamed');
      expect(read.body.meta.version).not.toBe(group.meta.version);
      expect((await ws.ok(GROUP_GQL, { id: group.id })).group.name).toBe('Test SCIMv2 renamed');
    });

    it('answers a rename with the resource when the attributes parameter is given', async () => {
      const { okta } = await connect(h);
      const group = await pushGroup(okta, 'Before');
      const res = await okta.patch(`/Groups/${group.id}?attributes=displayName`, patchOp({ op: 'replace', value: { id: group.id, displayName: 'After' } }));
      expect({ status: res.status, contentType: res.headers.get('content-type') }).toEqual({ status: 200, contentType: SCIM_CONTENT_TYPE });
      expect(res.body).toEqual({ schemas: [GROUP_SCHEMA, TREE_SCHEMA], id: group.id, displayName: 'After' });
    });

    it('updates membership: remove by members[value eq "id"] and add, in one PATCH: 204', async () => {
      const { ws, okta } = await connect(h);
      const [stays, leaves, joins] = [await provisionUser(okta), await provisionUser(okta), await provisionUser(okta)];
      const group = await pushGroup(okta, 'Membership', [{ value: stays.id }, { value: leaves.id }]);
      const res = await okta.patch(
        `/Groups/${group.id}`,
        patchOp(
          { op: 'remove', path: `members[value eq "${leaves.id}"]` },
          { op: 'add', path: 'members', value: [{ value: joins.id, display: joins.userName }] },
        ),
      );
      expectNoContent(res);
      const expected = sorted([stays.id, joins.id]);
      expect(memberValues((await okta.get(`/Groups/${group.id}`)).body)).toEqual(expected);
      const data = (await ws.ok(GROUP_GQL, { id: group.id })).group;
      expect({ members: sortedIds(data.members.nodes), count: data.memberCount }).toEqual({ members: expected, count: 2 });
    });

    it('applies none of a membership PATCH when one member is not a user: 400 invalidValue', async () => {
      const { ws, okta } = await connect(h);
      const [stays, leaves] = [await provisionUser(okta), await provisionUser(okta)];
      const group = await pushGroup(okta, 'Atomic', [{ value: stays.id }, { value: leaves.id }]);
      const res = await okta.patch(
        `/Groups/${group.id}`,
        patchOp({ op: 'remove', path: `members[value eq "${leaves.id}"]` }, { op: 'add', path: 'members', value: [{ value: '999999999' }] }),
      );
      expectScimError(res, 400, 'invalidValue');
      expect(memberValues((await okta.get(`/Groups/${group.id}`)).body)).toEqual(sorted([stays.id, leaves.id]));
      expect(sortedIds((await ws.ok(GROUP_GQL, { id: group.id })).group.members.nodes)).toEqual(sorted([stays.id, leaves.id]));
    });

    it('replaces the member list with "op":"replace","path":"members": exactly the list', async () => {
      const { ws, okta } = await connect(h);
      const [a, b, c] = [await provisionUser(okta), await provisionUser(okta), await provisionUser(okta)];
      const group = await pushGroup(okta, 'Replaced', [{ value: a.id }, { value: b.id }]);
      const res = await okta.patch(`/Groups/${group.id}`, patchOp({ op: 'replace', path: 'members', value: [{ value: b.id }, { value: c.id }] }));
      expectNoContent(res);
      expect(memberValues((await okta.get(`/Groups/${group.id}`)).body)).toEqual(sorted([b.id, c.id]));
      expect(sortedIds((await ws.ok(GROUP_GQL, { id: group.id })).group.members.nodes)).toEqual(sorted([b.id, c.id]));
      expectNoContent(await okta.patch(`/Groups/${group.id}`, patchOp({ op: 'replace', path: 'members', value: [] })));
      expect(memberValues((await okta.get(`/Groups/${group.id}`)).body)).toEqual([]);
    });

    it('replaces the group with PUT: displayName and members', async () => {
      const { ws, okta } = await connect(h);
      const [a, b] = [await provisionUser(okta), await provisionUser(okta)];
      const group = await pushGroup(okta, 'Put me', [{ value: a.id }]);
      const res = await okta.put(`/Groups/${group.id}`, {
        schemas: [GROUP_SCHEMA],
        id: group.id,
        displayName: 'Put you',
        members: [{ value: b.id, display: b.userName }],
      });
      expectResource(res);
      expect(res.body).toEqual({
        ...group,
        displayName: 'Put you',
        members: [{ value: b.id, display: b.displayName, type: 'User', $ref: `${okta.base}/Users/${b.id}` }],
        meta: { ...group.meta, lastModified: expect.stringMatching(TIMESTAMP), version: expect.stringMatching(VERSION) },
      });
      expect(res.body.meta.version).not.toBe(group.meta.version);
      expect((await okta.get(`/Groups/${group.id}`)).body).toEqual(res.body);
      const data = (await ws.ok(GROUP_GQL, { id: group.id })).group;
      expect({ name: data.name, members: sortedIds(data.members.nodes) }).toEqual({ name: 'Put you', members: [b.id] });
    });

    it('deletes the group: 204, then 404; its children become roots, its users stay', async () => {
      const { ws, okta } = await connect(h);
      const user = await provisionUser(okta);
      const group = await pushGroup(okta, 'Doomed', [{ value: user.id }]);
      const child = await ws.group('Child', group.id);
      expectNoContent(await okta.delete(`/Groups/${group.id}`));
      expectScimError(await okta.get(`/Groups/${group.id}`), 404);
      expectScimError(await okta.delete(`/Groups/${group.id}`), 404);
      expect((await ws.ok(GROUP_GQL, { id: group.id })).group).toBeNull();
      expect((await ws.ok(GROUP_GQL, { id: child })).group.parent).toBeNull();
      expect((await okta.get(`/Groups/${child}`)).body[TREE_SCHEMA]).toEqual({ parentId: null, ancestorIds: [] });
      expect((await okta.get(`/Users/${user.id}`)).status).toBe(200);
    });
  });

  describe('Group Push with a key restricted to a subtree', () => {
    /** Root R with children G and Sibling; Outside another root; Okta with a key restricted to G. */
    async function subtree() {
      const { scim, ...tree } = await restrictedSubtree(h);
      return { ...tree, okta: new Okta(scim) };
    }

    it('pushes groups as children of G and manages their members', async () => {
      const { ws, root, g, okta } = await subtree();
      const user = await provisionUser(okta);
      const res = await okta.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Pushed', members: [] });
      expectResource(res, 201);
      expect(res.body[TREE_SCHEMA].parentId).toBe(g);
      expect(res.body[TREE_SCHEMA].ancestorIds[0]).toBe(g);
      const admin = new Scim(h.baseUrl, ws.tenant.slug, ws.adminKey);
      expect((await admin.get(`/Groups/${res.body.id}`)).body[TREE_SCHEMA]).toEqual({ parentId: g, ancestorIds: [g, root] });
      expect((await ws.ok(GROUP_GQL, { id: res.body.id })).group.parent).toEqual({ id: g });
      expectNoContent(await okta.patch(`/Groups/${res.body.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: user.id }] })));
      expectNoContent(await okta.patch(`/Groups/${res.body.id}`, patchOp({ op: 'replace', value: { id: res.body.id, displayName: 'Pushed 2' } })));
      expect((await ws.ok(GROUP_GQL, { id: res.body.id })).group).toMatchObject({ name: 'Pushed 2', members: { nodes: [{ id: user.id }] } });
      expectNoContent(await okta.delete(`/Groups/${res.body.id}`));
      expect((await ws.ok(GROUP_GQL, { id: res.body.id })).group).toBeNull();
    });

    it('lists only the subtree and answers 404 for groups outside it, changing nothing', async () => {
      const { ws, root, g, sibling, outside, okta } = await subtree();
      const pushed = await pushGroup(okta, 'Inside');
      const user = await provisionUser(okta);
      const list = await okta.get('/Groups?startIndex=1&count=100');
      expect(list.body).toMatchObject({ totalResults: 2, itemsPerPage: 2, startIndex: 1 });
      expect(list.body.Resources.map((x: any) => x.id)).toEqual([g, pushed.id]);
      const byName = await okta.get(`/Groups?filter=${encodeURIComponent('displayName eq "Outside"')}&startIndex=1&count=100`);
      expect(byName.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
      for (const id of [outside, sibling, root]) {
        expectScimError(await okta.get(`/Groups/${id}`), 404);
        expectScimError(await okta.patch(`/Groups/${id}`, patchOp({ op: 'add', path: 'members', value: [{ value: user.id }] })), 404);
        expectScimError(await okta.put(`/Groups/${id}`, { schemas: [GROUP_SCHEMA], displayName: 'Mine now', members: [] }), 404);
        expectScimError(await okta.delete(`/Groups/${id}`), 404);
      }
      for (const [id, name] of [[outside, 'Outside'], [sibling, 'Sibling'], [root, 'R']]) {
        expect((await ws.ok(GROUP_GQL, { id })).group).toMatchObject({ id, name, members: { nodes: [] } });
      }
      expectScimError(await okta.delete(`/Groups/${g}`), 403);
      expect((await ws.ok(GROUP_GQL, { id: g })).group).toMatchObject({ id: g, name: 'G' });
    });
  });
});
