// Conformance with the documented Groups REST API, endpoint by endpoint, with its examples.
import { eachBackend } from '../support/harness';
import { GROUP_FIELDS, Rest, type RestGroup } from '../support/rest';

const ids = (groups: RestGroup[]) => groups.map((g) => g.id);

eachBackend('REST groups (documented API)', (h) => {
  describe('the Group object', () => {
    it('has exactly the documented fields, with integer ids', async () => {
      const api = new Rest(await h.workspace());
      const engineering = await api.group('Engineering', undefined, 'Engineering team');
      expect(Object.keys(engineering).sort()).toEqual(GROUP_FIELDS);
      expect(engineering).toEqual({
        id: expect.any(Number),
        name: 'Engineering',
        description: 'Engineering team',
        parentGroupId: null,
        tenantId: api.ws.tenant.id,
      });
      expect(Number.isInteger(engineering.id)).toBe(true);
    });
  });

  describe('GET /groups', () => {
    it('answers the documented example: every group, nested ones included, with meta', async () => {
      const api = new Rest(await h.workspace());
      const engineering = await api.group('Engineering');
      const backend = await api.group('Backend', engineering.id);
      const res = await api.get('/groups');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const tenantId = api.ws.tenant.id;
      expect(res.body).toEqual({
        data: [
          { id: engineering.id, name: 'Engineering', description: null, parentGroupId: null, tenantId },
          { id: backend.id, name: 'Backend', description: null, parentGroupId: engineering.id, tenantId },
        ],
        meta: { total: 2, offset: 0, limit: 20 },
      });
    });

    it('orders by id and pages with offset and limit, the total counting every group', async () => {
      const api = new Rest(await h.workspace());
      const root = await api.group('Root');
      const created = [root];
      for (const name of ['A', 'B', 'C', 'D']) created.push(await api.group(name, created[created.length - 1].id));
      const page = await api.get('/groups?offset=1&limit=2');
      expect(page.status).toBe(200);
      expect(ids(page.body.data)).toEqual(ids(created.slice(1, 3)));
      expect(page.body.meta).toEqual({ total: 5, offset: 1, limit: 2 });
      const last = await api.get('/groups?offset=4&limit=100');
      expect(ids(last.body.data)).toEqual([created[4].id]);
      const past = await api.get('/groups?offset=10');
      expect(past.body).toEqual({ data: [], meta: { total: 5, offset: 10, limit: 20 } });
    });

    it('lists only the groups of the key’s own workspace', async () => {
      const mine = new Rest(await h.workspace());
      const theirs = new Rest(await h.workspace());
      await theirs.group('Theirs');
      const own = await mine.group('Mine');
      const res = await mine.get('/groups');
      expect(ids(res.body.data)).toEqual([own.id]);
    });

    it('ignores query parameters it does not document', async () => {
      const api = new Rest(await h.workspace());
      const a = await api.group('Alpha');
      const b = await api.group('Beta', a.id);
      const res = await api.get(`/groups?search=Beta&parentId=${a.id}&rootsOnly=true`);
      expect(res.status).toBe(200);
      expect(ids(res.body.data)).toEqual([a.id, b.id]);
    });
  });

  describe('POST /groups', () => {
    it('creates the documented example under its parent and answers 201 with the group', async () => {
      const api = new Rest(await h.workspace());
      const engineering = await api.group('Engineering');
      const res = await api.post('/groups', { name: 'Backend', description: 'Backend engineering', parentGroupId: engineering.id });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(Number),
        name: 'Backend',
        description: 'Backend engineering',
        parentGroupId: engineering.id,
        tenantId: api.ws.tenant.id,
      });
      expect((await api.get(`/groups/${res.body.id}`)).body).toEqual(res.body);
    });

    it('creates a root group when parentGroupId is omitted or null, with a null description by default', async () => {
      const api = new Rest(await h.workspace());
      const omitted = await api.post('/groups', { name: 'Omitted' });
      const nulled = await api.post('/groups', { name: 'Nulled', parentGroupId: null, description: null });
      for (const res of [omitted, nulled]) {
        expect(res.status).toBe(201);
        expect(res.body).toMatchObject({ parentGroupId: null, description: null });
      }
    });

    it('trims the name', async () => {
      const api = new Rest(await h.workspace());
      const res = await api.post('/groups', { name: '  Sales  ' });
      expect(res.body.name).toBe('Sales');
    });
  });

  describe('GET /groups/{groupId}', () => {
    it('answers 200 with the group', async () => {
      const api = new Rest(await h.workspace());
      const parent = await api.group('Parent');
      const child = await api.group('Child', parent.id, 'a child');
      const res = await api.get(`/groups/${child.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(child);
    });
  });

  describe('PUT /groups/{groupId}', () => {
    it('applies the documented example and answers 200 with the updated group', async () => {
      const api = new Rest(await h.workspace());
      const engineering = await api.group('Engineering');
      const backend = await api.group('Backend', engineering.id, 'Backend engineering');
      const res = await api.put(`/groups/${backend.id}`, { name: 'Backend Platform', description: 'Updated description' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ...backend, name: 'Backend Platform', description: 'Updated description' });
      expect((await api.get(`/groups/${backend.id}`)).body).toEqual(res.body);
    });

    it('leaves absent fields unchanged, moves with parentGroupId and makes a root with null', async () => {
      const api = new Rest(await h.workspace());
      const a = await api.group('A');
      const b = await api.group('B');
      const c = await api.group('C', a.id, 'kept');
      const moved = await api.put(`/groups/${c.id}`, { parentGroupId: b.id });
      expect(moved.body).toEqual({ ...c, parentGroupId: b.id });
      const renamed = await api.put(`/groups/${c.id}`, { name: 'C2' });
      expect(renamed.body).toEqual({ ...c, name: 'C2', parentGroupId: b.id });
      const rooted = await api.put(`/groups/${c.id}`, { parentGroupId: null });
      expect(rooted.body).toEqual({ ...c, name: 'C2', parentGroupId: null });
      const unchanged = await api.put(`/groups/${c.id}`, {});
      expect(unchanged.status).toBe(200);
      expect(unchanged.body).toEqual(rooted.body);
    });

    it('clears the description with null', async () => {
      const api = new Rest(await h.workspace());
      const g = await api.group('G', null, 'something');
      const res = await api.put(`/groups/${g.id}`, { description: null });
      expect(res.body.description).toBeNull();
    });
  });

  describe('DELETE /groups/{groupId}', () => {
    it('answers 204, removes the memberships and makes the children root groups', async () => {
      const api = new Rest(await h.workspace());
      const top = await api.group('Top');
      const mid = await api.group('Mid', top.id);
      const kid = await api.group('Kid', mid.id);
      const grandkid = await api.group('Grandkid', kid.id);
      const user = await api.user();
      expect((await api.post(`/groups/${mid.id}/members/${user}`)).status).toBe(204);

      const res = await api.delete(`/groups/${mid.id}`);
      expect(res.status).toBe(204);
      expect(res.body).toBe('');
      expect((await api.get(`/groups/${mid.id}`)).status).toBe(404);
      expect((await api.get(`/groups/${kid.id}`)).body.parentGroupId).toBeNull();
      expect((await api.get(`/groups/${grandkid.id}`)).body.parentGroupId).toBe(kid.id);
      const user2 = await api.ws.ok('query($id: ID!) { user(id: $id) { groups { nodes { id } totalCount } } }', { id: String(user) });
      expect(user2.user.groups).toEqual({ nodes: [], totalCount: 0 });
      expect(ids((await api.get('/groups')).body.data)).toEqual([top.id, kid.id, grandkid.id]);
    });
  });

  describe('POST /groups/{groupId}/members/{userId}', () => {
    it('adds the user with 204 and is idempotent', async () => {
      const api = new Rest(await h.workspace());
      const g = await api.group('G');
      const user = await api.user();
      for (let i = 0; i < 2; i += 1) {
        const res = await api.post(`/groups/${g.id}/members/${user}`);
        expect(res.status).toBe(204);
        expect(res.body).toBe('');
      }
      expect(await api.memberIds(g.id)).toEqual([user]);
    });
  });

  describe('DELETE /groups/{groupId}/members/{userId}', () => {
    it('removes the user with 204 and is idempotent', async () => {
      const api = new Rest(await h.workspace());
      const g = await api.group('G');
      const [stays, leaves] = [await api.user(), await api.user()];
      await api.post(`/groups/${g.id}/members/${stays}`);
      await api.post(`/groups/${g.id}/members/${leaves}`);
      for (let i = 0; i < 2; i += 1) {
        expect((await api.delete(`/groups/${g.id}/members/${leaves}`)).status).toBe(204);
      }
      expect(await api.memberIds(g.id)).toEqual([stays]);
    });
  });

  describe('clients that send Content-Type: application/json on every request', () => {
    it('accepts an empty body on the routes that take none', async () => {
      const api = new Rest(await h.workspace());
      const g = await api.group('G');
      const user = await api.user();
      const json = { headers: { 'content-type': 'application/json' }, rawBody: '' };
      expect((await api.request('POST', `/groups/${g.id}/members/${user}`, json)).status).toBe(204);
      expect((await api.request('DELETE', `/groups/${g.id}/members/${user}`, json)).status).toBe(204);
      expect((await api.request('DELETE', `/groups/${g.id}`, json)).status).toBe(204);
    });
  });

  it('carries an x-request-id on every response', async () => {
    const api = new Rest(await h.workspace());
    const res = await api.request('GET', '/groups', { headers: { 'x-request-id': 'rest-trace-1' } });
    expect(res.headers.get('x-request-id')).toBe('rest-trace-1');
  });
});
