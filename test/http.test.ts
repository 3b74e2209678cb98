import { eachBackend } from './support/harness';

eachBackend('HTTP surface', (h) => {
  it('answers /healthz without credentials', async () => {
    const res = await h.request('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('serves queries over GET and refuses mutations over GET', async () => {
    const ws = await h.workspace();
    await ws.group('G');
    const auth = { authorization: `Bearer ${ws.adminKey}` };
    const query = await h.request('GET', `/graphql?query=${encodeURIComponent('{ groups { totalCount } }')}`, { headers: auth });
    expect(query.status).toBe(200);
    expect(query.body.data).toEqual({ groups: { totalCount: 1 } });
    const mutation = await h.request('GET', `/graphql?query=${encodeURIComponent('mutation { createGroup(input: { name: "x" }) { id } }')}`, {
      headers: auth,
    });
    expect(mutation.status).toBe(405);
    expect((await ws.ok('{ groups { totalCount } }')).groups.totalCount).toBe(1);
  });

  it('answers 401 with WWW-Authenticate: Bearer and UNAUTHENTICATED for missing or malformed credentials', async () => {
    const cases: Record<string, string>[] = [{}, { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: 'Bearer kauth_nope_short' }, { authorization: 'Bearer' }];
    for (const headers of cases) {
      const res = await h.request('POST', '/graphql', { headers, body: { query: '{ viewer { scopes } }' } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
  });

  it('carries a request id on every response, echoing a well-formed one', async () => {
    const mine = await h.request('GET', '/healthz', { headers: { 'x-request-id': 'trace-123' } });
    expect(mine.headers.get('x-request-id')).toBe('trace-123');
    const generated = await h.request('GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
