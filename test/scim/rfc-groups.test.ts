// SCIM 2.0 (RFC 7643/7644) /Groups as the README's SCIM section documents it, over real HTTP on
// both backends: scopes (restricted to a subtree too), the resource and the tree extension, members,
// PATCH (atomic), PUT, DELETE, uniqueness among siblings, filters, paging, attributes, ETags, the
// audit trail, and a 10,000-member PATCH. Discovery, auth and /Users are in rfc-users.test.ts.
import { type Harness, eachBackend } from '../support/harness';
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
  sorted,
} from '../support/scim';

// ─── helpers ────────────────────────────────────────────────────────────────────────────────────

/** An id no workspace has. */
const UNKNOWN_ID = '2147483000';

let counter = 0;
/** A user created through SCIM (admin key). */
async function user(scim: Scim, displayName?: string): Promise<{ id: string; displayName: string }> {
  counter += 1;
  const n = `${counter}-${Date.now().toString(36)}`;
  return created(
    scim.post('/Users', {
      schemas: [USER_SCHEMA],
      userName: `member${n}`,
      displayName: displayName ?? `Member ${n}`,
      emails: [{ value: `member${n}@example.com`, type: 'work', primary: true }],
    }),
  );
}

/** POSTs a group (schemas added); fails the test unless 201. */
function postGroup(scim: Scim, body: Record<string, unknown>): Promise<any> {
  return created(scim.post('/Groups', { schemas: [GROUP_SCHEMA], ...body }));
}

/** The group's SCIM member ids, in the order given (an absent `members` is none). */
async function scimMembers(scim: Scim, groupId: string): Promise<string[]> {
  return ((await ok(scim.get(`/Groups/${groupId}`))).members ?? []).map((m: { value: string }) => m.value);
}

/** Direct member ids in the database, ascending. */
async function dbMembers(h: Harness, groupId: string): Promise<string[]> {
  const rows = await h.db.prisma.groupMember.findMany({ where: { groupId: Number(groupId) }, select: { userId: true }, orderBy: { userId: 'asc' } });
  return rows.map((r) => String(r.userId));
}

// ─── the suite ──────────────────────────────────────────────────────────────────────────────────

eachBackend('SCIM 2.0 (RFC 7643/7644): /Groups', (h) => {
  describe('scopes', () => {
    it('users:read cannot read groups; groups:read reads but cannot POST, PUT, rename, change members or DELETE (403, nothing changes)', async () => {
      const { ws, scim } = await connectScim(h);
      const u = await user(scim);
      const g = await postGroup(scim, { displayName: 'G' });
      expectScimError(await scim.as(await ws.key(['users:read'])).get('/Groups'), 403);
      const reader = scim.as(await ws.key(['groups:read']));
      expect((await reader.get('/Groups')).status).toBe(200);
      expect((await reader.get(`/Groups/${g.id}`)).status).toBe(200);
      expectScimError(await reader.patch(`/Groups/${g.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: u.id }] })), 403);
      expectScimError(await reader.patch(`/Groups/${g.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'New' })), 403);
      expectScimError(await reader.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Nope' }), 403);
      expectScimError(await reader.put(`/Groups/${g.id}`, { schemas: [GROUP_SCHEMA], displayName: 'New' }), 403);
      expectScimError(await reader.delete(`/Groups/${g.id}`), 403);
      const now = await ok(scim.get(`/Groups/${g.id}`));
      expect([now.displayName, now.members ?? [], now.meta.version]).toEqual(['G', [], g.meta.version]);
      expect((await ok(scim.get('/Groups'))).totalResults).toBe(1);
    });

    it('groups:members:write changes members but cannot rename, POST or DELETE (a PATCH mixing both changes nothing)', async () => {
      const { ws, scim } = await connectScim(h);
      const [u1, u2] = [await user(scim), await user(scim)];
      const g = await postGroup(scim, { displayName: 'G' });
      const members = scim.as(await ws.key(['groups:members:write']));
      const add = await members.patch(`/Groups/${g.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: u1.id }] }));
      expect(add.status).toBe(204);
      expectScimError(await members.patch(`/Groups/${g.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: u2.id }] }, { op: 'replace', path: 'displayName', value: 'New' })), 403);
      expectScimError(await members.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Nope' }), 403);
      expectScimError(await members.delete(`/Groups/${g.id}`), 403);
      expect(await scimMembers(scim, g.id)).toEqual([u1.id]);
      expect((await ok(scim.get(`/Groups/${g.id}`))).displayName).toBe('G');
    });

    it('groups:read@G groups:write@G groups:members:write@G: only G’s subtree; creates under G; 404 outside; 403 deleting G', async () => {
      const { ws, scim } = await connectScim(h);
      const r = await ws.group('R');
      const g = await ws.group('G', r);
      const g1 = await ws.group('G1', g);
      const g2 = await ws.group('G2', g1);
      const s = await ws.group('S', r);
      const o = await ws.group('Outside');
      const u = await user(scim);
      const k = scim.as(await ws.key([`groups:read@${g}`, `groups:write@${g}`, `groups:members:write@${g}`]));

      const list = await k.get('/Groups');
      expect([list.status, list.body.totalResults, resourceIds(list)]).toEqual([200, 3, [g, g1, g2]]);
      expect((await ok(k.get(`/Groups/${g2}`)))[TREE_SCHEMA].parentId).toBe(g1);
      expect((await ok(k.get(`/Groups?${filter('displayName eq "Outside" or displayName eq "R" or displayName eq "G1"')}`))).Resources.map((x: any) => x.id)).toEqual([g1]);

      // Outside the subtree: 404, exactly like an unknown id.
      for (const hidden of [r, s, o, UNKNOWN_ID]) {
        expectScimError(await k.get(`/Groups/${hidden}`), 404);
        expectScimError(await k.patch(`/Groups/${hidden}`, patchOp({ op: 'add', path: 'members', value: [{ value: u.id }] })), 404);
        expectScimError(await k.put(`/Groups/${hidden}`, { schemas: [GROUP_SCHEMA], displayName: 'X' }), 404);
        expectScimError(await k.delete(`/Groups/${hidden}`), 404);
      }
      for (const hidden of [r, s, o]) expect(await scimMembers(scim, hidden)).toEqual([]);

      const created = await k.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'New', members: [{ value: u.id }] });
      expect(created.status).toBe(201);
      expect(created.body[TREE_SCHEMA].parentId).toBe(g);
      expect(await scimMembers(scim, created.body.id)).toEqual([u.id]);
      const data = await ws.ok('query($id: ID!) { group(id: $id) { parent { id } } }', { id: created.body.id });
      expect(data.group.parent).toEqual({ id: g });

      expect((await k.patch(`/Groups/${g1}`, patchOp({ op: 'add', path: 'members', value: [{ value: u.id }] }))).status).toBe(204);
      expectScimError(await k.delete(`/Groups/${g}`), 403);
      expect((await ok(scim.get(`/Groups/${g}`))).displayName).toBe('G');
      expect((await k.delete(`/Groups/${created.body.id}`)).status).toBe(204);
    });

    it('a restricted key reads only the ancestors inside its subtree, nearest first; the admin key the whole chain, root last', async () => {
      const { ws, scim } = await connectScim(h);
      const r = await ws.group('R');
      const g = await ws.group('G', r);
      const g1 = await ws.group('G1', g);
      const k = scim.as(await ws.key([`groups:read@${g}`, `groups:write@${g}`]));
      expect((await ok(k.get(`/Groups/${g1}`)))[TREE_SCHEMA]).toEqual({ parentId: g, ancestorIds: [g] });
      expect((await ok(k.get(`/Groups/${g}`)))[TREE_SCHEMA]).toEqual({ parentId: null, ancestorIds: [] });
      const created = await postGroup(k, { displayName: 'New' });
      expect(created[TREE_SCHEMA]).toEqual({ parentId: g, ancestorIds: [g] });
      expect((await ok(scim.get(`/Groups/${created.id}`)))[TREE_SCHEMA]).toEqual({ parentId: g, ancestorIds: [g, r] });
    });

    it('groups:write restricted to two different groups cannot POST (403)', async () => {
      const { ws, scim } = await connectScim(h);
      const a = await ws.group('A');
      const b = await ws.group('B');
      const k = scim.as(await ws.key([`groups:write@${a}`, `groups:write@${b}`]));
      expectScimError(await k.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Where' }), 403);
      expect((await ok(scim.get('/Groups'))).totalResults).toBe(2);
    });
  });

  describe('POST and GET /Groups', () => {
    it('the documented resource: core + tree schemas, members with display/type/$ref, Location and ETag', async () => {
      const { ws, scim } = await connectScim(h);
      const alice = await user(scim, 'Alice Ng');
      const res = await scim.post('/Groups', { schemas: [GROUP_SCHEMA], externalId: 'x', displayName: 'Sales', members: [{ value: alice.id }] });
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE);
      const id = res.body.id;
      expect(res.body).toEqual({
        schemas: [GROUP_SCHEMA, TREE_SCHEMA],
        id: expect.stringMatching(/^[1-9][0-9]*$/),
        externalId: 'x',
        displayName: 'Sales',
        members: [{ value: alice.id, display: 'Alice Ng', type: 'User', $ref: `${scim.base}/Users/${alice.id}` }],
        [TREE_SCHEMA]: { parentId: null, ancestorIds: [] },
        meta: {
          resourceType: 'Group',
          created: expect.stringMatching(TIMESTAMP),
          lastModified: expect.stringMatching(TIMESTAMP),
          location: `${scim.base}/Groups/${id}`,
          version: expect.stringMatching(VERSION),
        },
      });
      expect(res.headers.get('location')).toBe(res.body.meta.location);
      expect(res.headers.get('etag')).toBe(res.body.meta.version);
      const one = await scim.get(`/Groups/${id}`);
      expect([one.status, one.headers.get('etag')]).toEqual([200, res.body.meta.version]);
      expect(one.body).toEqual(res.body);
      const data = await ws.ok('query($id: ID!) { group(id: $id) { name parent { id } members { nodes { id } } } }', { id });
      expect(data.group).toEqual({ name: 'Sales', parent: null, members: { nodes: [{ id: alice.id }] } });
    });

    it('the tree extension: parentId and ancestorIds nearest first; read-only (ignored in a POST)', async () => {
      const { ws, scim } = await connectScim(h);
      const a = await ws.group('A');
      const b = await ws.group('B', a);
      const c = await ws.group('C', b);
      expect((await ok(scim.get(`/Groups/${c}`)))[TREE_SCHEMA]).toEqual({ parentId: b, ancestorIds: [b, a] });
      expect((await ok(scim.get(`/Groups/${a}`)))[TREE_SCHEMA]).toEqual({ parentId: null, ancestorIds: [] });
      const res = await scim.post('/Groups', { schemas: [GROUP_SCHEMA, TREE_SCHEMA], displayName: 'Root?', [TREE_SCHEMA]: { parentId: c, ancestorIds: [c, b, a] } });
      expect(res.status).toBe(201);
      expect(res.body[TREE_SCHEMA]).toEqual({ parentId: null, ancestorIds: [] });
    });

    it('members: [] → 201 with none; application/json accepted', async () => {
      const { scim } = await connectScim(h);
      const res = await scim.post('/Groups', JSON.stringify({ schemas: [GROUP_SCHEMA], displayName: 'Empty', members: [] }), { 'content-type': 'application/json' });
      expect(res.status).toBe(201);
      expect(res.body.members ?? []).toEqual([]);
      expect(res.body).not.toHaveProperty('externalId');
    });

    it('members are users of the workspace only: type Group, an unknown id or another workspace’s user → 400 invalidValue, nothing written', async () => {
      const { ws, scim } = await connectScim(h);
      const u = await user(scim);
      const other = await connectScim(h);
      const theirs = await user(other.scim);
      const nested = await ws.group('Nested');
      for (const bad of [{ value: nested, type: 'Group' }, { value: UNKNOWN_ID }, { value: theirs.id }, { value: 'abc' }]) {
        expectScimError(await scim.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Bad', members: [{ value: u.id }, bad] }), 400, 'invalidValue');
      }
      expect((await ok(scim.get('/Groups'))).Resources.map((g: any) => g.id)).toEqual([nested]);
      expect(await h.db.prisma.groupMember.count({ where: { tenantId: ws.tenant.id } })).toBe(0);
    });

    it('404 for unknown, non-numeric and another workspace’s group ids', async () => {
      const { scim } = await connectScim(h);
      const other = await connectScim(h);
      const theirs = await postGroup(other.scim, { displayName: 'Theirs' });
      expectScimError(await scim.get(`/Groups/${UNKNOWN_ID}`), 404);
      expectScimError(await scim.get('/Groups/abc'), 404);
      expectScimError(await scim.get(`/Groups/${theirs.id}`), 404);
      expectScimError(await scim.delete(`/Groups/${theirs.id}`), 404);
      expect((await ok(other.scim.get(`/Groups/${theirs.id}`))).displayName).toBe('Theirs');
    });
  });

  describe('uniqueness of displayName among siblings', () => {
    it('duplicate (any case) under the same parent on POST or rename → 409 uniqueness; same name under other parents is fine', async () => {
      const { ws, scim } = await connectScim(h);
      await postGroup(scim, { displayName: 'Team' });
      expectScimError(await scim.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'TEAM' }), 409, 'uniqueness');
      const a = await ws.group('A');
      const b = await ws.group('B');
      const underA = scim.as(await ws.key([`groups:write@${a}`]));
      const underB = scim.as(await ws.key([`groups:write@${b}`]));
      const ta = await postGroup(underA, { displayName: 'Team' });
      const tb = await postGroup(underB, { displayName: 'team' });
      expect([ta[TREE_SCHEMA].parentId, tb[TREE_SCHEMA].parentId]).toEqual([a, b]);
      expectScimError(await underA.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'tEAM' }), 409, 'uniqueness');
      const other = await postGroup(underA, { displayName: 'Other' });
      expectScimError(await scim.patch(`/Groups/${other.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'TEAM' })), 409, 'uniqueness');
      expectScimError(await scim.put(`/Groups/${other.id}`, { schemas: [GROUP_SCHEMA], displayName: 'team' }), 409, 'uniqueness');
      expect((await ok(scim.get(`/Groups/${other.id}`))).displayName).toBe('Other');
      // Its own name in another case is not a conflict; a root may be called like A's child.
      expect((await scim.patch(`/Groups/${other.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'OTHER' }))).status).toBe(204);
      expect((await postGroup(scim, { displayName: 'Other' }))[TREE_SCHEMA].parentId).toBeNull();
    });
  });

  describe('PATCH /Groups', () => {
    it('members: Add, idempotent re-add, Remove a value list, members[value eq], absent removal, remove all, replace exact; 204', async () => {
      const { scim } = await connectScim(h);
      const [u1, u2, u3, u4] = [await user(scim), await user(scim), await user(scim), await user(scim)];
      const g = await postGroup(scim, { displayName: 'G' });
      const patch = (...ops: Record<string, unknown>[]) => scim.patch(`/Groups/${g.id}`, patchOp(...ops));
      const expectMembers = async (expected: string[]) => expect(sorted(await scimMembers(scim, g.id))).toEqual(sorted(expected));

      const added = await patch({ op: 'Add', path: 'members', value: [{ value: u1.id }, { value: u2.id }, { value: u3.id }] });
      expect([added.status, added.body]).toEqual([204, '']);
      await expectMembers([u1.id, u2.id, u3.id]);
      expect((await patch({ op: 'ADD', path: 'members', value: [{ value: u1.id }] })).status).toBe(204);
      await expectMembers([u1.id, u2.id, u3.id]);
      expect((await patch({ op: 'Remove', path: 'members', value: [{ value: u1.id }] })).status).toBe(204);
      await expectMembers([u2.id, u3.id]);
      expect((await patch({ op: 'remove', path: 'members', value: [{ value: u1.id }, { value: u4.id }] })).status).toBe(204);
      await expectMembers([u2.id, u3.id]);
      expect((await patch({ op: 'remove', path: `members[value eq "${u2.id}"]` })).status).toBe(204);
      await expectMembers([u3.id]);
      expect((await patch({ op: 'REMOVE', path: `members[value eq "${u4.id}"]` })).status).toBe(204);
      await expectMembers([u3.id]);
      expect((await patch({ op: 'add', path: 'members', value: [{ value: u1.id }, { value: u4.id }] })).status).toBe(204);
      expect((await patch({ op: 'remove', path: 'members' })).status).toBe(204);
      await expectMembers([]);
      expect((await patch({ op: 'add', path: 'members', value: [{ value: u1.id }, { value: u2.id }] })).status).toBe(204);
      expect((await patch({ op: 'Replace', path: 'members', value: [{ value: u2.id }, { value: u3.id }, { value: u4.id }] })).status).toBe(204);
      await expectMembers([u2.id, u3.id, u4.id]);
      expect(await dbMembers(h, g.id)).toEqual(sorted([u2.id, u3.id, u4.id]));
      // add without a path: a value object with members
      expect((await patch({ op: 'add', value: { members: [{ value: u1.id }] } })).status).toBe(204);
      await expectMembers([u1.id, u2.id, u3.id, u4.id]);
    });

    it('rename by value object (with id) or path; externalId; with attributes → 200 and the resource', async () => {
      const { ws, scim } = await connectScim(h);
      const g = await postGroup(scim, { displayName: 'Old', externalId: 'e1' });
      expect((await scim.patch(`/Groups/${g.id}`, patchOp({ op: 'replace', value: { id: g.id, displayName: 'New' } }))).status).toBe(204);
      expect((await ok(scim.get(`/Groups/${g.id}`))).displayName).toBe('New');
      expect((await scim.patch(`/Groups/${g.id}`, patchOp({ op: 'Replace', path: 'displayName', value: 'Newer' }))).status).toBe(204);
      expect((await scim.patch(`/Groups/${g.id}`, patchOp({ op: 'replace', path: 'externalId', value: 'e2' }))).status).toBe(204);
      const full = await ok(scim.get(`/Groups/${g.id}`));
      expect([full.displayName, full.externalId]).toEqual(['Newer', 'e2']);
      expect((await ws.ok('query($id: ID!) { group(id: $id) { name } }', { id: g.id })).group.name).toBe('Newer');
      const withAttrs = await scim.patch(`/Groups/${g.id}?attributes=displayName`, patchOp({ op: 'replace', path: 'displayName', value: 'Last' }));
      expect(withAttrs.status).toBe(200);
      expect(withAttrs.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE);
      expect(withAttrs.body).toEqual({ schemas: [GROUP_SCHEMA, TREE_SCHEMA], id: g.id, displayName: 'Last' });
      expect((await scim.patch(`/Groups/${g.id}`, patchOp({ op: 'remove', path: 'externalId' }))).status).toBe(204);
      expect(await ok(scim.get(`/Groups/${g.id}`))).not.toHaveProperty('externalId');
    });

    it('is atomic: a bad op, a nested group or an unknown user anywhere in the request changes nothing', async () => {
      const { ws, scim } = await connectScim(h);
      const [u1, u2] = [await user(scim), await user(scim)];
      const g = await postGroup(scim, { displayName: 'G', members: [{ value: u1.id }] });
      const other = await ws.group('Other');
      const patch = (...ops: Record<string, unknown>[]) => scim.patch(`/Groups/${g.id}`, patchOp(...ops));
      const bad = await patch(
        { op: 'add', path: 'members', value: [{ value: u2.id }] },
        { op: 'frobnicate', path: 'members', value: [{ value: u1.id }] },
        { op: 'replace', path: 'displayName', value: 'Renamed' },
      );
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '400' });
      expectScimError(await patch({ op: 'replace', path: 'displayName', value: 'Renamed' }, { op: 'add', path: 'members', value: [{ value: other, type: 'Group' }] }), 400, 'invalidValue');
      expectScimError(await patch({ op: 'remove', path: 'members', value: [{ value: u1.id }] }, { op: 'add', path: 'members', value: [{ value: u2.id }, { value: UNKNOWN_ID }] }), 400, 'invalidValue');
      expectScimError(await patch({ op: 'replace', path: 'members', value: [{ value: u2.id }, { value: UNKNOWN_ID }] }), 400, 'invalidValue');
      expectScimError(await patch({ op: 'add', path: 'members', value: [{ value: u2.id }] }, { op: 'replace', path: 'bogusAttribute', value: 'x' }), 400, 'invalidPath');
      const now = await ok(scim.get(`/Groups/${g.id}`));
      expect([now.displayName, now.members.map((m: any) => m.value), now.meta.version]).toEqual(['G', [u1.id], g.meta.version]);
      expect(await dbMembers(h, g.id)).toEqual([u1.id]);
    });
  });

  describe('PUT and DELETE /Groups', () => {
    it('PUT replaces displayName, externalId and members (absent → cleared); the place in the tree stays', async () => {
      const { ws, scim } = await connectScim(h);
      const [u1, u2] = [await user(scim), await user(scim)];
      const parent = await ws.group('Parent');
      const g = await ws.group('G', parent);
      await scim.patch(`/Groups/${g}`, patchOp({ op: 'add', path: 'members', value: [{ value: u1.id }] }, { op: 'add', path: 'externalId', value: 'e1' }));
      const before = await ok(scim.get(`/Groups/${g}`));
      const res = await scim.put(`/Groups/${g}`, { schemas: [GROUP_SCHEMA], displayName: 'G2', members: [{ value: u2.id }] });
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe(res.body.meta.version);
      expect(res.body).toEqual({
        schemas: [GROUP_SCHEMA, TREE_SCHEMA],
        id: g,
        displayName: 'G2',
        members: [{ value: u2.id, display: u2.displayName, type: 'User', $ref: `${scim.base}/Users/${u2.id}` }],
        [TREE_SCHEMA]: { parentId: parent, ancestorIds: [parent] },
        meta: { ...before.meta, lastModified: expect.stringMatching(TIMESTAMP), version: expect.stringMatching(VERSION) },
      });
      expect(res.body.meta.version).not.toBe(before.meta.version);
      const cleared = await scim.put(`/Groups/${g}`, { schemas: [GROUP_SCHEMA], displayName: 'G3' });
      expect(cleared.status).toBe(200);
      expect(await dbMembers(h, g)).toEqual([]);
      expect(cleared.body.members ?? []).toEqual([]);
      expect(cleared.body).not.toHaveProperty('externalId');
    });

    it('DELETE: 204, then 404; children become roots', async () => {
      const { ws, scim } = await connectScim(h);
      const top = await ws.group('Top');
      const p = await ws.group('P', top);
      const c = await ws.group('C', p);
      const gc = await ws.group('GC', c);
      await scim.patch(`/Groups/${p}`, patchOp({ op: 'add', path: 'members', value: [{ value: (await user(scim)).id }] }));
      const res = await scim.delete(`/Groups/${p}`);
      expect([res.status, res.body]).toEqual([204, '']);
      expectScimError(await scim.get(`/Groups/${p}`), 404);
      expectScimError(await scim.delete(`/Groups/${p}`), 404);
      expect((await ok(scim.get(`/Groups/${c}`)))[TREE_SCHEMA]).toEqual({ parentId: null, ancestorIds: [] });
      expect((await ok(scim.get(`/Groups/${gc}`)))[TREE_SCHEMA]).toEqual({ parentId: c, ancestorIds: [c] });
      expect((await ok(scim.get('/Groups'))).Resources.map((g: any) => g.id)).toEqual([top, c, gc]);
    });
  });

  describe('filters, paging and attributes on /Groups', () => {
    let scim: Scim;
    let g: any[];
    let u: { id: string }[];
    const q = async (expression: string) => {
      const res = await scim.get(`/Groups?${filter(expression)}`);
      if (res.status !== 200) throw new Error(`${expression}: ${res.status} ${JSON.stringify(res.body)}`);
      expect(res.body.totalResults).toBe(res.body.Resources.length);
      return resourceIds(res);
    };
    const of = (...indexes: number[]) => indexes.map((i) => g[i].id);

    beforeAll(async () => {
      ({ scim } = await connectScim(h));
      u = [await user(scim), await user(scim)];
      g = [];
      for (const body of [
        { displayName: 'Sales', externalId: 'x-1', members: [{ value: u[0].id }] },
        { displayName: 'Sales EMEA', members: [{ value: u[0].id }, { value: u[1].id }] },
        { displayName: 'Engineering', externalId: 'x-3' },
        { displayName: 'Support', externalId: 'x-4', members: [{ value: u[1].id }] },
      ]) {
        g.push(await postGroup(scim, body));
        await h.clockPast(g.at(-1).meta.lastModified); // distinct meta.created / lastModified
      }
    });

    it('every operator, and/or/not/parentheses, members.value, members[value eq], meta dates, any case', async () => {
      expect(await q('displayName eq "Sales"')).toEqual(of(0));
      expect(await q('displayName ne "Sales"')).toEqual(of(1, 2, 3));
      expect(await q('displayName co "ale"')).toEqual(of(0, 1));
      expect(await q('displayName sw "S"')).toEqual(of(0, 1, 3));
      expect(await q('displayName ew "EMEA"')).toEqual(of(1));
      expect(await q('displayName gt "Sales"')).toEqual(of(1, 3));
      expect(await q('displayName ge "Sales"')).toEqual(of(0, 1, 3));
      expect(await q('displayName lt "Sales"')).toEqual(of(2));
      expect(await q('displayName le "Sales"')).toEqual(of(0, 2));
      expect(await q('externalId pr')).toEqual(of(0, 2, 3));
      expect(await q('externalId eq "x-3"')).toEqual(of(2));
      expect(await q(`id eq "${g[1].id}"`)).toEqual(of(1));
      expect(await q(`members.value eq "${u[0].id}"`)).toEqual(of(0, 1));
      expect(await q(`members[value eq "${u[1].id}"]`)).toEqual(of(1, 3));
      expect(await q(`meta.created gt "${g[1].meta.created}"`)).toEqual(of(2, 3));
      expect(await q(`meta.lastModified le "${g[1].meta.lastModified}"`)).toEqual(of(0, 1));
      expect(await q(`meta.lastModified ge "${g[2].meta.lastModified}" and meta.created lt "${g[3].meta.created}"`)).toEqual(of(2));
      expect(await q(`not (members.value eq "${u[0].id}") and displayName sw "S"`)).toEqual(of(3));
      expect(await q('displayName eq "Engineering" or (externalId pr and displayName co "port")')).toEqual(of(2, 3));
      expect(await q('DISPLAYNAME EQ "Support" OR DisplayName Ew "EMEA"')).toEqual(of(1, 3));
      expect(await q('displayName eq "Nobody"')).toEqual([]);
    });

    it('unknown attribute or malformed → 400 invalidFilter', async () => {
      for (const bad of ['userName eq "x"', 'parentId eq "1"', 'displayName eq', 'displayName eq "x" or', '(displayName eq "x"', 'members[value eq "1"', 'displayName like "x"']) {
        const res = await scim.get(`/Groups?${filter(bad)}`);
        expect({ bad, status: res.status, body: res.body }).toEqual({ bad, status: 400, body: scimError(400, 'invalidFilter') });
      }
    });

    it('paging 1-based by id; matching nothing → totalResults 0, Resources []', async () => {
      const page = await ok(scim.get('/Groups?startIndex=2&count=2'));
      expect({ ...page, Resources: page.Resources.map((r: any) => r.id) }).toEqual({ schemas: [LIST_SCHEMA], totalResults: 4, itemsPerPage: 2, startIndex: 2, Resources: of(1, 2) });
      expect(await ok(scim.get('/Groups?startIndex=5'))).toEqual({ schemas: [LIST_SCHEMA], totalResults: 4, itemsPerPage: 0, startIndex: 5, Resources: [] });
      const zero = await ok(scim.get('/Groups?count=0'));
      expect([zero.totalResults, zero.Resources ?? []]).toEqual([4, []]);
      expect(await ok(scim.get(`/Groups?${filter('displayName eq "Nobody"')}`))).toEqual({ schemas: [LIST_SCHEMA], totalResults: 0, itemsPerPage: 0, startIndex: 1, Resources: [] });
    });

    it('attributes / excludedAttributes with sub-attributes; id and schemas always', async () => {
      const one = await ok(scim.get(`/Groups/${g[1].id}?attributes=members.value`));
      expect(one).toEqual({ schemas: [GROUP_SCHEMA, TREE_SCHEMA], id: g[1].id, members: [{ value: u[0].id }, { value: u[1].id }] });
      const list = await ok(scim.get(`/Groups?attributes=DisplayName&${filter('displayName sw "Sales"')}`));
      expect(list.Resources).toEqual([
        { schemas: [GROUP_SCHEMA, TREE_SCHEMA], id: g[0].id, displayName: 'Sales' },
        { schemas: [GROUP_SCHEMA, TREE_SCHEMA], id: g[1].id, displayName: 'Sales EMEA' },
      ]);
      const excluded = await ok(scim.get(`/Groups/${g[0].id}?excludedAttributes=members,meta,id,schemas`));
      expect(excluded).toEqual({ schemas: [GROUP_SCHEMA, TREE_SCHEMA], id: g[0].id, displayName: 'Sales', externalId: 'x-1', [TREE_SCHEMA]: { parentId: null, ancestorIds: [] } });
      const full = await ok(scim.get(`/Groups/${g[3].id}`));
      const { members: _m, ...withoutMembers } = full;
      expect((await ok(scim.get(`/Groups?excludedAttributes=members&${filter(`id eq "${g[3].id}"`)}`))).Resources).toEqual([withoutMembers]);
    });
  });

  describe('ETags', () => {
    it('meta.version changes with members, name, externalId and a move; If-Match stale → 412, nothing changes; * matches', async () => {
      const { ws, scim } = await connectScim(h);
      const [u1, u2] = [await user(scim), await user(scim)];
      const elsewhere = await ws.group('Elsewhere');
      const g = await postGroup(scim, { displayName: 'G' });
      const versions = [g.meta.version];
      const current = async () => {
        const res = await scim.get(`/Groups/${g.id}`);
        expect(res.headers.get('etag')).toBe(res.body.meta.version);
        return res.body;
      };
      const write = async (...ops: Record<string, unknown>[]) => {
        const res = await scim.patch(`/Groups/${g.id}`, patchOp(...ops), { 'if-match': versions[versions.length - 1] });
        expect(res.status).toBe(204);
        versions.push((await current()).meta.version);
      };
      await write({ op: 'add', path: 'members', value: [{ value: u1.id }] });
      await write({ op: 'add', path: 'members', value: [{ value: u2.id }] });
      await write({ op: 'remove', path: 'members', value: [{ value: u1.id }] });
      await write({ op: 'replace', path: 'displayName', value: 'G2' });
      await write({ op: 'replace', path: 'externalId', value: 'e' });
      await ws.ok('mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p }) { id } }', { id: g.id, p: elsewhere });
      versions.push((await current()).meta.version);
      await ws.addMember(g.id, u1.id); // a member change through GraphQL counts too
      versions.push((await current()).meta.version);
      expect(new Set(versions).size).toBe(versions.length);
      for (const v of versions) expect(v).toMatch(VERSION);

      const latest = versions[versions.length - 1];
      const stale = versions[versions.length - 2];
      expectScimError(await scim.patch(`/Groups/${g.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: u1.id }, { value: u2.id }] }, { op: 'replace', path: 'displayName', value: 'Stale' }), { 'if-match': stale }), 412);
      expectScimError(await scim.put(`/Groups/${g.id}`, { schemas: [GROUP_SCHEMA], displayName: 'Stale' }, { 'if-match': versions[0] }), 412);
      expectScimError(await scim.delete(`/Groups/${g.id}`, { 'if-match': stale }), 412);
      const after = await current();
      expect([after.meta.version, after.displayName, sorted(after.members.map((m: any) => m.value))]).toEqual([latest, 'G2', sorted([u1.id, u2.id])]);
      const star = await scim.patch(`/Groups/${g.id}?attributes=displayName`, patchOp({ op: 'replace', path: 'displayName', value: 'Star' }), { 'if-match': '*' });
      expect([star.status, star.body.displayName]).toEqual([200, 'Star']);
      expect(star.headers.get('etag')).toMatch(VERSION);
      expect(star.headers.get('etag')).not.toBe(latest);
      expect((await scim.delete(`/Groups/${g.id}`, { 'if-match': '*' })).status).toBe(204);
    });
  });

  describe('audit', () => {
    it('SCIM group writes are in the trail with the key as actor', async () => {
      const { ws, scim: admin } = await connectScim(h);
      const [u1, u2] = [await user(admin), await user(admin)];
      const key = await ws.key(['groups:write']);
      const ref = await keyRef(ws, key);
      const scim = admin.as(key);
      const g = await postGroup(scim, { displayName: 'Audited' });
      await scim.patch(`/Groups/${g.id}`, patchOp({ op: 'add', path: 'members', value: [{ value: u1.id }, { value: u2.id }] }));
      await scim.patch(`/Groups/${g.id}`, patchOp({ op: 'remove', path: 'members', value: [{ value: u1.id }] }));
      await scim.patch(`/Groups/${g.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'Renamed' }));
      await scim.patch(`/Groups/${g.id}`, patchOp({ op: 'replace', path: 'externalId', value: 'ext' }));
      expect((await scim.delete(`/Groups/${g.id}`)).status).toBe(204);
      const events = (await ws.ok(AUDIT, { filter: { actor: ref } })).auditEvents.nodes;
      const target = { type: 'Group', id: g.id };
      const actor = { kind: 'API_KEY', ref };
      expect(events.map((e: any) => [e.action, e.actor, e.target])).toEqual([
        ['GROUP_CREATED', actor, target],
        ['MEMBERS_SYNCED', actor, target],
        ['MEMBERS_SYNCED', actor, target],
        ['GROUP_RENAMED', actor, target],
        ['GROUP_EXTERNAL_ID_CHANGED', actor, target],
        ['GROUP_DELETED', actor, target],
      ]);
      expect(changesOf(events[0])).toMatchObject({ name: [null, 'Audited'] });
      expect(changesOf(events[1]).added).toEqual([null, sorted([u1.id, u2.id]).map(Number)]);
      expect(changesOf(events[2]).removed).toEqual([[Number(u1.id)], null]);
      expect(changesOf(events[3])).toEqual({ name: ['Audited', 'Renamed'] });
      expect(Object.values(changesOf(events[4]))).toEqual([[null, 'ext']]);
      expect(changesOf(events[5])).toMatchObject({ name: ['Renamed', null] });
      const synced = (await ws.ok(AUDIT, { filter: { action: 'MEMBERS_SYNCED' } })).auditEvents.nodes;
      expect(synced.map((e: any) => e.actor.ref)).toEqual([ref, ref]);
    });
  });

  describe('a 10,000-member PATCH', () => {
    it('Add 10,000 (on a server that served small member PATCHes before the users existed), Remove 6,000, Remove all 10,000: exact members each time', async () => {
      const { ws, scim } = await connectScim(h);
      // First the ordinary member PATCHes of a running server, on a small group, before the users arrive.
      const [u1, u2, u3, u4] = [await user(scim), await user(scim), await user(scim), await user(scim)];
      const small = await postGroup(scim, { displayName: 'Small' });
      for (const op of [
        { op: 'Add', path: 'members', value: [{ value: u1.id }, { value: u2.id }, { value: u3.id }] },
        { op: 'ADD', path: 'members', value: [{ value: u1.id }] },
        { op: 'Remove', path: 'members', value: [{ value: u1.id }] },
        { op: 'remove', path: 'members', value: [{ value: u1.id }, { value: u4.id }] },
        { op: 'remove', path: `members[value eq "${u2.id}"]` },
        { op: 'REMOVE', path: `members[value eq "${u4.id}"]` },
        { op: 'add', path: 'members', value: [{ value: u1.id }, { value: u4.id }] },
        { op: 'remove', path: 'members' },
        { op: 'add', path: 'members', value: [{ value: u1.id }, { value: u2.id }] },
        { op: 'Replace', path: 'members', value: [{ value: u2.id }, { value: u3.id }, { value: u4.id }] },
        { op: 'add', value: { members: [{ value: u1.id }] } },
      ]) {
        const res = await scim.patch(`/Groups/${small.id}`, patchOp(op));
        expect(res.status).toBe(204);
      }
      const everyone = await bulkUsers(h, ws, 10_000);
      expect(everyone).toHaveLength(10_000);
      // An IdP sends these users over minutes, in which autovacuum (PostgreSQL) and the embedded
      // database's analyzer (src/db/analyze.ts) bring the statistics, and the foreign-key checks
      // planned when the table was small, up to date: what they would do, done now.
      await h.db.raw.exec('ANALYZE users');
      const g = await postGroup(scim, { displayName: 'Big' });
      const count = async () => (await ws.ok('query($id: ID!) { group(id: $id) { memberCount } }', { id: g.id })).group.memberCount;
      const patch = async (op: Record<string, unknown>) => {
        const res = await scim.patch(`/Groups/${g.id}`, patchOp(op));
        expect([res.status, res.body]).toEqual([204, '']);
      };
      const values = (list: string[]) => list.map((value) => ({ value }));
      await patch({ op: 'Add', path: 'members', value: values(everyone) });
      expect(await count()).toBe(10_000);
      expect(await dbMembers(h, g.id)).toEqual(everyone);
      await patch({ op: 'Remove', path: 'members', value: values(everyone.slice(0, 6_000)) });
      expect(await count()).toBe(4_000);
      expect(await dbMembers(h, g.id)).toEqual(everyone.slice(6_000));
      await patch({ op: 'Remove', path: 'members', value: values(everyone) });
      expect(await count()).toBe(0);
      expect(await dbMembers(h, g.id)).toEqual([]);
    }, 120_000);
  });
});
