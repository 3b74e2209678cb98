// Every documented REST error: status, the `{ error: { code, message, details? } }` envelope,
// and that nothing is changed by a refused request.
import { Writable } from 'node:stream';
import { buildApp } from '../../src/http/app';
import { MAX_GROUP_DEPTH, type Response, eachBackend } from '../support/harness';
import { Rest, type RestErrorBody } from '../support/rest';
import { validatorCompiler } from '../../src/rest/validator';

function expectError(res: Response<RestErrorBody>, status: number, code: string, details?: Record<string, unknown>): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(res.body).sort()).toEqual(['error']);
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error.message.length).toBeGreaterThan(0);
  if (details) expect(res.body.error.details).toMatchObject(details);
}

const invalid = (field: string, location = 'body') => ({ field, location });

eachBackend('REST errors', (h) => {
  describe('400 Bad Request', () => {
    it('refuses a body that is not JSON', async () => {
      const api = new Rest(await h.workspace());
      for (const rawBody of ['{"name": ', 'name=x', '{"__proto__": {"admin": true}, "name": "x"}']) {
        const res = await api.request('POST', '/groups', { headers: { 'content-type': 'application/json' }, rawBody });
        expectError(res, 400, 'invalid_json');
      }
    });

    it('refuses a body that is not an object, or none at all', async () => {
      const api = new Rest(await h.workspace());
      const g = await api.group('G');
      for (const body of [null, [], 'Backend', 42]) expectError(await api.post('/groups', body), 400, 'validation_failed');
      expectError(await api.request('POST', '/groups'), 400, 'validation_failed');
      expectError(await api.request('PUT', `/groups/${g.id}`), 400, 'validation_failed');
    });

    it('refuses a name with no visible character or with a bidi control, naming the field, changing nothing', async () => {
      const api = new Rest(await h.workspace());
      const g = await api.group('G');
      for (const name of ['\u200b', '\u0301', '\u00ad', 'evil\u202egnp.exe', 'a\u2066b', 'x\u200f', 'y\u061c']) {
        expectError(await api.post('/groups', { name }), 400, 'validation_failed', invalid('name'));
        expectError(await api.put(`/groups/${g.id}`, { name }), 400, 'validation_failed', invalid('name'));
      }
      expect((await api.get('/groups')).body.data).toEqual([g]);
    });

    it('refuses wrong types instead of coercing them', async () => {
      const api = new Rest(await h.workspace());
      const g = await api.group('G');
      expectError(await api.post('/groups', { name: 123 }), 400, 'validation_failed', invalid('name'));
      expectError(await api.post('/groups', { name: true }), 400, 'validation_failed', invalid('name'));
      expectError(await api.post('/groups', { name: 'x', description: 5 }), 400, 'validation_failed', invalid('description'));
      expectError(await api.post('/groups', { name: 'x', parentGroupId: String(g.id) }), 400, 'validation_failed', invalid('parentGroupId'));
      expectError(await api.post('/groups', { name: 'x', parentGroupId: 1.5 }), 400, 'validation_failed', invalid('parentGroupId'));
      expectError(await api.put(`/groups/${g.id}`, { name: null }), 400, 'validation_failed', invalid('name'));
      expectError(await api.put(`/groups/${g.id}`, { parentGroupId: [g.id] }), 400, 'validation_failed', invalid('parentGroupId'));
      expect((await api.get('/groups')).body.meta.total).toBe(1);
    });

    it('refuses a missing or blank name, and one over 255 characters after trimming', async () => {
      const api = new Rest(await h.workspace());
      const g = await api.group('G');
      expectError(await api.post('/groups', {}), 400, 'validation_failed', invalid('name'));
      expectError(await api.post('/groups', { description: 'no name' }), 400, 'validation_failed', invalid('name'));
      expectError(await api.post('/groups', { name: '   ' }), 400, 'validation_failed', invalid('name'));
      expectError(await api.post('/groups', { name: 'x'.repeat(256) }), 400, 'validation_failed', invalid('name'));
      expectError(await api.put(`/groups/${g.id}`, { name: '' }), 400, 'validation_failed', invalid('name'));
      expectError(await api.put(`/groups/${g.id}`, { name: 'y'.repeat(256) }), 400, 'validation_failed', invalid('name'));
      const padded = await api.post('/groups', { name: `  ${'x'.repeat(255)}  ` });
      expect(padded.status).toBe(201);
      expect(padded.body.name).toBe('x'.repeat(255));
    });

    it('refuses a parentGroupId that does not exist in this workspace', async () => {
      const api = new Rest(await h.workspace());
      const other = new Rest(await h.workspace());
      const foreign = await other.group('Foreign');
      const g = await api.group('G');
      for (const parentGroupId of [foreign.id, 2_000_000_000]) {
        expectError(await api.post('/groups', { name: 'x', parentGroupId }), 400, 'validation_failed', invalid('parentGroupId'));
        expectError(await api.put(`/groups/${g.id}`, { parentGroupId }), 400, 'validation_failed', invalid('parentGroupId'));
      }
      expect((await api.get(`/groups/${g.id}`)).body.parentGroupId).toBeNull();
      expect((await other.get('/groups')).body.meta.total).toBe(1);
    });

    it('refuses a move or a creation deeper than MAX_GROUP_DEPTH, naming parentGroupId', async () => {
      const api = new Rest(await h.workspace());
      let parent: number | null = null;
      for (let depth = 0; depth < MAX_GROUP_DEPTH; depth += 1) parent = (await api.group(`level ${depth}`, parent)).id;
      expectError(await api.post('/groups', { name: 'too deep', parentGroupId: parent }), 400, 'validation_failed', invalid('parentGroupId'));
    });

    it('refuses unknown body fields', async () => {
      const api = new Rest(await h.workspace());
      const g = await api.group('G');
      expectError(await api.post('/groups', { name: 'x', color: 'red' }), 400, 'validation_failed', invalid('color'));
      expectError(await api.put(`/groups/${g.id}`, { parentId: null }), 400, 'validation_failed', invalid('parentId'));
      expectError(await api.put(`/groups/${g.id}`, { id: 99, name: 'x' }), 400, 'validation_failed', invalid('id'));
      expect((await api.get(`/groups/${g.id}`)).body.name).toBe('G');
    });

    it('refuses a path id that is not a positive 32-bit integer', async () => {
      const api = new Rest(await h.workspace());
      const g = await api.group('G');
      for (const bad of ['abc', '1.5', '0', '-1', '2147483648', '1e3']) {
        expectError(await api.get(`/groups/${bad}`), 400, 'validation_failed', invalid('groupId', 'path'));
        expectError(await api.put(`/groups/${bad}`, { name: 'x' }), 400, 'validation_failed', invalid('groupId', 'path'));
        expectError(await api.delete(`/groups/${bad}`), 400, 'validation_failed', invalid('groupId', 'path'));
        expectError(await api.post(`/groups/${g.id}/members/${bad}`), 400, 'validation_failed', invalid('userId', 'path'));
        expectError(await api.delete(`/groups/${bad}/members/1`), 400, 'validation_failed', invalid('groupId', 'path'));
      }
    });

    it('refuses offset < 0 and limit outside 1-100, and accepts the bounds', async () => {
      const api = new Rest(await h.workspace());
      for (const query of ['offset=-1', 'offset=abc', 'offset=1.5', 'offset=2147483648', 'offset=9007199254740993', 'offset=9223372036854775807', `offset=${'9'.repeat(400)}`]) {
        expectError(await api.get(`/groups?${query}`), 400, 'validation_failed', invalid('offset', 'query'));
      }
      for (const query of ['limit=0', 'limit=101', 'limit=-5', 'limit=abc', 'limit=2.5', 'limit=9007199254740993', 'limit=9223372036854775807']) {
        expectError(await api.get(`/groups?${query}`), 400, 'validation_failed', invalid('limit', 'query'));
      }
      expect((await api.get('/groups?offset=0&limit=1')).status).toBe(200);
      expect((await api.get('/groups?limit=100')).body.meta).toEqual({ total: 0, offset: 0, limit: 100 });
      expect((await api.get('/groups?offset=2147483647')).body).toEqual({ data: [], meta: { total: 0, offset: 2147483647, limit: 20 } });
    });

    it('refuses a path id beyond 2^53, which would otherwise round to another id', async () => {
      const api = new Rest(await h.workspace());
      for (const bad of ['9007199254740993', '9223372036854775807']) {
        expectError(await api.get(`/groups/${bad}`), 400, 'validation_failed', invalid('groupId', 'path'));
      }
    });
  });

  describe('404 Not Found', () => {
    it('answers an unknown group, and a group of another workspace, on every group route', async () => {
      const api = new Rest(await h.workspace());
      const other = new Rest(await h.workspace());
      const foreign = await other.group('Foreign');
      const user = await api.user();
      for (const id of [foreign.id, 2_000_000_000]) {
        expectError(await api.get(`/groups/${id}`), 404, 'not_found');
        expectError(await api.put(`/groups/${id}`, { name: 'x' }), 404, 'not_found');
        expectError(await api.delete(`/groups/${id}`), 404, 'not_found');
        expectError(await api.post(`/groups/${id}/members/${user}`), 404, 'not_found');
        expectError(await api.delete(`/groups/${id}/members/${user}`), 404, 'not_found');
      }
      expect((await other.get(`/groups/${foreign.id}`)).body.name).toBe('Foreign');
    });

    it('answers an unknown user, and a user of another workspace', async () => {
      const api = new Rest(await h.workspace());
      const other = new Rest(await h.workspace());
      const foreignUser = await other.user();
      const g = await api.group('G');
      for (const userId of [foreignUser, 2_000_000_000]) {
        expectError(await api.post(`/groups/${g.id}/members/${userId}`), 404, 'not_found');
        expectError(await api.delete(`/groups/${g.id}/members/${userId}`), 404, 'not_found');
      }
      expect(await api.memberIds(g.id)).toEqual([]);
    });

    it('answers a route that does not exist under /api/v1 in the same envelope', async () => {
      const api = new Rest(await h.workspace());
      expectError(await api.get('/nothing-here'), 404, 'not_found');
      expectError(await api.request('PATCH', '/groups/1', { body: { name: 'x' } }), 404, 'not_found');
    });
  });

  describe('409 Conflict', () => {
    it('refuses a move under the group itself or one of its descendants and changes nothing', async () => {
      const api = new Rest(await h.workspace());
      const a = await api.group('A');
      const b = await api.group('B', a.id);
      const c = await api.group('C', b.id);
      for (const target of [a, b, c]) {
        const res = await api.put(`/groups/${a.id}`, { parentGroupId: target.id, name: 'renamed' });
        expectError(res, 409, 'conflict', invalid('parentGroupId'));
      }
      expect((await api.get(`/groups/${a.id}`)).body).toEqual(a);
      expect((await api.get(`/groups/${c.id}`)).body).toEqual(c);
    });
  });

  describe('413 and 415', () => {
    it('refuses a body over 1 MiB with 413', async () => {
      const api = new Rest(await h.workspace());
      const rawBody = JSON.stringify({ name: 'big', description: 'x'.repeat(1024 * 1024) });
      const res = await api.request('POST', '/groups', { headers: { 'content-type': 'application/json' }, rawBody });
      expectError(res, 413, 'payload_too_large');
      expect((await api.get('/groups')).body.meta.total).toBe(0);
    });

    it('refuses a body that is not application/json with 415', async () => {
      const api = new Rest(await h.workspace());
      const g = await api.group('G');
      const cases: [string, string, Record<string, string>][] = [
        ['POST', '/groups', { 'content-type': 'text/plain' }],
        ['POST', '/groups', { 'content-type': 'application/x-www-form-urlencoded' }],
        ['PUT', `/groups/${g.id}`, { 'content-type': 'text/plain' }],
        ['PUT', `/groups/${g.id}`, { 'content-type': 'application/xml' }],
      ];
      for (const [method, path, headers] of cases) {
        expectError(await api.request(method, path, { headers, rawBody: '{"name":"x"}' }), 415, 'unsupported_media_type');
      }
      const withCharset = await api.request('POST', '/groups', {
        headers: { 'content-type': 'application/json; charset=utf-8' },
        rawBody: '{"name":"y"}',
      });
      expect(withCharset.status).toBe(201);
    });
  });

  describe('500 Internal Server Error', () => {
    it('logs the error with the request id and answers without stack or SQL', async () => {
      const ws = await h.workspace();
      const lines: string[] = [];
      const stream = new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const secret = 'SELECT path FROM groups WHERE tenant_id = 42 -- at PrismaClient.findMany (/srv/app/db.js:1:1)';
      // The real database, except that listing groups fails the way a broken query would.
      const db = new Proxy(h.db.prisma, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (prop !== 'group') return typeof value === 'function' ? value.bind(target) : value;
          return { ...value, findMany: () => Promise.reject(new Error(secret)), count: value.count.bind(value) };
        },
      });
      const app = await buildApp({ db, maxGroupDepth: MAX_GROUP_DEPTH, jwt: null, logger: { level: 'error', stream } });
      try {
        const address = await app.listen({ host: '127.0.0.1', port: 0 });
        const res = await fetch(`${address}/t/${ws.tenant.slug}/api/v1/groups`, {
          headers: { authorization: `Bearer ${ws.adminKey}`, 'x-request-id': 'boom-1' },
        });
        const text = await res.text();
        expect(res.status).toBe(500);
        expect(res.headers.get('x-request-id')).toBe('boom-1');
        expect(JSON.parse(text)).toEqual({ error: { code: 'internal_error', message: expect.any(String) } });
        expect(text).not.toMatch(/SELECT|findMany|\.js:|tenant_id/);
        const logged = lines.map((line) => JSON.parse(line)).find((entry) => entry.level >= 50);
        expect(logged).toMatchObject({ reqId: 'boom-1', err: { message: secret } });
      } finally {
        await app.close();
      }
    });
  });
});

describe('REST query and path integers', () => {
  const validate = validatorCompiler({ schema: { type: 'object', properties: { n: { type: 'integer' } } }, httpPart: 'querystring', method: 'GET', url: '/' }) as (data: Record<string, unknown>) => boolean;

  it('become integers only while a JavaScript number holds them exactly, even with no maximum in the schema', () => {
    const largest = { n: '9007199254740991' };
    expect(validate(largest)).toBe(true);
    expect(largest.n).toBe(Number.MAX_SAFE_INTEGER);
    for (const text of ['9007199254740992', '9007199254740993', '9223372036854775807']) {
      const data = { n: text };
      expect({ text, valid: validate(data), n: data.n }).toEqual({ text, valid: false, n: text });
    }
  });
});
