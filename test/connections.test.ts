// Relay cursor connections: every list that grows with the data is read a page at a time with
// keyset cursors, and `totalCount` comes from the counts the writes keep (the scale migration).
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { fullAccessContext } from '../src/domain/context';
import { inheritedMemberWays } from '../src/domain/reads/members';
import { workspaceCounts } from '../src/domain/counts';
import { Prisma } from '../src/generated/prisma/client';
import { type Harness, type Workspace, codes, eachBackend } from './support/harness';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Creates `count` children under `parentId` in one statement (the counting triggers see a bulk insert too). */
async function bulkChildren(h: Harness, ws: Workspace, parentId: string | null, count: number, prefix: string): Promise<string[]> {
  const parentPath = parentId === null ? [] : (await h.db.prisma.group.findUniqueOrThrow({ where: { id: Number(parentId) } })).path;
  const rows = await h.db.prisma.$queryRaw<{ id: number }[]>`
    WITH ids AS (SELECT nextval(pg_get_serial_sequence('groups', 'id'))::int AS id, n FROM generate_series(1, ${count}::int) AS n)
    INSERT INTO groups (id, tenant_id, name, parent_group_id, path)
    SELECT id, ${ws.tenant.id}::int, ${prefix} || '-' || n, ${parentId === null ? null : Number(parentId)}::int, ${parentPath}::int[] || id
    FROM ids ORDER BY n RETURNING id`;
  return rows.map((row) => String(row.id)).sort((a, b) => Number(a) - Number(b));
}

/** Every page of a connection, forwards (`first`) or backwards (`last`), as ids in the list's order. */
async function readAll(ws: Workspace, field: (window: string) => string, pick: (data: any) => any, size: number, backwards = false): Promise<string[]> {
  const seen: string[][] = [];
  let cursor: string | null = null;
  for (let guard = 0; guard < 1000; guard++) {
    const window: string = backwards
      ? `last: ${size}${cursor ? `, before: "${cursor}"` : ''}`
      : `first: ${size}${cursor ? `, after: "${cursor}"` : ''}`;
    const conn = pick(await ws.ok(`{ ${field(window)} }`));
    const ids = conn.edges.map((edge: any) => edge.node.id);
    expect(conn.nodes.map((node: any) => node.id)).toEqual(ids);
    expect(ids.length).toBeLessThanOrEqual(size);
    if (ids.length > 0) {
      expect(conn.pageInfo.startCursor).toBe(conn.edges[0].cursor);
      expect(conn.pageInfo.endCursor).toBe(conn.edges.at(-1).cursor);
    }
    seen.push(ids);
    const more = backwards ? conn.pageInfo.hasPreviousPage : conn.pageInfo.hasNextPage;
    if (!more) break;
    cursor = backwards ? conn.pageInfo.startCursor : conn.pageInfo.endCursor;
  }
  return backwards ? seen.reverse().flat() : seen.flat();
}

const PAGE = 'totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } nodes { id }';

eachBackend('Relay connections', (h) => {
  it('pages through groups forwards and backwards: every group once, in id order, totalCount the workspace', async () => {
    const ws = await h.workspace();
    const ids = await bulkChildren(h, ws, null, 47, 'root');
    const forwards = await readAll(ws, (w) => `groups(${w}) { ${PAGE} }`, (d) => d.groups, 10);
    const backwards = await readAll(ws, (w) => `groups(${w}) { ${PAGE} }`, (d) => d.groups, 10, true);
    expect(forwards).toEqual(ids);
    expect(backwards).toEqual(ids);
    const first = await ws.ok(`{ groups { totalCount nodes { id } pageInfo { hasNextPage hasPreviousPage } } }`);
    expect(first.groups.totalCount).toBe(47);
    expect(first.groups.nodes).toHaveLength(20); // the default page
    expect(first.groups.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false });
  });

  it('keeps a cursor valid when groups are added or removed before it (keyset, not offset)', async () => {
    const ws = await h.workspace();
    const root = await ws.group('Root');
    const kids = await bulkChildren(h, ws, root, 6, 'kid');
    for (const kid of kids) await bulkChildren(h, ws, kid, 2, `under-${kid}`);
    const query = (after: string | null) => `{ group(id: "${root}") { descendants(first: 6${after ? `, after: "${after}"` : ''}) { ${PAGE} } } }`;
    const all = (await ws.ok(`{ group(id: "${root}") { descendants(first: 100) { ${PAGE} } } }`)).group.descendants;
    expect(all.totalCount).toBe(18);
    const page1 = (await ws.ok(query(null))).group.descendants;
    // Tree order: each child followed by its own children.
    const tree = await h.db.prisma.group.findMany({ where: { tenantId: ws.tenant.id, path: { has: Number(root) }, NOT: { id: Number(root) } } });
    const expected = tree.sort((a, b) => comparePaths(a.path, b.path)).map((g) => String(g.id));
    expect(all.nodes.map((n: any) => n.id)).toEqual(expected);
    expect(page1.nodes.map((n: any) => n.id)).toEqual(expected.slice(0, 6));

    // Before the cursor: a new group under the first child, and the first child's first subgroup deleted.
    await ws.group('Late arrival', kids[0]);
    await ws.ok(`mutation { deleteGroup(id: "${expected[1]}") }`);
    const page2 = (await ws.ok(query(page1.pageInfo.endCursor))).group.descendants;
    expect(page2.nodes.map((n: any) => n.id)).toEqual(expected.slice(6, 12));
    // And the item the cursor names may itself be gone.
    await ws.ok(`mutation { deleteGroup(id: "${page2.nodes.at(-1).id}") }`);
    const page3 = (await ws.ok(query(page2.pageInfo.endCursor))).group.descendants;
    expect(page3.nodes.map((n: any) => n.id)).toEqual(expected.slice(12, 18));
  });

  it('pages children, direct and inherited members and a user\'s groups, with totals', async () => {
    const ws = await h.workspace();
    const root = await ws.group('Root');
    const kids = await bulkChildren(h, ws, root, 30, 'kid');
    const users: string[] = [];
    for (const i of range(12)) users.push(await ws.user(`U${i}`, `u${i}@example.com`));
    for (const [i, user] of users.entries()) {
      await ws.addMember(kids[i % 5], user);
      if (i % 3 === 0) await ws.addMember(kids[(i + 1) % 5], user);
      if (i < 4) await ws.addMember(root, user);
    }
    const children = await readAll(ws, (w) => `group(id: "${root}") { children(${w}) { ${PAGE} } }`, (d) => d.group.children, 7);
    expect(children).toEqual(kids);
    const inherited = await readAll(ws, (w) => `group(id: "${root}") { members(inherited: true, ${w}) { ${PAGE} } }`, (d) => d.group.members, 5);
    expect(inherited).toEqual([...users].sort((a, b) => Number(a) - Number(b)));
    const direct = await readAll(ws, (w) => `group(id: "${root}") { members(${w}) { ${PAGE} } }`, (d) => d.group.members, 3, true);
    expect(direct).toEqual(users.slice(0, 4));
    const totals = await ws.ok(`{ group(id: "${root}") { children(first: 0) { totalCount pageInfo { hasNextPage } }
      members(first: 1) { totalCount } inherited: members(inherited: true, first: 1) { totalCount } memberCount(inherited: true) } }`);
    expect(totals.group).toEqual({
      children: { totalCount: 30, pageInfo: { hasNextPage: true } },
      members: { totalCount: 4 },
      inherited: { totalCount: 12 },
      memberCount: 12,
    });
    const groups = await readAll(ws, (w) => `user(id: "${users[0]}") { groups(${w}) { ${PAGE} } }`, (d) => d.user.groups, 1);
    expect(groups).toEqual([root, kids[0], kids[1]].sort((a, b) => Number(a) - Number(b)));
  });

  it('finds inherited members by walking the users when the subtree is a large share of the workspace', async () => {
    const ws = await h.workspace();
    const big = await ws.group('Big');
    const leaves = await bulkChildren(h, ws, big, 260, 'leaf'); // more than 200 groups: the walk
    const small = await ws.group('Small');
    const users: string[] = [];
    for (const i of range(9)) users.push(await ws.user(`W${i}`, `w${i}@example.com`));
    // Every third user is below Big (some twice), the others only in Small.
    for (const [i, user] of users.entries()) {
      if (i % 3 === 0) {
        await ws.addMember(leaves[i * 7], user);
        await ws.addMember(leaves[i * 7 + 1], user);
      } else await ws.addMember(small, user);
    }
    await ws.ok(`mutation { addGroupMember(groupId: "${big}", userId: "${users[3]}") { id } }`);
    const below = users.filter((_, i) => i % 3 === 0);
    const walked = await readAll(ws, (w) => `group(id: "${big}") { members(inherited: true, ${w}) { ${PAGE} } }`, (d) => d.group.members, 2);
    expect(walked).toEqual(below);
    const back = await readAll(ws, (w) => `group(id: "${big}") { members(inherited: true, ${w}) { ${PAGE} } }`, (d) => d.group.members, 2, true);
    expect(back).toEqual(below);
    // A deactivated user is nobody's member, whichever way members are found.
    await h.db.prisma.user.update({ where: { id: Number(users[0]) }, data: { active: false } });
    const after = await ws.ok(`{ group(id: "${big}") { members(inherited: true, first: 10) { totalCount nodes { id } } } }`);
    expect(after.group.members).toEqual({ totalCount: 2, nodes: below.slice(1).map((id) => ({ id })) });
  });

  it('in a big workspace, decides by a sample of the users for a subtree that is a small share of its groups: walks when many users are members, gathers when few are', async () => {
    const ws = await h.workspace();
    const many = await ws.group('Many');
    const manyLeaves = await bulkChildren(h, ws, many, 1_010, 'many');
    const few = await ws.group('Few');
    const fewLeaves = await bulkChildren(h, ws, few, 1_010, 'few');
    const rest = await ws.group('Rest');
    await bulkChildren(h, ws, rest, 52_000, 'rest'); // 1,011 groups is under 2% of about 54,000: no size rule decides
    const small = await ws.group('Small');
    const users: string[] = [];
    for (const i of range(40)) users.push(await ws.user(`S${i}`, `s${i}@example.com`));
    // A quarter of the users are below Many (25%: walk); two users in forty below Few (5%: gather).
    const inMany = users.filter((_, i) => i % 4 === 1);
    const inFew = [users[17], users[30]];
    const links = [
      ...inMany.map((user, i) => [manyLeaves[i * 20], user]),
      ...inFew.map((user) => [fewLeaves[100], user]),
      ...users.map((user) => [small, user]),
    ];
    await h.db.prisma.$executeRaw`
      INSERT INTO group_members (tenant_id, group_id, user_id)
      SELECT ${ws.tenant.id}::int, l.g, l.u FROM unnest(${links.map(([g]) => Number(g))}::int[], ${links.map(([, u]) => Number(u))}::int[]) AS l(g, u)`;
    // Half the users below a subtree of 301 groups: under the sample's 1,000 groups, gathered all the same.
    const midRoot = await ws.group('Mid');
    const mid = await bulkChildren(h, ws, midRoot, 300, 'mid');
    await h.db.prisma.$executeRaw`INSERT INTO group_members (tenant_id, group_id, user_id) SELECT ${ws.tenant.id}::int, g, u FROM unnest(${mid.slice(0, 20).map(Number)}::int[], ${users.slice(0, 20).map(Number)}::int[]) AS l(g, u)`;
    const ctx = fullAccessContext(h.db.prisma, ws.tenant.id, { maxGroupDepth: 8 });
    const ways = await inheritedMemberWays(ctx, [many, few, rest, small, midRoot].map(Number));
    expect(Object.fromEntries([...ways].map(([id, walks]) => [String(id), walks]))).toEqual({ [many]: true, [few]: false, [rest]: true, [small]: false, [midRoot]: false });
    // Either way, every member once and in order.
    for (const [group, expected] of [
      [many, inMany],
      [few, inFew],
    ] as const) {
      expect(await readAll(ws, (w) => `group(id: "${group}") { members(inherited: true, ${w}) { ${PAGE} } }`, (d) => d.group.members, 3)).toEqual(expected);
      expect(await readAll(ws, (w) => `group(id: "${group}") { members(inherited: true, ${w}) { ${PAGE} } }`, (d) => d.group.members, 3, true)).toEqual(expected);
    }
  });

  it('refuses pages over 100, first with last, and cursors it did not hand out', async () => {
    const ws = await h.workspace();
    await ws.group('A');
    const cases: [string, string][] = [
      ['{ groups(first: 101) { totalCount } }', 'first'],
      ['{ groups(last: -1) { totalCount } }', 'last'],
      ['{ groups(first: 2, last: 2) { totalCount } }', 'last'],
      ['{ groups(after: "bm90IGEgY3Vyc29y") { totalCount } }', 'after'],
      ['{ users(before: "xyz") { totalCount } }', 'before'],
    ];
    for (const [query, field] of cases) {
      const res = await ws.gql(query);
      expect(codes(res.body)).toEqual(['BAD_USER_INPUT']);
      expect(res.body.errors![0].extensions.field).toBe(field);
    }
    // A descendants cursor is a path: an id cursor is not one.
    const idCursor = (await ws.ok('{ groups(first: 1) { pageInfo { endCursor } } }')).groups.pageInfo.endCursor;
    const res = await ws.gql(`{ groups(first: 1) { nodes { descendants(after: "${idCursor}") { totalCount } } } }`);
    expect(codes(res.body)).toEqual(['BAD_USER_INPUT']);
  });

  it('counts what a restricted key sees, and REST meta.total agrees, from the kept counts', async () => {
    const ws = await h.workspace();
    const a = await ws.group('A');
    const a1 = await ws.group('A1', a);
    await bulkChildren(h, ws, a1, 5, 'a1');
    const b = await ws.group('B');
    await bulkChildren(h, ws, b, 3, 'b');
    const key = await ws.key([`groups:read@${a}`, `groups:read@${a1}`]);
    const seen = await ws.gql('{ groups(first: 100) { totalCount nodes { id } } }', undefined, key);
    expect(seen.body.data.groups.totalCount).toBe(7);
    expect(seen.body.data.groups.nodes).toHaveLength(7);
    const rest = await h.request('GET', `/t/${ws.tenant.slug}/api/v1/groups?offset=2&limit=3`, { headers: { authorization: `Bearer ${key}` } });
    expect(rest.status).toBe(200);
    expect(rest.body.meta).toEqual({ total: 7, offset: 2, limit: 3 });
    const admin = await h.request('GET', `/t/${ws.tenant.slug}/api/v1/groups?limit=1`, { headers: { authorization: `Bearer ${ws.adminKey}` } });
    expect(admin.body.meta.total).toBe(11);
    const roots = await ws.ok('{ groups(rootsOnly: true) { totalCount } kids: groups(parentId: "' + a1 + '", first: 2) { totalCount nodes { id } } }');
    expect(roots.groups.totalCount).toBe(2);
    expect(roots.kids.totalCount).toBe(5);
  });

  it('answers parent { id } from the row, null where the parent is not visible, like a read of the parent', async () => {
    const ws = await h.workspace();
    const a = await ws.group('A');
    const a1 = await ws.group('A1', a);
    const a2 = await ws.group('A2', a1);
    const query = `{ g1: group(id: "${a1}") { parent { id } } g2: group(id: "${a2}") { parent { __typename id } full: parent { id name } } }`;
    expect(await ws.ok(`{ group(id: "${a2}") { parent { id } } }`)).toEqual({ group: { parent: { id: a1 } } });
    expect(await ws.ok(query)).toEqual({ g1: { parent: { id: a } }, g2: { parent: { __typename: 'Group', id: a1 }, full: { id: a1, name: 'A1' } } });
    const restricted = await ws.key([`groups:read@${a1}`]);
    const res = await ws.gql(query, undefined, restricted);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ g1: { parent: null }, g2: { parent: { __typename: 'Group', id: a1 }, full: { id: a1, name: 'A1' } } });
  });

  it('keeps every count equal to what a scan finds through creates, moves, deletes and user writes', async () => {
    const ws = await h.workspace();
    const ids: string[] = [];
    for (const i of range(12)) ids.push(await ws.group(`G${i}`, i === 0 ? null : ids[Math.floor((i * 7) % i)]));
    const moves: [number, number | null][] = [[5, 2], [3, null], [7, 11], [2, 9], [10, 1]];
    for (const [g, parent] of moves) {
      await ws.gql(`mutation { updateGroup(id: "${ids[g]}", input: { parentId: ${parent === null ? null : `"${ids[parent]}"`} }) { id } }`);
    }
    await ws.ok(`mutation { deleteGroup(id: "${ids[1]}") }`);
    await ws.ok(`mutation { deleteGroup(id: "${ids[9]}") }`);
    for (const i of range(3)) await ws.user(`C${i}`, `c${i}@example.com`);
    const drift = await h.db.prisma.$queryRaw<unknown[]>(Prisma.sql`
      SELECT g.id, g.child_count, g.subtree_size FROM groups g
      WHERE g.tenant_id = ${ws.tenant.id}::int AND (
        g.child_count <> (SELECT count(*) FROM groups c WHERE c.parent_group_id = g.id) OR
        g.subtree_size <> (SELECT count(*) FROM groups s WHERE s.path @> ARRAY[g.id]))`);
    expect(drift).toEqual([]);
    const counts = await workspaceCounts(h.db.prisma, ws.tenant.id);
    expect(counts.groups).toBe(await h.db.prisma.group.count({ where: { tenantId: ws.tenant.id } }));
    expect(counts.users).toBe(await h.db.prisma.user.count({ where: { tenantId: ws.tenant.id } }));
    const totals = await ws.ok('{ groups(first: 0) { totalCount } users(first: 0) { totalCount } }');
    expect(totals).toEqual({ groups: { totalCount: 10 }, users: { totalCount: counts.users } });
  });

  it('works with Apollo Client and relayStylePagination(): fetchMore appends the next page', async () => {
    const ws = await h.workspace();
    const root = await ws.group('Root');
    const kids = await bulkChildren(h, ws, root, 25, 'kid');
    const client = new ApolloClient({
      link: new HttpLink({ uri: `${h.baseUrl}/graphql`, headers: { authorization: `Bearer ${ws.adminKey}` } }),
      cache: new InMemoryCache({ typePolicies: { Group: { fields: { children: relayStylePagination() } } } }),
    });
    const CHILDREN = gql`
      query Children($id: ID!, $after: String) {
        group(id: $id) { id children(first: 10, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name } } } }
      }`;
    const first = await client.query<any>({ query: CHILDREN, variables: { id: root } });
    expect(first.data.group.children.edges).toHaveLength(10);
    let page = first.data.group.children;
    // What fetchMore does: ask the network for the page after the cache's end cursor; the type
    // policy merges it into the one cached list (whose read then holds every page so far).
    for (let pages = 1; page.pageInfo.hasNextPage && pages < 10; pages++) {
      const more = await client.query<any>({ query: CHILDREN, variables: { id: root, after: page.pageInfo.endCursor }, fetchPolicy: 'network-only' });
      expect(more.data.group.children.edges).toHaveLength(Math.min(25, (pages + 1) * 10));
      page = more.data.group.children;
    }
    expect(page.pageInfo.hasNextPage).toBe(false);
    const merged = client.readQuery<any>({ query: CHILDREN, variables: { id: root } });
    expect(merged.group.children.edges.map((edge: any) => edge.node.id)).toEqual(kids);
    expect(merged.group.children.totalCount).toBe(25);
    client.stop();
  });
});

function comparePaths(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
