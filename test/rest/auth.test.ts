// REST authentication (401) and scopes (403, RFC 6750), restricted scopes included:
// the same rules as GraphQL, enforced by the same auth and domain code.
import { OPERATOR, createApiKey, revokeApiKey } from '../../src/domain/apikeys';
import { type Workspace, eachBackend } from '../support/harness';
import { Rest, type RestErrorBody, errorCode } from '../support/rest';
import type { Response } from '../support/harness';

function expectUnauthenticated(res: Response<RestErrorBody>): void {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe('Bearer');
  expect(res.body).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
}

function expectInsufficientScope(res: Response<RestErrorBody>, scope: string): void {
  expect(res.status).toBe(403);
  expect(res.headers.get('www-authenticate')).toBe(`Bearer error="insufficient_scope", scope="${scope}"`);
  expect(res.body.error).toEqual({ code: 'insufficient_scope', message: expect.any(String), details: { requiredScopes: [scope] } });
}

/** An id no workspace has. */
const UNKNOWN_ID = 2_147_483_000;

type RequestFor = (groupId: number) => [method: string, path: string, body?: unknown];

/**
 * A request naming a group the key cannot read gets exactly the answer of one naming an id that
 * does not exist (the id itself aside): nothing tells the group exists.
 */
async function expectSameAsUnknown(api: Rest, hidden: number, requestFor: RequestFor, status: number): Promise<void> {
  const answer = async (id: number) => {
    const [method, path, body] = requestFor(id);
    const res = await api.request(method, path, body === undefined ? {} : { body });
    const mask = (text: string) => text.replace(new RegExp(`(?<![0-9])${id}(?![0-9])`, 'g'), '<id>');
    return { status: res.status, authenticate: res.headers.get('www-authenticate'), body: JSON.parse(mask(JSON.stringify(res.body))) };
  };
  const unknown = await answer(UNKNOWN_ID);
  expect(unknown.status).toBe(status);
  expect(await answer(hidden)).toEqual(unknown);
}

async function keyWithRecord(ws: Workspace, scopes: string[]) {
  return createApiKey(ws.ctx, OPERATOR, { name: 'test', scopes });
}

eachBackend('REST authentication and scopes', (h) => {
  describe('401 Unauthorized', () => {
    it('answers a request without credentials, or with a malformed or unknown key', async () => {
      const api = new Rest(await h.workspace());
      expectUnauthenticated(await api.as(null).get('/groups'));
      expectUnauthenticated(await api.request('GET', '/groups', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }));
      expectUnauthenticated(await api.as(`kauth_${api.ws.tenant.slug}_not-a-real-secret`).get('/groups'));
      expectUnauthenticated(await api.as('not-a-key').get('/groups'));
    });

    it('answers an expired or revoked key', async () => {
      const ws = await h.workspace();
      const expired = await keyWithRecord(ws, ['groups:read']);
      await h.db.prisma.apiKey.update({ where: { id: expired.apiKey.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
      const revoked = await keyWithRecord(ws, ['groups:read']);
      const api = new Rest(ws, revoked.key);
      expect((await api.get('/groups')).status).toBe(200);
      await revokeApiKey(ws.ctx, OPERATOR, revoked.apiKey.id);
      expectUnauthenticated(await api.get('/groups'));
      expectUnauthenticated(await api.as(expired.key).get('/groups'));
    });

    it('answers a key of another workspace, even one with every scope', async () => {
      const mine = new Rest(await h.workspace());
      const theirs = await h.workspace();
      expectUnauthenticated(await mine.as(theirs.adminKey).get('/groups'));
      expectUnauthenticated(await mine.as(theirs.adminKey).post('/groups', { name: 'Intruder' }));
      expect((await mine.get('/groups')).body.meta.total).toBe(0);
    });

    it('answers an unknown workspace slug', async () => {
      const ws = await h.workspace();
      const res = await h.request('GET', '/t/no-such-workspace/api/v1/groups', { headers: { authorization: `Bearer ${ws.adminKey}` } });
      expectUnauthenticated(res);
    });

    it('comes before input validation and routing', async () => {
      const api = new Rest(await h.workspace()).as(null);
      expectUnauthenticated(await api.get('/groups/abc'));
      expectUnauthenticated(await api.request('POST', '/groups', { headers: { 'content-type': 'text/plain' }, rawBody: 'x' }));
      expectUnauthenticated(await api.get('/no-such-route'));
    });
  });

  describe('403 Forbidden', () => {
    it('requires groups:read to read, groups:write to change groups', async () => {
      const ws = await h.workspace();
      const api = new Rest(ws);
      const g = await api.group('G');
      const reader = api.as(await ws.key(['groups:read']));
      expect((await reader.get('/groups')).status).toBe(200);
      expect((await reader.get(`/groups/${g.id}`)).status).toBe(200);
      expectInsufficientScope(await reader.post('/groups', { name: 'X' }), 'groups:write');
      expectInsufficientScope(await reader.put(`/groups/${g.id}`, { name: 'X' }), 'groups:write');
      expectInsufficientScope(await reader.delete(`/groups/${g.id}`), 'groups:write');

      const usersOnly = api.as(await ws.key(['users:read']));
      expectInsufficientScope(await usersOnly.get('/groups'), 'groups:read');
      expectInsufficientScope(await usersOnly.get(`/groups/${g.id}`), 'groups:read');
    });

    it('requires groups:members:write for members, which groups:write implies and groups:read does not', async () => {
      const ws = await h.workspace();
      const api = new Rest(ws);
      const g = await api.group('G');
      const user = await api.user();
      const reader = api.as(await ws.key(['groups:read']));
      expectInsufficientScope(await reader.post(`/groups/${g.id}/members/${user}`), 'groups:members:write');
      expectInsufficientScope(await reader.delete(`/groups/${g.id}/members/${user}`), 'groups:members:write');

      const memberWriter = api.as(await ws.key(['groups:members:write']));
      expect((await memberWriter.post(`/groups/${g.id}/members/${user}`)).status).toBe(204);
      expect((await memberWriter.get(`/groups/${g.id}`)).status).toBe(200);
      expectInsufficientScope(await memberWriter.post('/groups', { name: 'X' }), 'groups:write');

      const writer = api.as(await ws.key(['groups:write']));
      expect((await writer.delete(`/groups/${g.id}/members/${user}`)).status).toBe(204);
      expect(await api.memberIds(g.id)).toEqual([]);
    });

    it('comes before input validation', async () => {
      const ws = await h.workspace();
      const reader = new Rest(ws, await ws.key(['groups:read']));
      expectInsufficientScope(await reader.post('/groups', { unknown: true }), 'groups:write');
      expectInsufficientScope(await reader.put('/groups/abc', {}), 'groups:write');
    });
  });

  describe('restricted scopes (<scope>@<groupId>)', () => {
    it('lets groups:members:write@A change members inside A’s subtree only', async () => {
      const ws = await h.workspace();
      const api = new Rest(ws);
      const a = await api.group('A');
      const a1 = await api.group('A1', a.id);
      const b = await api.group('B');
      const user = await api.user();
      const restricted = api.as(await ws.key([`groups:members:write@${a.id}`]));
      expect((await restricted.post(`/groups/${a1.id}/members/${user}`)).status).toBe(204);
      expect((await restricted.delete(`/groups/${a1.id}/members/${user}`)).status).toBe(204);
      expect((await restricted.post(`/groups/${a.id}/members/${user}`)).status).toBe(204);
      await expectSameAsUnknown(restricted, b.id, (id) => ['POST', `/groups/${id}/members/${user}`], 404);
      await expectSameAsUnknown(restricted, b.id, (id) => ['DELETE', `/groups/${id}/members/${user}`], 404);
      expect(await api.memberIds(b.id)).toEqual([]);
      expect(await api.memberIds(a.id)).toEqual([user]);
    });

    it('lets groups:write@A create, rename and delete strictly inside A, never at the top level or A itself', async () => {
      const ws = await h.workspace();
      const api = new Rest(ws);
      const a = await api.group('A');
      const b = await api.group('B');
      const restricted = api.as(await ws.key([`groups:write@${a.id}`]));
      const child = await restricted.post('/groups', { name: 'A1', parentGroupId: a.id });
      expect(child.status).toBe(201);
      expect((await restricted.put(`/groups/${child.body.id}`, { name: 'A1 renamed' })).status).toBe(200);
      expectInsufficientScope(await restricted.post('/groups', { name: 'Root' }), 'groups:write');
      await expectSameAsUnknown(restricted, b.id, (id) => ['POST', '/groups', { name: 'B1', parentGroupId: id }], 400);
      await expectSameAsUnknown(restricted, b.id, (id) => ['PUT', `/groups/${id}`, { name: 'B renamed' }], 404);
      await expectSameAsUnknown(restricted, b.id, (id) => ['PUT', `/groups/${child.body.id}`, { parentGroupId: id }], 400);
      await expectSameAsUnknown(restricted, b.id, (id) => ['DELETE', `/groups/${id}`], 404);
      expectInsufficientScope(await restricted.delete(`/groups/${a.id}`), 'groups:write');
      expect((await restricted.delete(`/groups/${child.body.id}`)).status).toBe(204);
      expect((await api.get(`/groups/${b.id}`)).body.name).toBe('B');
    });

    it('shows groups:read@A only A’s subtree: the list and its total, and 404 outside', async () => {
      const ws = await h.workspace();
      const api = new Rest(ws);
      const a = await api.group('A');
      const a1 = await api.group('A1', a.id);
      const b = await api.group('B');
      const restricted = api.as(await ws.key([`groups:read@${a.id}`]));
      const list = await restricted.get('/groups');
      expect(list.body.data.map((g: { id: number }) => g.id)).toEqual([a.id, a1.id]);
      expect(list.body.meta.total).toBe(2);
      expect((await restricted.get(`/groups/${a1.id}`)).status).toBe(200);
      const outside = await restricted.get(`/groups/${b.id}`);
      expect(outside.status).toBe(404);
      expect(errorCode(outside)).toBe('not_found');
      await expectSameAsUnknown(restricted, b.id, (id) => ['GET', `/groups/${id}`], 404);
    });

    it('keeps 403 for a group the key can read but not change', async () => {
      const ws = await h.workspace();
      const api = new Rest(ws);
      const a = await api.group('A');
      const b = await api.group('B');
      const user = await api.user();
      const restricted = api.as(await ws.key(['groups:read', `groups:write@${a.id}`]));
      expectInsufficientScope(await restricted.post(`/groups/${b.id}/members/${user}`), 'groups:members:write');
      expectInsufficientScope(await restricted.put(`/groups/${b.id}`, { name: 'B renamed' }), 'groups:write');
      expectInsufficientScope(await restricted.post('/groups', { name: 'B1', parentGroupId: b.id }), 'groups:write');
      expectInsufficientScope(await restricted.delete(`/groups/${b.id}`), 'groups:write');
    });

    it('never reveals a parent the key cannot read: parentGroupId null in every route, as GraphQL’s parent', async () => {
      const ws = await h.workspace();
      const api = new Rest(ws);
      const r = await api.group('R');
      const a = await api.group('A', r.id);
      const a1 = await api.group('A1', a.id);
      expect((await api.get(`/groups/${a.id}`)).body.parentGroupId).toBe(r.id);

      for (const key of [await ws.key([`groups:read@${a.id}`]), await ws.key([`groups:write@${a.id}`])]) {
        const restricted = api.as(key);
        expect((await restricted.get(`/groups/${a.id}`)).body).toEqual({ ...a, parentGroupId: null });
        expect((await restricted.get(`/groups/${a1.id}`)).body).toEqual(a1);
        expect((await restricted.get('/groups')).body.data).toEqual([{ ...a, parentGroupId: null }, a1]);
        const graphql = await ws.gql('query($a: ID!, $a1: ID!) { a: group(id: $a) { parent { id } } a1: group(id: $a1) { parent { id } } }', { a: String(a.id), a1: String(a1.id) }, key);
        expect(graphql.body.data).toEqual({ a: { parent: null }, a1: { parent: { id: String(a.id) } } });
      }

      const writer = api.as(await ws.key([`groups:write@${a.id}`]));
      const renamed = await writer.put(`/groups/${a.id}`, { name: 'A renamed' });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toEqual({ ...a, name: 'A renamed', parentGroupId: null });
      const created = await writer.post('/groups', { name: 'A2', parentGroupId: a.id });
      expect(created.status).toBe(201);
      expect(created.body.parentGroupId).toBe(a.id);
      expect((await writer.put(`/groups/${a1.id}`, { name: 'A1 renamed' })).body.parentGroupId).toBe(a.id);
      expect((await api.get(`/groups/${a.id}`)).body.parentGroupId).toBe(r.id);
    });
  });
});
