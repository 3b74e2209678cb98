// Bounds on what clients send, at every edge (issue 25): a search pattern's length, NUL and
// other control characters, nesting of variables and bodies, names that render blank or break
// lines; and a key restricted to a subtree cannot make roots by deleting their parent.
import { MAX_INPUT_DEPTH, MAX_INPUT_STRING, MAX_SEARCH } from '../src/domain/validate';
import { type GraphQLBody, type Response, codes, eachBackend } from './support/harness';

function expectBadInput(res: Response<GraphQLBody>): Record<string, any> {
  expect([res.status, codes(res.body)]).toEqual([400, ['BAD_USER_INPUT']]);
  return res.body.errors![0].extensions;
}

/** `[[[…]]]`, `depth` deep, as JSON text (built as text: JSON.stringify would overflow the stack). */
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

eachBackend('input bounds', (h) => {
  it(`refuses a search pattern over ${MAX_SEARCH} characters, and a 400 KB one before it is read (it cost 6.5 s of PostgreSQL for 1 point)`, async () => {
    const ws = await h.workspace();
    await ws.group('findable');
    const found = await ws.gql('query($s: String) { groups(search: $s) { totalCount } }', { s: 'x'.repeat(MAX_SEARCH - 5) + 'able' });
    expect(found.status).toBe(200);
    for (const list of ['groups', 'users']) {
      const long = await ws.gql(`query($s: String) { ${list}(search: $s) { totalCount } }`, { s: 'x'.repeat(MAX_SEARCH + 1) });
      expect(codes(long.body)).toEqual(['BAD_USER_INPUT']); // the field's own refusal
      expect(long.body.errors![0].extensions).toMatchObject({ field: 'search', maxLength: MAX_SEARCH });
    }
    const huge = 'x'.repeat(400_000);
    const before = h.db.statements.total;
    expect(expectBadInput(await ws.gql('query($s: String) { groups(search: $s) { totalCount } }', { s: huge }))).toMatchObject({ field: 'variables.s', maxLength: MAX_INPUT_STRING });
    expect(expectBadInput(await ws.gql(`{ groups(search: "${huge}") { totalCount } }`))).toMatchObject({ maxLength: MAX_INPUT_STRING });
    expect(h.db.statements.total - before).toBeLessThanOrEqual(2); // authentication at most
  });

  it('refuses a NUL in a search pattern or an audit filter with BAD_USER_INPUT (they were 500)', async () => {
    const ws = await h.workspace();
    expectBadInput(await ws.gql('query($s: String) { groups(search: $s) { totalCount } }', { s: 'a\u0000b' }));
    expectBadInput(await ws.gql('{ groups(search: "a\\u0000b") { totalCount } }'));
    expectBadInput(await ws.gql('query($a: String) { auditEvents(filter: { actor: $a }) { nodes { seq } } }', { a: 'cli\u0000' }));
    expectBadInput(await ws.gql('query($s: String) { users(search: $s) { totalCount } }', { s: 'bell\u0007' }));
    // Tab and line breaks are text.
    const multiline = await ws.gql('mutation($d: String) { createGroup(input: { name: "lines", description: $d }) { description } }', { d: 'one\ntwo\tthree' });
    expect(multiline.body.data.createGroup.description).toBe('one\ntwo\tthree');
  });

  it(`refuses variables nested deeper than ${MAX_INPUT_DEPTH} levels, a 200,000-deep array too (it was 500)`, async () => {
    const ws = await h.workspace();
    const query = 'query($ids: [ID!]) { groups(first: 1) { totalCount } }';
    const res = await h.request<GraphQLBody>('POST', '/graphql', {
      headers: { authorization: `Bearer ${ws.adminKey}`, 'content-type': 'application/json' },
      rawBody: `{"query": ${JSON.stringify(query)}, "variables": {"ids": ${deepArray(200_000)}}}`,
    });
    expect(expectBadInput(res)).toMatchObject({ maximum: MAX_INPUT_DEPTH });
    const shallow = await h.request<GraphQLBody>('POST', '/graphql', {
      headers: { authorization: `Bearer ${ws.adminKey}`, 'content-type': 'application/json' },
      rawBody: `{"query": ${JSON.stringify(query)}, "variables": {"ids": ${deepArray(MAX_INPUT_DEPTH + 1)}}}`,
    });
    expectBadInput(shallow);
  });

  it('refuses the same over REST and SCIM, in their own shapes', async () => {
    const ws = await h.workspace();
    const slug = ws.tenant.slug;
    const auth = { authorization: `Bearer ${ws.adminKey}` };
    const rest = await h.request('POST', `/t/${slug}/api/v1/groups`, { headers: auth, body: { name: 'ok', description: 'x'.repeat(MAX_INPUT_STRING + 1) } });
    expect(rest.status).toBe(400);
    expect(rest.body.error).toMatchObject({ code: 'validation_failed', details: { field: 'description', maxLength: MAX_INPUT_STRING } });
    const nested = await h.request('POST', `/t/${slug}/api/v1/groups`, { headers: { ...auth, 'content-type': 'application/json' }, rawBody: `{"name": "ok", "x": ${deepArray(100_000)}}` });
    expect(nested.status).toBe(400);
    const scim = await h.request('GET', `/t/${slug}/scim/v2/Groups?filter=${encodeURIComponent('displayName eq "a\u0000"')}`, { headers: auth });
    expect(scim.status).toBe(400);
    expect(scim.body).toMatchObject({ status: '400' });
  });

  it.each([
    ['a Hangul filler (U+3164)', '\u3164'],
    ['a Braille blank (U+2800)', '\u2800'],
    ['Hangul choseong and jungseong fillers', '\u115F\u1160'],
    ['a halfwidth Hangul filler and a zero-width space', '\uFFA0\u200B'],
    ['a next-line control (U+0085)', 'A\u0085B'],
    ['a line separator (U+2028)', 'A\u2028B'],
    ['a paragraph separator (U+2029)', 'A\u2029B'],
  ])('refuses a name with %s', async (_, name) => {
    const ws = await h.workspace();
    const res = await ws.gql('mutation($name: String!) { createGroup(input: { name: $name }) { id } }', { name });
    expect(codes(res.body)).toEqual(['BAD_USER_INPUT']);
    expect(res.body.errors![0].extensions.field).toBe('name');
    const role = await ws.gql('mutation($name: String!) { createRole(input: { name: $name }) { id } }', { name });
    expect(codes(role.body)).toEqual(['BAD_USER_INPUT']);
  });

  it('accepts names whose invisible characters sit between visible ones (a family emoji joins with U+200D)', async () => {
    const ws = await h.workspace();
    for (const name of ['👨\u200D👩\u200D👧 Family', 'Ünïcödé', '東京 チーム']) {
      const res = await ws.gql('mutation($name: String!) { createGroup(input: { name: $name }) { name } }', { name });
      expect(res.body.data?.createGroup.name).toBe(name);
    }
  });

  it('refuses a key restricted to a subtree the deletion of a group whose children would become roots, and changes nothing', async () => {
    const ws = await h.workspace();
    const top = await ws.group('13');
    const restricted = await ws.key([`groups:write@${top}`, 'groups:read']);
    const create = async (name: string, parentId: string) =>
      (await ws.gql('mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }', { input: { name, parentId } }, restricted)).body.data.createGroup.id as string;
    const x = await create('X', top);
    const y = await create('Y', x);
    const res = await ws.gql('mutation($id: ID!) { deleteGroup(id: $id) }', { id: x }, restricted);
    expect(codes(res.body)).toEqual(['FORBIDDEN']);
    expect(res.body.errors![0].message).toMatch(/would make its 1 child group roots/);
    const after = await ws.ok('query($y: ID!) { group(id: $y) { parent { id } } roots: groups(rootsOnly: true) { totalCount } }', { y });
    expect(after).toEqual({ group: { parent: { id: x } }, roots: { totalCount: 1 } });
    // Over REST, the same refusal.
    const rest = await h.request('DELETE', `/t/${ws.tenant.slug}/api/v1/groups/${x}`, { headers: { authorization: `Bearer ${restricted}` } });
    expect(rest.status).toBe(403);
    // A leaf it may delete; the unrestricted key may delete X, and Y becomes a root.
    expect((await ws.gql('mutation($id: ID!) { deleteGroup(id: $id) }', { id: y }, restricted)).body.data).toEqual({ deleteGroup: y });
    const z = await create('Z', x);
    expect((await ws.gql('mutation($id: ID!) { deleteGroup(id: $id) }', { id: x })).body.data).toEqual({ deleteGroup: x });
    expect((await ws.ok('query($z: ID!) { group(id: $z) { parent { id } } }', { z })).group.parent).toBeNull();
  });
});
