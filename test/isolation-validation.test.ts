import { encodeKey } from '../src/domain/pages';
import { createTenant } from '../src/domain/tenants';
import { Prisma } from '../src/generated/prisma/client';
import { codes, eachBackend, uniqueSlug } from './support/harness';

eachBackend('tenant isolation', (h) => {
  it("never shows or touches another workspace's rows, answering as if they did not exist", async () => {
    const a = await h.workspace();
    const b = await h.workspace();
    const ga = await a.group('Secret');
    const ua = await a.user('Alice');
    const ra = await a.role('a-role');
    const gb = await b.group('Mine');
    const ub = await b.user('Bob');

    const read = await b.ok('query($g: ID!, $u: ID!, $r: ID!) { group(id: $g) { id } user(id: $u) { id } role(id: $r) { id } }', {
      g: ga,
      u: ua,
      r: ra,
    });
    expect(read).toEqual({ group: null, user: null, role: null });
    const lists = await b.ok('{ groups { totalCount nodes { id } } users { totalCount nodes { id } } roles { totalCount nodes { id } } }');
    expect(lists.groups).toEqual({ totalCount: 1, nodes: [{ id: gb }] });
    expect(lists.users).toEqual({ totalCount: 1, nodes: [{ id: ub }] });
    expect(lists.roles).toEqual({ totalCount: 0, nodes: [] });

    const attempts: [string, Record<string, unknown>][] = [
      ['mutation($id: ID!) { updateGroup(id: $id, input: { name: "pwned" }) { id } }', { id: ga }],
      ['mutation($id: ID!) { deleteGroup(id: $id) }', { id: ga }],
      ['mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p }) { id } }', { id: gb, p: ga }],
      ['mutation($p: ID) { createGroup(input: { name: "x", parentId: $p }) { id } }', { p: ga }],
      ['mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }', { g: gb, u: ua }],
      ['mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }', { g: ga, u: ub }],
      ['mutation($g: ID!, $r: ID!) { assignGroupRole(groupId: $g, roleId: $r) { id } }', { g: gb, r: ra }],
      ['mutation($u: ID!, $r: ID!) { assignUserRole(userId: $u, roleId: $r) { id } }', { u: ua, r: ra }],
    ];
    for (const [query, variables] of attempts) {
      const res = await b.gql(query, variables);
      expect({ query, codes: codes(res.body) }).toEqual({ query, codes: ['NOT_FOUND'] });
    }
    const still = await a.ok('query($id: ID!) { group(id: $id) { name members { nodes { id } totalCount } roles { id } } }', { id: ga });
    expect(still.group).toEqual({ name: 'Secret', members: { nodes: [], totalCount: 0 }, roles: [] });
  });

  it('refuses at the database level any row that points into another workspace', async () => {
    const a = await h.workspace();
    const b = await h.workspace();
    const ga = Number(await a.group('A'));
    const ub = Number(await b.user('B'));
    const memberOf = (tenantId: number) =>
      h.db.prisma.groupMember.create({ data: { tenantId, groupId: ga, userId: ub } }).then(
        () => null,
        (error: unknown) => error,
      );
    // PostgreSQL's foreign_key_violation on the composite (tenant_id, …) key, as Prisma reports it.
    const violationOf = (constraint: string) => ({
      code: 'P2003',
      meta: { driverAdapterError: { cause: { originalCode: '23503', kind: 'ForeignKeyConstraintViolation', constraint: { index: constraint } } } },
    });

    const userElsewhere = await memberOf(a.tenant.id);
    expect(userElsewhere).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect(userElsewhere).toMatchObject(violationOf('group_members_tenant_id_user_id_fkey'));
    const groupElsewhere = await memberOf(b.tenant.id);
    expect(groupElsewhere).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect(groupElsewhere).toMatchObject(violationOf('group_members_tenant_id_group_id_fkey'));
    expect(await h.db.prisma.groupMember.count({ where: { userId: ub } })).toBe(0);
  });
});

eachBackend('validation', (h) => {
  it('rejects blank and over-long names with BAD_USER_INPUT naming the field, and trims names', async () => {
    const ws = await h.workspace();
    const create = 'mutation($n: String!) { createGroup(input: { name: $n }) { id name } }';
    for (const name of ['', '   ', 'x'.repeat(256), 'two\nlines']) {
      const res = await ws.gql(create, { n: name });
      expect(codes(res.body)).toEqual(['BAD_USER_INPUT']);
      expect(res.body.errors![0].extensions.field).toBe('name');
    }
    // A NUL is refused at the edge, before anything reads it: the field named is the variable.
    const nul = await ws.gql(create, { n: 'nul\u0000byte' });
    expect(codes(nul.body)).toEqual(['BAD_USER_INPUT']);
    expect(nul.body.errors![0].extensions.field).toBe('variables.n');
    const nulDescription = await ws.gql('mutation { createGroup(input: { name: "ok", description: "a\\u0000b" }) { id } }');
    expect(codes(nulDescription.body)).toEqual(['BAD_USER_INPUT']);
    const ok = await ws.ok(create, { n: `  ${'y'.repeat(255)}  ` });
    expect(ok.createGroup.name).toBe('y'.repeat(255));
    expect((await ws.ok('{ groups { totalCount } }')).groups.totalCount).toBe(1);
  });

  describe('names must show something and cannot reorder what is displayed', () => {
    const INVISIBLE: [string, string][] = [
      ['only a zero-width space', '\u200b'],
      ['only zero-width characters', '\u200b\u200c\u200d\u2060\ufeff'],
      ['only combining marks', '\u0301\u0308'],
      ['only format characters', '\u00ad\u2061'],
      ['spaces around a zero-width space', '  \u200b  '],
    ];
    const BIDI: [string, string][] = [
      ...['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c'].map(
        (c): [string, string] => [`U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} inside a name`, `admin${c}txt.exe`],
      ),
      ['a right-to-left override alone', '\u202e'],
    ];
    const refused = [...INVISIBLE, ...BIDI];

    const cases: [string, (n: string) => [string, Record<string, unknown>]][] = [
      ['createGroup', (n) => ['mutation($n: String!) { createGroup(input: { name: $n }) { id } }', { n }]],
      ['createRole', (n) => ['mutation($n: String!) { createRole(input: { name: $n }) { id } }', { n }]],
      ['createUser (an optional name)', (n) => ['mutation($n: String) { createUser(input: { email: "n@example.com", name: $n }) { id } }', { n }]],
      ['createApiKey', (n) => ['mutation($n: String!) { createApiKey(input: { name: $n, scopes: ["groups:read"] }) { key } }', { n }]],
    ];

    it.each(cases)('%s refuses each with BAD_USER_INPUT naming the field, creating nothing', async (_, operation) => {
      const ws = await h.workspace();
      const db = h.db.prisma;
      const count = async () =>
        (await Promise.all([db.group.count({ where: { tenantId: ws.tenant.id } }), db.role.count({ where: { tenantId: ws.tenant.id } }), db.user.count({ where: { tenantId: ws.tenant.id } }), db.apiKey.count({ where: { tenantId: ws.tenant.id } })])).join();
      const before = await count();
      for (const [what, name] of refused) {
        const res = await ws.gql(...operation(name));
        expect({ what, codes: codes(res.body), field: res.body.errors?.[0].extensions.field }).toEqual({ what, codes: ['BAD_USER_INPUT'], field: 'name' });
      }
      expect(await count()).toBe(before);
    });

    it('refuses them in updateGroup and in a workspace name, and keeps names of letters, digits, punctuation, symbols and other scripts', async () => {
      const ws = await h.workspace();
      const g = await ws.group('G');
      for (const [what, name] of refused) {
        const res = await ws.gql('mutation($id: ID!, $n: String) { updateGroup(id: $id, input: { name: $n }) { name } }', { id: g, n: name });
        expect({ what, codes: codes(res.body), field: res.body.errors?.[0].extensions.field }).toEqual({ what, codes: ['BAD_USER_INPUT'], field: 'name' });
        await expect(createTenant(h.db.prisma, { slug: uniqueSlug('n'), name })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
      }
      for (const name of ['Ω', '7', '-', '€', '😀', 'e\u0301', 'עברית', 'العربية', 'Zoë\u200dX', '日本']) {
        expect((await ws.ok('mutation($n: String!) { createGroup(input: { name: $n }) { name } }', { n: name })).createGroup.name).toBe(name);
      }
      const unnamed = await ws.ok('mutation { createUser(input: { email: "blank@example.com", name: "  " }) { name } }');
      expect(unnamed.createUser.name).toBeNull();
    });
  });

  it('rejects malformed ids, bad pages and invalid emails with BAD_USER_INPUT', async () => {
    const ws = await h.workspace();
    const cases: [string, Record<string, unknown>, string][] = [
      ['query($id: ID!) { group(id: $id) { id } }', { id: 'abc' }, 'id'],
      ['query($id: ID!) { group(id: $id) { id } }', { id: '-1' }, 'id'],
      ['{ groups(first: -1) { totalCount } }', {}, 'first'],
      ['query($f: Int) { groups(first: $f) { totalCount } }', { f: -1 }, 'first'],
      ['{ groups(first: 101) { totalCount } }', {}, 'first'],
      ['{ users(last: 1000) { totalCount } }', {}, 'last'],
      ['{ groups(first: 1, last: 1) { totalCount } }', {}, 'last'],
      ['{ groups(after: "not a cursor") { totalCount } }', {}, 'after'],
      ['query($b: String) { users(last: 5, before: $b) { totalCount } }', { b: encodeKey([1, 2]) }, 'before'],
    ];
    for (const [query, variables, field] of cases) {
      const res = await ws.gql(query, variables);
      expect({ query, variables, codes: codes(res.body), field: res.body.errors?.[0].extensions.field }).toEqual({
        query,
        variables,
        codes: ['BAD_USER_INPUT'],
        field,
      });
    }
    const email = await ws.gql('mutation($e: EmailAddress!) { createUser(input: { email: $e }) { id } }', { e: 'not-an-email' });
    expect(codes(email.body)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses a page size or a cursor beyond 32 bits (GraphQL Int, an id) before it reaches the database, and serves the largest cursor', async () => {
    const ws = await h.workspace();
    for (const size of ['2147483648', '9007199254740993', '9223372036854775807']) {
      const inline = await ws.gql(`{ groups(first: ${size}) { totalCount } }`);
      expect({ size, status: inline.status, codes: codes(inline.body), data: inline.body.data }).toEqual({ size, status: 400, codes: ['GRAPHQL_VALIDATION_FAILED'], data: undefined });
      const variable = await ws.gql('query($f: Int) { groups(first: $f) { totalCount } }', { f: Number(size) });
      expect({ size, status: variable.status, codes: codes(variable.body), data: variable.body.data }).toEqual({ size, status: 400, codes: ['BAD_USER_INPUT'], data: undefined });
      const cursor = await ws.gql('query($a: String) { groups(after: $a) { totalCount } }', { a: encodeKey(Number(size)) });
      expect({ size, codes: codes(cursor.body), field: cursor.body.errors?.[0].extensions.field }).toEqual({ size, codes: ['BAD_USER_INPUT'], field: 'after' });
    }
    await ws.group('G');
    const largest = await ws.ok('query($a: String) { groups(after: $a) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }', { a: encodeKey(2147483647) });
    expect(largest.groups).toEqual({ totalCount: 1, nodes: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('returns NOT_FOUND for unknown ids in mutations', async () => {
    const ws = await h.workspace();
    const g = await ws.group('G');
    const res = await ws.gql('mutation($g: ID!) { addGroupMember(groupId: $g, userId: "99999999") { id } }', { g });
    expect(codes(res.body)).toEqual(['NOT_FOUND']);
    expect(res.body.errors![0].extensions.field).toBe('userId');
    const parent = await ws.gql('mutation { createGroup(input: { name: "x", parentId: "99999999" }) { id } }');
    expect(codes(parent.body)).toEqual(['NOT_FOUND']);
  });

  it('pages and filters the group list', async () => {
    const ws = await h.workspace();
    const root = await ws.group('Alpha team');
    const kids = [await ws.group('beta', root), await ws.group('Gamma 100%', root), await ws.group('delta_x', root)];
    const PAGE = 'query($n: Int, $after: String) { groups(first: $n, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }';
    const first = await ws.ok(PAGE, { n: 1 });
    expect(first.groups).toMatchObject({ totalCount: 4, nodes: [{ id: root }], pageInfo: { hasNextPage: true } });
    const page = await ws.ok(PAGE, { n: 2, after: first.groups.pageInfo.endCursor });
    expect(page.groups).toMatchObject({ totalCount: 4, nodes: [{ id: kids[0] }, { id: kids[1] }], pageInfo: { hasNextPage: true } });
    const last = await ws.ok(PAGE, { n: 2, after: page.groups.pageInfo.endCursor });
    expect(last.groups).toMatchObject({ totalCount: 4, nodes: [{ id: kids[2] }], pageInfo: { hasNextPage: false } });
    const roots = await ws.ok('{ groups(rootsOnly: true) { totalCount nodes { id } } }');
    expect(roots.groups).toEqual({ totalCount: 1, nodes: [{ id: root }] });
    const children = await ws.ok('query($p: ID) { groups(parentId: $p) { totalCount } }', { p: root });
    expect(children.groups.totalCount).toBe(3);
    const search = await ws.ok('{ a: groups(search: "GAMMA") { totalCount } b: groups(search: "100%") { totalCount } c: groups(search: "a_x") { totalCount } d: groups(search: "%") { totalCount } }');
    expect(search).toEqual({ a: { totalCount: 1 }, b: { totalCount: 1 }, c: { totalCount: 1 }, d: { totalCount: 1 } });
  });
});
