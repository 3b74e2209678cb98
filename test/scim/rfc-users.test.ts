// SCIM 2.0 (RFC 7643/7644) as the README's SCIM section documents it, over real HTTP on both backends:
// discovery, authentication, scopes, errors, and everything about /Users (filters, paging,
// attributes, PATCH, PUT, uniqueness, ETags, deactivation, deletion, the audit trail).
// The /Groups side is in rfc-groups.test.ts.
import { type Workspace, eachBackend } from '../support/harness';
import {
  AUDIT,
  ERROR_SCHEMA,
  GROUP_SCHEMA,
  LIST_SCHEMA,
  SCIM_CONTENT_TYPE,
  Scim,
  TIMESTAMP,
  VERSION,
  expectScimError,
  TREE_SCHEMA,
  USER_SCHEMA,
  bulkUsers,
  changesOf,
  connectScim,
  created,
  filter,
  keyRef,
  ok,
  patchOp,
  resourceIds,
  scimError,
} from '../support/scim';

// ─── helpers ────────────────────────────────────────────────────────────────────────────────────


/** POSTs a user (schemas added); fails the test unless 201. */
function postUser(scim: Scim, body: Record<string, unknown>): Promise<any> {
  return created(scim.post('/Users', { schemas: [USER_SCHEMA], ...body }));
}

/** A simple user with a unique userName and work email. */
let counter = 0;
async function someUser(scim: Scim, extra: Record<string, unknown> = {}): Promise<any> {
  counter += 1;
  const n = `${counter}-${Date.now().toString(36)}`;
  return postUser(scim, { userName: `user${n}`, emails: [{ value: `user${n}@example.com`, type: 'work', primary: true }], ...extra });
}

/** The user as GraphQL reads it. */
async function gqlUser(ws: Workspace, id: string): Promise<any> {
  const data = await ws.ok('query($id: ID!) { user(id: $id) { id name email userName externalId active } }', { id });
  return data.user;
}

async function audit(ws: Workspace, filterArg: Record<string, unknown>): Promise<any[]> {
  return (await ws.ok(AUDIT, { filter: filterArg })).auditEvents.nodes;
}

const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';

// ─── the suite ──────────────────────────────────────────────────────────────────────────────────

eachBackend('SCIM 2.0 (RFC 7643/7644): discovery, auth, /Users', (h) => {
  describe('discovery, without credentials', () => {
    it('ServiceProviderConfig: patch, filter (max 200), etag; no bulk, sort or changePassword; oauthbearertoken; the same for every slug', async () => {
      const { ws } = await connectScim(h);
      const res = await new Scim(h.baseUrl, ws.tenant.slug, null).get('/ServiceProviderConfig');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE);
      expect(res.body).toMatchObject({
        schemas: [SPC_SCHEMA],
        patch: { supported: true },
        bulk: { supported: false },
        filter: { supported: true, maxResults: 200 },
        changePassword: { supported: false },
        sort: { supported: false },
        etag: { supported: true },
      });
      expect(res.body.authenticationSchemes).toEqual([expect.objectContaining({ type: 'oauthbearertoken' })]);
      const unknown = await new Scim(h.baseUrl, 'no-such-workspace-anywhere', null).get('/ServiceProviderConfig');
      expect(unknown.status).toBe(200);
      expect(unknown.body).toEqual(res.body);
      const other = await new Scim(h.baseUrl, (await h.workspace()).tenant.slug, null).get('/ServiceProviderConfig');
      expect(other.body).toEqual(res.body);
    });

    it('ResourceTypes: a ListResponse of User and Group (with the tree extension); each by id', async () => {
      const { ws } = await connectScim(h);
      const anon = new Scim(h.baseUrl, ws.tenant.slug, null);
      const res = await anon.get('/ResourceTypes');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE);
      expect(res.body.schemas).toEqual([LIST_SCHEMA]);
      expect(res.body.totalResults).toBe(2);
      const byId = Object.fromEntries(res.body.Resources.map((r: any) => [r.id, r]));
      expect(Object.keys(byId).sort()).toEqual(['Group', 'User']);
      expect(byId.User).toMatchObject({ id: 'User', name: 'User', endpoint: '/Users', schema: USER_SCHEMA });
      expect(byId.Group).toMatchObject({ id: 'Group', name: 'Group', endpoint: '/Groups', schema: GROUP_SCHEMA });
      expect(byId.Group.schemaExtensions).toEqual([expect.objectContaining({ schema: TREE_SCHEMA })]);
      for (const id of ['User', 'Group']) {
        const one = await anon.get(`/ResourceTypes/${id}`);
        expect(one.status).toBe(200);
        expect(one.body).toEqual(byId[id]);
      }
      const unknownSlug = await new Scim(h.baseUrl, 'no-such-workspace-anywhere', null).get('/ResourceTypes');
      expect(unknownSlug.body).toEqual(res.body);
    });

    it('Schemas: core User, core Group and the tree extension (parentId, ancestorIds read-only); each by URN', async () => {
      const { ws } = await connectScim(h);
      const anon = new Scim(h.baseUrl, ws.tenant.slug, null);
      const res = await anon.get('/Schemas');
      expect(res.status).toBe(200);
      expect(res.body.schemas).toEqual([LIST_SCHEMA]);
      expect(res.body.totalResults).toBe(3);
      const byId = Object.fromEntries(res.body.Resources.map((r: any) => [r.id, r]));
      expect(Object.keys(byId).sort()).toEqual([TREE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA].sort());
      const attr = (schema: any, name: string) => schema.attributes.find((a: any) => a.name === name);
      expect(attr(byId[USER_SCHEMA], 'userName')).toMatchObject({ required: true, uniqueness: 'server', caseExact: false });
      expect(attr(byId[GROUP_SCHEMA], 'displayName')).toMatchObject({ type: 'string' });
      expect(attr(byId[GROUP_SCHEMA], 'members')).toMatchObject({ multiValued: true });
      const tree = byId[TREE_SCHEMA];
      expect(attr(tree, 'parentId')).toMatchObject({ mutability: 'readOnly', multiValued: false });
      expect(attr(tree, 'ancestorIds')).toMatchObject({ mutability: 'readOnly', multiValued: true });
      for (const urn of [USER_SCHEMA, GROUP_SCHEMA, TREE_SCHEMA]) {
        const one = await anon.get(`/Schemas/${urn}`);
        expect(one.status).toBe(200);
        expect(one.body).toEqual(byId[urn]);
      }
      expect((await new Scim(h.baseUrl, 'no-such-workspace-anywhere', null).get('/Schemas')).body).toEqual(res.body);
    });
  });

  describe('authentication: 401 SCIM error', () => {
    it('without credentials, with a bad key, with another workspace’s key', async () => {
      const { ws, scim } = await connectScim(h);
      const other = await h.workspace();
      await someUser(scim);
      for (const path of ['/Users', '/Groups']) {
        expectScimError(await scim.as(null).get(path), 401);
        expectScimError(await scim.as('not-a-key').get(path), 401);
        expectScimError(await scim.as(`kauth_${ws.tenant.slug}_not-a-real-secret`).get(path), 401);
        expectScimError(await scim.as(other.adminKey).get(path), 401);
      }
      expectScimError(await scim.as(other.adminKey).post('/Users', { schemas: [USER_SCHEMA], userName: 'intruder' }), 401);
      expect((await ok(scim.get('/Users'))).totalResults).toBe(1);
    });
  });

  describe('scopes: 403 SCIM error', () => {
    it('users:read reads but cannot POST, PUT, PATCH or DELETE; groups:read cannot read users', async () => {
      const { ws, scim } = await connectScim(h);
      const user = await someUser(scim, { displayName: 'Kept' });
      const reader = scim.as(await ws.key(['users:read']));
      expect((await reader.get('/Users')).status).toBe(200);
      expect((await reader.get(`/Users/${user.id}`)).status).toBe(200);
      expectScimError(await reader.post('/Users', { schemas: [USER_SCHEMA], userName: 'nope', emails: [{ value: 'nope@example.com' }] }), 403);
      expectScimError(await reader.put(`/Users/${user.id}`, { schemas: [USER_SCHEMA], userName: 'nope' }), 403);
      expectScimError(await reader.patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'Changed' })), 403);
      expectScimError(await reader.delete(`/Users/${user.id}`), 403);
      const groupsOnly = scim.as(await ws.key(['groups:read']));
      expectScimError(await groupsOnly.get('/Users'), 403);
      expectScimError(await groupsOnly.get(`/Users/${user.id}`), 403);
      const after = await ok(scim.get('/Users'));
      expect(after.totalResults).toBe(1);
      expect(after.Resources[0].displayName).toBe('Kept');
    });
  });

  describe('POST and GET /Users', () => {
    it('creates the documented resource: 201, Location = meta.location, ETag = meta.version, scim+json', async () => {
      const { ws, scim } = await connectScim(h);
      const res = await scim.post('/Users', {
        schemas: [USER_SCHEMA],
        externalId: 'abc',
        userName: 'Alice@Example.com',
        name: { givenName: 'Alice', familyName: 'Ng' },
        displayName: 'Alice Ng',
        emails: [{ value: 'alice@example.com', type: 'work', primary: true }],
        active: true,
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE);
      const id = res.body.id;
      expect(id).toMatch(/^[1-9][0-9]*$/);
      expect(res.body).toEqual({
        schemas: [USER_SCHEMA],
        id,
        externalId: 'abc',
        userName: 'Alice@Example.com',
        name: { givenName: 'Alice', familyName: 'Ng' },
        displayName: 'Alice Ng',
        emails: [{ value: 'alice@example.com', type: 'work', primary: true }],
        active: true,
        meta: {
          resourceType: 'User',
          created: expect.stringMatching(TIMESTAMP),
          lastModified: expect.stringMatching(TIMESTAMP),
          location: `${scim.base}/Users/${id}`,
          version: expect.stringMatching(VERSION),
        },
      });
      expect(res.headers.get('location')).toBe(res.body.meta.location);
      expect(res.headers.get('etag')).toBe(res.body.meta.version);
      const one = await scim.get(`/Users/${id}`);
      expect(one.status).toBe(200);
      expect(one.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE);
      expect(one.headers.get('etag')).toBe(res.body.meta.version);
      expect(one.body).toEqual(res.body);
      expect(await gqlUser(ws, id)).toEqual({ id, name: 'Alice Ng', email: 'alice@example.com', userName: 'Alice@Example.com', externalId: 'abc', active: true });
    });

    it('displayName defaults to "givenName familyName"; GraphQL email is the primary, else work, else first, lower-cased', async () => {
      const { ws, scim } = await connectScim(h);
      const a = await postUser(scim, {
        userName: 'a',
        name: { givenName: 'Ann', familyName: 'Lee' },
        emails: [
          { value: 'Ann.Home@Example.com', type: 'home' },
          { value: 'Ann.Work@Example.com', type: 'work' },
          { value: 'Ann.Primary@Example.com', type: 'other', primary: true },
        ],
      });
      expect(a.displayName).toBe('Ann Lee');
      expect(await gqlUser(ws, a.id)).toMatchObject({ name: 'Ann Lee', email: 'ann.primary@example.com' });
      const b = await postUser(scim, { userName: 'b', emails: [{ value: 'B.Home@Example.com', type: 'home' }, { value: 'B.Work@Example.com', type: 'work' }] });
      expect((await gqlUser(ws, b.id)).email).toBe('b.work@example.com');
      const c = await postUser(scim, { userName: 'c', emails: [{ value: 'C.First@Example.com', type: 'home' }, { value: 'c.second@example.com', type: 'other' }] });
      expect((await gqlUser(ws, c.id)).email).toBe('c.first@example.com');
    });

    it('accepts application/json and ignores attributes it does not store (title, phoneNumbers, enterprise extension)', async () => {
      const { scim } = await connectScim(h);
      const enterprise = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
      const res = await scim.post(
        '/Users',
        JSON.stringify({
          schemas: [USER_SCHEMA, enterprise],
          userName: 'json',
          title: 'Boss',
          phoneNumbers: [{ value: '+1 555', type: 'work' }],
          emails: [{ value: 'json@example.com', type: 'work', primary: true }],
          [enterprise]: { employeeNumber: '7' },
        }),
        { 'content-type': 'application/json' },
      );
      expect(res.status).toBe(201);
      expect(res.body.userName).toBe('json');
      expect(res.body).not.toHaveProperty('title');
      expect(res.body).not.toHaveProperty('phoneNumbers');
      expect(res.body).not.toHaveProperty([enterprise]);
      expect(res.body.active).toBe(true);
    });

    it('GET of an unknown id, a non-numeric id or another workspace’s user: 404', async () => {
      const { scim } = await connectScim(h);
      const other = await connectScim(h);
      const theirs = await someUser(other.scim);
      expectScimError(await scim.get('/Users/2147483000'), 404);
      expectScimError(await scim.get('/Users/not-an-id'), 404);
      expectScimError(await scim.get(`/Users/${theirs.id}`), 404);
      expectScimError(await scim.patch(`/Users/${theirs.id}`, patchOp({ op: 'replace', path: 'active', value: false })), 404);
      expectScimError(await scim.delete(`/Users/${theirs.id}`), 404);
      expect((await ok(other.scim.get(`/Users/${theirs.id}`))).active).toBe(true);
    });
  });

  describe('errors', () => {
    it('a body over 1 MiB: 413 SCIM error, nothing created', async () => {
      const { scim } = await connectScim(h);
      const res = await scim.post('/Users', { schemas: [USER_SCHEMA], userName: 'big', title: 'x'.repeat(1_100_000) });
      expectScimError(res, 413);
      expect((await ok(scim.get('/Users'))).totalResults).toBe(0);
    });

    it('malformed JSON: 400 invalidSyntax', async () => {
      const { scim } = await connectScim(h);
      expectScimError(await scim.post('/Users', '{"schemas": ['), 400, 'invalidSyntax');
    });

    it('POST without userName: 400 invalidValue', async () => {
      const { scim } = await connectScim(h);
      expectScimError(await scim.post('/Users', { schemas: [USER_SCHEMA], emails: [{ value: 'x@example.com' }] }), 400, 'invalidValue');
    });
  });

  describe('uniqueness', () => {
    it('userName is unique case-insensitively (stored as given): POST, PUT and PATCH → 409 uniqueness', async () => {
      const { scim } = await connectScim(h);
      const alice = await postUser(scim, { userName: 'Alice@Example.com', emails: [{ value: 'a1@example.com' }] });
      expectScimError(await scim.post('/Users', { schemas: [USER_SCHEMA], userName: 'alice@example.COM', emails: [{ value: 'a2@example.com' }] }), 409, 'uniqueness');
      const bob = await postUser(scim, { userName: 'bob', emails: [{ value: 'b@example.com' }] });
      expectScimError(await scim.patch(`/Users/${bob.id}`, patchOp({ op: 'replace', path: 'userName', value: 'ALICE@example.com' })), 409, 'uniqueness');
      expectScimError(await scim.put(`/Users/${bob.id}`, { schemas: [USER_SCHEMA], userName: 'alice@EXAMPLE.com', emails: [{ value: 'b@example.com' }] }), 409, 'uniqueness');
      expect((await ok(scim.get(`/Users/${bob.id}`))).userName).toBe('bob');
      expect((await ok(scim.get(`/Users/${alice.id}`))).userName).toBe('Alice@Example.com');
      // Its own name in another case is not a conflict.
      const renamed = await scim.patch(`/Users/${alice.id}`, patchOp({ op: 'replace', path: 'userName', value: 'ALICE@EXAMPLE.COM' }));
      expect(renamed.status).toBe(200);
      expect(renamed.body.userName).toBe('ALICE@EXAMPLE.COM');
      expect((await ok(scim.get('/Users'))).totalResults).toBe(2);
    });

    it('emails are unique per workspace: 409 uniqueness; another workspace may reuse both', async () => {
      const { scim } = await connectScim(h);
      await postUser(scim, { userName: 'one', emails: [{ value: 'same@example.com', primary: true }] });
      expectScimError(await scim.post('/Users', { schemas: [USER_SCHEMA], userName: 'two', emails: [{ value: 'SAME@example.com', primary: true }] }), 409, 'uniqueness');
      const other = await connectScim(h);
      await postUser(other.scim, { userName: 'one', emails: [{ value: 'same@example.com', primary: true }] });
    });
  });

  describe('filters on /Users', () => {
    let scim: Scim;
    let u: any[];
    const q = async (expression: string) => {
      const res = await scim.get(`/Users?${filter(expression)}`);
      if (res.status !== 200) throw new Error(`${expression}: ${res.status} ${JSON.stringify(res.body)}`);
      expect(res.body.totalResults).toBe(res.body.Resources.length);
      return resourceIds(res);
    };
    const of = (...indexes: number[]) => indexes.map((i) => u[i].id);

    beforeAll(async () => {
      ({ scim } = await connectScim(h));
      u = [];
      const bodies = [
        { userName: 'alice@example.com', externalId: 'ext-1', name: { givenName: 'Alice', familyName: 'Ng' }, emails: [{ value: 'alice@example.com', type: 'work', primary: true }] },
        {
          userName: 'Bob.Smith@Example.com',
          externalId: 'ext-2',
          name: { givenName: 'Bob', familyName: 'Smith' },
          emails: [
            { value: 'bob@home.test', type: 'home' },
            { value: 'bob@corp.test', type: 'work', primary: true },
          ],
        },
        { userName: 'carol', name: { givenName: 'Carol', familyName: 'Jones' }, emails: [{ value: 'carol@corp.test', type: 'work' }], active: false },
        { userName: 'dave', externalId: 'ext-4', displayName: 'Dave B', emails: [{ value: 'dave@home.test', type: 'home' }] },
      ];
      for (const body of bodies) {
        u.push(await postUser(scim, body));
        await h.clockPast(u.at(-1).meta.lastModified); // distinct meta.created / lastModified
      }
    });

    it('eq, ne, co, sw, ew, pr on userName (case-insensitive) and other strings', async () => {
      expect(await q('userName eq "ALICE@example.com"')).toEqual(of(0));
      expect(await q('userName eq "bob.smith@example.com"')).toEqual(of(1));
      expect(await q('userName ne "alice@example.com"')).toEqual(of(1, 2, 3));
      expect(await q('userName co "SMITH"')).toEqual(of(1));
      expect(await q('userName sw "B"')).toEqual(of(1));
      expect(await q('userName ew ".COM"')).toEqual(of(0, 1));
      expect(await q('externalId pr')).toEqual(of(0, 1, 3));
      expect(await q('externalId eq "ext-2"')).toEqual(of(1));
      expect(await q('displayName eq "Dave B"')).toEqual(of(3));
      expect(await q('displayName sw "Carol"')).toEqual(of(2));
      expect(await q('name.familyName eq "Ng"')).toEqual(of(0));
      expect(await q('name.givenName co "o"')).toEqual(of(1, 2));
      expect(await q(`id eq "${u[2].id}"`)).toEqual(of(2));
    });

    it('gt, ge, lt, le on userName and on meta.created / meta.lastModified', async () => {
      expect(await q('userName gt "carol"')).toEqual(of(3));
      expect(await q('userName ge "carol"')).toEqual(of(2, 3));
      expect(await q('userName lt "bob"')).toEqual(of(0));
      expect(await q('userName le "carol"')).toEqual(of(0, 1, 2));
      expect(await q(`meta.lastModified gt "${u[1].meta.lastModified}"`)).toEqual(of(2, 3));
      expect(await q(`meta.lastModified lt "${u[2].meta.lastModified}"`)).toEqual(of(0, 1));
      expect(await q(`meta.created ge "${u[2].meta.created}"`)).toEqual(of(2, 3));
      expect(await q(`meta.created le "${u[1].meta.created}"`)).toEqual(of(0, 1));
    });

    it('emails.value (case-insensitive), emails.type, emails[type eq "work"].value, active', async () => {
      expect(await q('emails.value eq "BOB@HOME.TEST"')).toEqual(of(1));
      expect(await q('emails.type eq "home"')).toEqual(of(1, 3));
      expect(await q('emails[type eq "work"].value ew "corp.test"')).toEqual(of(1, 2));
      expect(await q('emails[type eq "work"].value eq "bob@home.test"')).toEqual([]);
      expect(await q('emails[type eq "work"].value eq "bob@corp.test"')).toEqual(of(1));
      expect(await q('active eq false')).toEqual(of(2));
      expect(await q('active eq true')).toEqual(of(0, 1, 3));
    });

    it('and, or, not, parentheses, precedence; operators and attribute names in any case', async () => {
      expect(await q('userName eq "dave" or userName eq "carol"')).toEqual(of(2, 3));
      expect(await q('active eq true and (externalId eq "ext-1" or externalId eq "ext-4")')).toEqual(of(0, 3));
      expect(await q('active eq true and externalId eq "ext-1" or userName eq "carol"')).toEqual(of(0, 2));
      expect(await q('not (externalId pr)')).toEqual(of(2));
      expect(await q('not (active eq true) or userName eq "alice@example.com"')).toEqual(of(0, 2));
      expect(await q('(userName sw "a" or userName sw "b") and not (externalId eq "ext-1")')).toEqual(of(1));
      expect(await q('USERNAME EQ "alice@example.com"')).toEqual(of(0));
      expect(await q('UserName Sw "c" Or Active Eq false')).toEqual(of(2));
      expect(await q('EMAILS.VALUE co "HOME" AND NOT (EXTERNALID EQ "ext-2")')).toEqual(of(3));
    });

    it('matching nothing: 200 with totalResults 0 and Resources []', async () => {
      const res = await scim.get(`/Users?${filter('userName eq "nobody"')}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE);
      expect(res.body).toEqual({ schemas: [LIST_SCHEMA], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
    });

    it('an unknown attribute or a malformed expression: 400 invalidFilter', async () => {
      for (const bad of [
        'nickName2 eq "x"',
        'members.value eq "1"',
        'userName eq',
        'userName eq "unterminated',
        '(userName eq "x"',
        'userName eq "x")',
        'userName zz "x"',
        'userName eq "a" and',
        'userName pr pr',
        'emails[type eq "work".value eq "x"',
      ]) {
        const res = await scim.get(`/Users?${filter(bad)}`);
        expect({ bad, status: res.status, body: res.body }).toEqual({ bad, status: 400, body: scimError(400, 'invalidFilter') });
      }
    });
  });

  describe('pagination and attributes', () => {
    it('startIndex (1-based) and count: integers, stable order by id, clamping, past the end, count=0', async () => {
      const { scim } = await connectScim(h);
      const all: string[] = [];
      for (let i = 0; i < 5; i += 1) all.push((await someUser(scim)).id);
      expect(all.map(Number)).toEqual([...all.map(Number)].sort((a, b) => a - b));
      const page = await scim.get('/Users?startIndex=2&count=2');
      expect(page.status).toBe(200);
      expect({ ...page.body, Resources: resourceIds(page) }).toEqual({ schemas: [LIST_SCHEMA], totalResults: 5, itemsPerPage: 2, startIndex: 2, Resources: all.slice(1, 3) });
      const pages: string[] = [];
      for (let start = 1; start <= 5; start += 2) pages.push(...resourceIds(await scim.get(`/Users?startIndex=${start}&count=2`)));
      expect(pages).toEqual(all);
      const last = await ok(scim.get('/Users?startIndex=5&count=10'));
      expect({ n: last.itemsPerPage, ids: last.Resources.map((r: any) => r.id) }).toEqual({ n: 1, ids: [all[4]] });
      const past = await ok(scim.get('/Users?startIndex=6'));
      expect(past).toEqual({ schemas: [LIST_SCHEMA], totalResults: 5, itemsPerPage: 0, startIndex: 6, Resources: [] });
      const zero = await ok(scim.get('/Users?count=0'));
      expect(zero.totalResults).toBe(5);
      expect(zero.itemsPerPage).toBe(0);
      expect(zero.Resources ?? []).toEqual([]);
      const negative = await ok(scim.get('/Users?count=-4'));
      expect(negative.totalResults).toBe(5);
      expect(negative.Resources ?? []).toEqual([]);
      const below = await ok(scim.get('/Users?startIndex=0&count=1'));
      expect({ s: below.startIndex, ids: below.Resources.map((r: any) => r.id) }).toEqual({ s: 1, ids: [all[0]] });
      const negStart = await ok(scim.get('/Users?startIndex=-7&count=1'));
      expect(negStart.startIndex).toBe(1);
      const filtered = await ok(scim.get(`/Users?${filter('userName pr')}&startIndex=3&count=1`));
      expect({ t: filtered.totalResults, ids: filtered.Resources.map((r: any) => r.id) }).toEqual({ t: 5, ids: [all[2]] });
    });

    it('count defaults to 100 and is capped at 200', async () => {
      const { ws, scim } = await connectScim(h);
      await bulkUsers(h, ws, 230);
      const byDefault = await ok(scim.get('/Users?attributes=userName'));
      expect([byDefault.totalResults, byDefault.itemsPerPage, byDefault.Resources.length]).toEqual([230, 100, 100]);
      const capped = await ok(scim.get('/Users?count=500&attributes=userName'));
      expect([capped.totalResults, capped.itemsPerPage, capped.Resources.length, capped.startIndex]).toEqual([230, 200, 200, 1]);
      const rest = await ok(scim.get('/Users?startIndex=201&count=200&attributes=userName'));
      expect(rest.Resources.length).toBe(30);
      const every = [...capped.Resources, ...rest.Resources].map((r: any) => Number(r.id));
      expect(every).toEqual([...every].sort((a, b) => a - b));
      expect(new Set(every).size).toBe(230);
    });

    it('attributes / excludedAttributes: case-insensitive, sub-attributes, id and schemas always; on lists, GET, POST, PUT, PATCH', async () => {
      const { scim } = await connectScim(h);
      const body = {
        userName: 'attr',
        externalId: 'e1',
        name: { givenName: 'At', familyName: 'Tr' },
        displayName: 'At Tr',
        emails: [{ value: 'attr@example.com', type: 'work', primary: true }],
      };
      const full = await postUser(scim, body);
      const listed = await ok(scim.get('/Users?attributes=userName'));
      expect(listed.Resources).toEqual([{ schemas: [USER_SCHEMA], id: full.id, userName: 'attr' }]);
      expect(await ok(scim.get(`/Users/${full.id}?attributes=NAME.givenName,Emails`))).toEqual({
        schemas: [USER_SCHEMA],
        id: full.id,
        name: { givenName: 'At' },
        emails: full.emails,
      });
      expect(await ok(scim.get(`/Users/${full.id}?attributes=emails.value`))).toEqual({ schemas: [USER_SCHEMA], id: full.id, emails: [{ value: 'attr@example.com' }] });
      const { emails: _e, ...withoutEmails } = full;
      expect(await ok(scim.get(`/Users/${full.id}?excludedAttributes=EMAILS,name.familyName`))).toEqual({ ...withoutEmails, name: { givenName: 'At' } });
      expect(await ok(scim.get(`/Users/${full.id}?excludedAttributes=id,schemas,meta`))).toEqual((({ meta: _m, ...rest }) => rest)(full));
      expect(await ok(scim.get(`/Users/${full.id}?attributes=${encodeURIComponent(`${USER_SCHEMA}:userName`)}`))).toEqual({ schemas: [USER_SCHEMA], id: full.id, userName: 'attr' });
      const created = await scim.post('/Users?attributes=userName', { schemas: [USER_SCHEMA], userName: 'attr2', emails: [{ value: 'attr2@example.com' }] });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({ schemas: [USER_SCHEMA], id: expect.any(String), userName: 'attr2' });
      const patched = await scim.patch(`/Users/${full.id}?attributes=active`, patchOp({ op: 'replace', path: 'active', value: false }));
      expect(patched.status).toBe(200);
      expect(patched.body).toEqual({ schemas: [USER_SCHEMA], id: full.id, active: false });
      const put = await scim.put(`/Users/${full.id}?excludedAttributes=meta,emails,name`, { schemas: [USER_SCHEMA], ...body, displayName: 'Put' });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({ schemas: [USER_SCHEMA], id: full.id, userName: 'attr', externalId: 'e1', displayName: 'Put', active: true });
    });
  });

  describe('PATCH /Users', () => {
    const base = {
      userName: 'pat',
      externalId: 'p-1',
      name: { givenName: 'Pat', familyName: 'Doe' },
      displayName: 'Pat Doe',
      emails: [
        { value: 'pat@corp.test', type: 'work', primary: true },
        { value: 'pat@home.test', type: 'home' },
      ],
    };

    it('ops in any case, with paths: active, userName, displayName, externalId, name.*, emails[type eq "work"].value, urn-prefixed; 200 with the resource', async () => {
      const { ws, scim } = await connectScim(h);
      const user = await postUser(scim, base);
      const patch = (...ops: Record<string, unknown>[]) => scim.patch(`/Users/${user.id}`, patchOp(...ops));
      let res = await patch({ op: 'Replace', path: 'active', value: false });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE);
      expect(res.headers.get('etag')).toBe(res.body.meta.version);
      expect(res.body).toEqual({ ...user, active: false, meta: { ...user.meta, lastModified: expect.stringMatching(TIMESTAMP), version: expect.stringMatching(VERSION) } });
      res = await patch(
        { op: 'REPLACE', path: 'userName', value: 'Pat2' },
        { op: 'replace', path: 'displayName', value: 'Patricia' },
        { op: 'add', path: 'name.givenName', value: 'Patty' },
        { op: 'Add', path: 'externalId', value: 'p-2' },
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'patty@corp.test' },
        { op: 'replace', path: `${USER_SCHEMA}:name.familyName`, value: 'Roe' },
        { op: 'replace', path: 'active', value: true },
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        userName: 'Pat2',
        displayName: 'Patricia',
        name: { givenName: 'Patty', familyName: 'Roe' },
        externalId: 'p-2',
        active: true,
      });
      expect(res.body.emails).toEqual([
        { value: 'patty@corp.test', type: 'work', primary: true },
        { value: 'pat@home.test', type: 'home' },
      ]);
      expect(await ok(scim.get(`/Users/${user.id}`))).toEqual(res.body);
      expect(await gqlUser(ws, user.id)).toEqual({ id: user.id, name: 'Patricia', email: 'patty@corp.test', userName: 'Pat2', externalId: 'p-2', active: true });
      res = await patch({ op: 'Remove', path: 'externalId' });
      expect(res.status).toBe(200);
      expect(res.body).not.toHaveProperty('externalId');
      expect((await gqlUser(ws, user.id)).externalId).toBeNull();
      res = await patch({ op: 'replace', path: 'emails', value: [{ value: 'only@corp.test', type: 'work', primary: true }] });
      expect(res.body.emails).toEqual([{ value: 'only@corp.test', type: 'work', primary: true }]);
      expect((await gqlUser(ws, user.id)).email).toBe('only@corp.test');
    });

    it('adds and removes emails matching addresses ignoring case: an address already there is replaced, not doubled', async () => {
      const { scim } = await connectScim(h);
      const user = await postUser(scim, base);
      const patch = (...ops: Record<string, unknown>[]) => scim.patch(`/Users/${user.id}`, patchOp(...ops));
      let res = await patch({ op: 'add', path: 'emails', value: [{ value: 'PAT@Home.test', type: 'other' }] });
      expect(res.status).toBe(200);
      expect(res.body.emails).toEqual([
        { value: 'pat@corp.test', type: 'work', primary: true },
        { value: 'pat@home.test', type: 'other' },
      ]);
      res = await patch({ op: 'remove', path: 'emails', value: [{ value: 'Pat@Corp.TEST' }] });
      expect(res.body.emails).toEqual([{ value: 'pat@home.test', type: 'other' }]);
    });

    it('without a path: a value object, dotted or nested (unnamed sub-attributes kept); string booleans', async () => {
      const { scim } = await connectScim(h);
      const user = await postUser(scim, base);
      const patch = (...ops: Record<string, unknown>[]) => scim.patch(`/Users/${user.id}`, patchOp(...ops));
      let res = await patch({ op: 'replace', value: { active: false, 'name.givenName': 'X' } });
      expect(res.status).toBe(200);
      expect([res.body.active, res.body.name]).toEqual([false, { givenName: 'X', familyName: 'Doe' }]);
      res = await patch({ op: 'replace', value: { name: { givenName: 'Y' }, displayName: 'Y Doe' } });
      expect([res.body.name, res.body.displayName]).toEqual([{ givenName: 'Y', familyName: 'Doe' }, 'Y Doe']);
      res = await patch({ op: 'Replace', path: 'active', value: 'True' });
      expect(res.body.active).toBe(true);
      res = await patch({ op: 'Replace', path: 'active', value: 'False' });
      expect(res.body.active).toBe(false);
      res = await patch({ op: 'replace', value: { active: 'True' } });
      expect(res.body.active).toBe(true);
      expect(res.body.userName).toBe('pat');
    });

    it('is atomic: a bad op after good ones changes nothing (400); bad path 400 invalidPath; remove without path 400 noTarget', async () => {
      const { ws, scim } = await connectScim(h);
      const user = await postUser(scim, base);
      const before = await ok(scim.get(`/Users/${user.id}`));
      const bad = await scim.patch(
        `/Users/${user.id}`,
        patchOp({ op: 'replace', path: 'displayName', value: 'Changed' }, { op: 'explode', path: 'active', value: false }, { op: 'replace', path: 'userName', value: 'changed' }),
      );
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '400' });
      const invalidPath = await scim.patch(
        `/Users/${user.id}`,
        patchOp({ op: 'replace', path: 'displayName', value: 'Changed' }, { op: 'replace', path: 'noSuchAttribute', value: 'x' }),
      );
      expectScimError(invalidPath, 400, 'invalidPath');
      const noTarget = await scim.patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'active', value: false }, { op: 'remove' }));
      expectScimError(noTarget, 400, 'noTarget');
      const badBool = await scim.patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'Changed' }, { op: 'replace', path: 'active', value: 'maybe' }));
      expectScimError(badBool, 400, 'invalidValue');
      expect(await ok(scim.get(`/Users/${user.id}`))).toEqual(before);
      expect(await gqlUser(ws, user.id)).toMatchObject({ name: 'Pat Doe', active: true, userName: 'pat' });
      expect(await audit(ws, { action: 'USER_UPDATED' })).toEqual([]);
    });
  });

  describe('PUT /Users', () => {
    it('replaces every mutable attribute: absent ones cleared, active absent → true; id and created kept', async () => {
      const { ws, scim } = await connectScim(h);
      const user = await postUser(scim, {
        userName: 'put',
        externalId: 'x-1',
        name: { givenName: 'Put', familyName: 'Me' },
        displayName: 'Put Me',
        emails: [{ value: 'put@example.com', type: 'work', primary: true }],
        active: false,
      });
      const res = await scim.put(`/Users/${user.id}`, { schemas: [USER_SCHEMA], userName: 'Put2', emails: [{ value: 'put2@example.com', type: 'home' }] });
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe(res.body.meta.version);
      expect(res.body).toEqual({
        schemas: [USER_SCHEMA],
        id: user.id,
        userName: 'Put2',
        emails: [{ value: 'put2@example.com', type: 'home' }],
        active: true,
        meta: { ...user.meta, lastModified: expect.stringMatching(TIMESTAMP), version: expect.stringMatching(VERSION) },
      });
      expect(res.body.meta.version).not.toBe(user.meta.version);
      expect(await ok(scim.get(`/Users/${user.id}`))).toEqual(res.body);
      expect(await gqlUser(ws, user.id)).toEqual({ id: user.id, name: null, email: 'put2@example.com', userName: 'Put2', externalId: null, active: true });
      expectScimError(await scim.put('/Users/2147483000', { schemas: [USER_SCHEMA], userName: 'ghost' }), 404);
    });
  });

  describe('ETags', () => {
    it('meta.version changes with every write; If-Match stale → 412 and nothing changes; * and the current version match', async () => {
      const { scim } = await connectScim(h);
      const user = await someUser(scim, { displayName: 'V1' });
      const v1 = user.meta.version;
      expect(v1).toMatch(VERSION);
      expect((await scim.get(`/Users/${user.id}`)).headers.get('etag')).toBe(v1);
      const p = await scim.patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'V2' }), { 'if-match': v1 });
      expect(p.status).toBe(200);
      const v2 = p.body.meta.version;
      expect(p.headers.get('etag')).toBe(v2);
      const put = await scim.put(`/Users/${user.id}`, { schemas: [USER_SCHEMA], userName: user.userName, emails: user.emails, displayName: 'V3' }, { 'if-match': v2 });
      expect(put.status).toBe(200);
      const v3 = put.body.meta.version;
      const deactivated = await scim.patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'active', value: false }));
      const v4 = deactivated.body.meta.version;
      expect(new Set([v1, v2, v3, v4]).size).toBe(4);
      for (const v of [v2, v3, v4]) expect(v).toMatch(VERSION);

      expectScimError(await scim.patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'Stale' }), { 'if-match': v3 }), 412);
      expectScimError(await scim.put(`/Users/${user.id}`, { schemas: [USER_SCHEMA], userName: 'stale', emails: user.emails }, { 'if-match': v1 }), 412);
      expectScimError(await scim.delete(`/Users/${user.id}`, { 'if-match': v2 }), 412);
      const now = await scim.get(`/Users/${user.id}`);
      expect([now.status, now.headers.get('etag'), now.body.displayName, now.body.userName, now.body.active]).toEqual([200, v4, 'V3', user.userName, false]);

      const star = await scim.patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'active', value: true }), { 'if-match': '*' });
      expect(star.status).toBe(200);
      expect(star.body.meta.version).not.toBe(v4);
      expect((await scim.delete(`/Users/${user.id}`, { 'if-match': star.body.meta.version })).status).toBe(204);
    });
  });

  describe('deactivation and deletion', () => {
    it('active false grants nothing and leaves the user out of GraphQL members/memberCount (direct and inherited); reactivation restores', async () => {
      const { ws, scim } = await connectScim(h);
      const parent = await ws.group('Parent');
      const child = await ws.group('Child', parent);
      const viaGroup = await ws.role('via-group');
      const direct = await ws.role('direct');
      await ws.assignGroupRole(parent, viaGroup);
      const user = await someUser(scim, { displayName: 'Dee' });
      const peer = await someUser(scim);
      await ws.addMember(child, user.id);
      await ws.addMember(child, peer.id);
      await ws.ok('mutation($u: ID!, $r: ID!) { assignUserRole(userId: $u, roleId: $r) { id } }', { u: user.id, r: direct });
      const view = async () => {
        const data = await ws.ok(
          `query($u: ID!, $p: ID!, $c: ID!) {
            user(id: $u) { active effectiveRoles { role { name } } }
            child: group(id: $c) { members { nodes { id } } memberCount }
            parent: group(id: $p) { members(inherited: true) { nodes { id } } memberCount(inherited: true) }
          }`,
          { u: user.id, p: parent, c: child },
        );
        const roles = data.user.effectiveRoles.map((r: any) => r.role.name).sort();
        return { active: data.user.active, roles, child: data.child, parent: data.parent };
      };
      const before = {
        active: true,
        roles: ['direct', 'via-group'],
        child: { members: { nodes: [{ id: user.id }, { id: peer.id }] }, memberCount: 2 },
        parent: { members: { nodes: [{ id: user.id }, { id: peer.id }] }, memberCount: 2 },
      };
      expect(await view()).toEqual(before);
      const off = await scim.patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'active', value: false }));
      expect([off.status, off.body.active]).toEqual([200, false]);
      expect(await view()).toEqual({
        active: false,
        roles: [],
        child: { members: { nodes: [{ id: peer.id }] }, memberCount: 1 },
        parent: { members: { nodes: [{ id: peer.id }] }, memberCount: 1 },
      });
      // Still returned by SCIM, and still a member there.
      expect((await ok(scim.get(`/Users/${user.id}`))).active).toBe(false);
      expect((await ok(scim.get(`/Groups/${child}`))).members.map((m: any) => m.value)).toEqual([user.id, peer.id]);
      const on = await scim.patch(`/Users/${user.id}`, patchOp({ op: 'replace', value: { active: 'True' } }));
      expect([on.status, on.body.active]).toEqual([200, true]);
      expect(await view()).toEqual(before);
    });

    it('DELETE: 204, then 404; memberships and role assignments gone', async () => {
      const { ws, scim } = await connectScim(h);
      const g1 = await ws.group('G1');
      const g2 = await ws.group('G2');
      const role = await ws.role('r');
      const user = await someUser(scim);
      const peer = await someUser(scim);
      for (const g of [g1, g2]) {
        await ws.addMember(g, user.id);
        await ws.addMember(g, peer.id);
      }
      await ws.ok('mutation($u: ID!, $r: ID!) { assignUserRole(userId: $u, roleId: $r) { id } }', { u: user.id, r: role });
      const res = await scim.delete(`/Users/${user.id}`);
      expect(res.status).toBe(204);
      expect(res.body).toBe('');
      expectScimError(await scim.get(`/Users/${user.id}`), 404);
      expectScimError(await scim.delete(`/Users/${user.id}`), 404);
      const data = await ws.ok('query($a: ID!, $b: ID!, $u: ID!) { a: group(id: $a) { members { nodes { id } } memberCount } b: group(id: $b) { members { nodes { id } } } user(id: $u) { id } }', {
        a: g1,
        b: g2,
        u: user.id,
      });
      expect(data).toEqual({ a: { members: { nodes: [{ id: peer.id }] }, memberCount: 1 }, b: { members: { nodes: [{ id: peer.id }] } }, user: null });
      expect((await ok(scim.get(`/Groups/${g1}`))).members.map((m: any) => m.value)).toEqual([peer.id]);
      expect(await h.db.prisma.userRole.count({ where: { userId: Number(user.id) } })).toBe(0);
      expect((await ok(scim.get('/Users'))).Resources.map((r: any) => r.id)).toEqual([peer.id]);
    });
  });

  describe('audit', () => {
    it('SCIM user writes are in the trail with the key as actor: USER_CREATED, USER_UPDATED (changed fields), USER_DELETED', async () => {
      const { ws, scim: admin } = await connectScim(h);
      const key = await ws.key(['users:write']);
      const ref = await keyRef(ws, key);
      const scim = admin.as(key);
      const user = await postUser(scim, { userName: 'Aud', displayName: 'Aud It', emails: [{ value: 'Aud@Example.com', type: 'work', primary: true }] });
      await scim.patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'active', value: false }));
      await scim.patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'active', value: true }));
      await scim.patch(`/Users/${user.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'Renamed' }));
      expect((await scim.delete(`/Users/${user.id}`)).status).toBe(204);
      const events = await audit(ws, { actor: ref });
      expect(events.map((e) => [e.action, e.actor, e.target])).toEqual([
        ['USER_CREATED', { kind: 'API_KEY', ref }, { type: 'User', id: user.id }],
        ['USER_UPDATED', { kind: 'API_KEY', ref }, { type: 'User', id: user.id }],
        ['USER_UPDATED', { kind: 'API_KEY', ref }, { type: 'User', id: user.id }],
        ['USER_UPDATED', { kind: 'API_KEY', ref }, { type: 'User', id: user.id }],
        ['USER_DELETED', { kind: 'API_KEY', ref }, { type: 'User', id: user.id }],
      ]);
      expect(changesOf(events[0])).toMatchObject({ email: [null, 'aud@example.com'], name: [null, 'Aud It'] });
      expect(changesOf(events[1])).toEqual({ active: [true, false] });
      expect(changesOf(events[2])).toEqual({ active: [false, true] });
      // The field is GraphQL's `name` (SCIM displayName); only it changed.
      expect(Object.values(changesOf(events[3]))).toEqual([['Aud It', 'Renamed']]);
      const updated = await audit(ws, { action: 'USER_UPDATED' });
      expect(updated.map((e) => e.actor.ref)).toEqual([ref, ref, ref]);
    });
  });
});
