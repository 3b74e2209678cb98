// Sorting: `orderBy` on groups, children, users and members, a keyset page at a time, names
// compared ignoring case (lower(name), then code point, then id).
import { Rest } from './support/rest';
import { ManualClock } from './support/clock';
import { type Harness, type Workspace, codes, eachBackend } from './support/harness';

type Field = 'NAME' | 'CREATED_AT' | 'ID';
type Direction = 'ASC' | 'DESC';
interface Row {
  id: number;
  name: string | null;
  createdAt: Date;
}

const PAGE = 'pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } nodes { id }';
const ORDERS: [Field, Direction][] = (['NAME', 'CREATED_AT', 'ID'] as Field[]).flatMap((f) => (['ASC', 'DESC'] as Direction[]).map((d): [Field, Direction] => [f, d]));

/** The order the service promises, computed here: lower(name) by code point, creation time, then id. */
function expectedOrder(rows: Row[], field: Field, direction: Direction): string[] {
  const value = (row: Row) => (field === 'NAME' ? Buffer.from((row.name ?? '').toLowerCase()) : field === 'CREATED_AT' ? row.createdAt.getTime() : 0);
  const sorted = [...rows].sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    const byValue = Buffer.isBuffer(x) ? Buffer.compare(x, y as Buffer) : (x as number) - (y as number);
    return byValue || a.id - b.id;
  });
  if (direction === 'DESC') sorted.reverse();
  return sorted.map((row) => String(row.id));
}

/** Every page of a connection, forwards (`first`/`after`) or backwards (`last`/`before`), as ids in the list's order. */
async function readAll(ws: Workspace, field: (window: string) => string, pick: (data: any) => any, size: number, backwards = false): Promise<string[]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  for (let guard = 0; guard < 200; guard++) {
    const window: string = backwards ? `last: ${size}${cursor ? `, before: "${cursor}"` : ''}` : `first: ${size}${cursor ? `, after: "${cursor}"` : ''}`;
    const conn = pick(await ws.ok(`{ ${field(window)} }`));
    const ids = conn.edges.map((edge: any) => edge.node.id);
    expect(conn.nodes.map((node: any) => node.id)).toEqual(ids);
    expect(ids.length).toBeLessThanOrEqual(size);
    pages.push(ids);
    if (!(backwards ? conn.pageInfo.hasPreviousPage : conn.pageInfo.hasNextPage)) break;
    cursor = backwards ? conn.pageInfo.startCursor : conn.pageInfo.endCursor;
  }
  return backwards ? pages.reverse().flat() : pages.flat();
}

// Siblings' names differ even ignoring case; equal names (ties) are under another parent or users'.
const NAMES = ['charlie', 'Beta', 'alpha', 'Delta', 'échelle', 'Zulu', 'bravo'];
const ELSEWHERE = ['beta', 'ALPHA'];

/**
 * A root with a child of each name, and a user of each name (and of the same names again, and
 * one without a name), each a member of the root and of a child. Creation times run against the
 * ids (the last made is the oldest), with two equal ones, so CREATED_AT is an order of its own
 * with a tie.
 */
async function seedNamed(h: Harness, ws: Workspace): Promise<{ root: string; groups: Row[]; children: Row[]; users: Row[] }> {
  const root = await ws.group('root');
  const kids: string[] = [];
  for (const name of NAMES) kids.push(await ws.group(name, root));
  const other = await ws.group('other');
  for (const name of ELSEWHERE) await ws.group(name, other);
  const userIds: string[] = [];
  for (const name of [...NAMES, ...ELSEWHERE]) userIds.push(await ws.user(name));
  userIds.push((await ws.ok('mutation { createUser(input: { email: "nameless@example.com" }) { id } }')).createUser.id);
  for (const [i, user] of userIds.entries()) {
    await ws.addMember(root, user);
    await ws.addMember(kids[i % kids.length], user);
  }
  const t = ws.tenant.id;
  await h.db.prisma.$executeRaw`UPDATE groups SET created_at = '2026-01-01T00:00:00Z'::timestamptz - (id || ' seconds')::interval WHERE tenant_id = ${t}::int`;
  await h.db.prisma.$executeRaw`UPDATE users SET created_at = '2026-01-01T00:00:00Z'::timestamptz - (id || ' seconds')::interval WHERE tenant_id = ${t}::int`;
  await h.db.prisma.$executeRaw`UPDATE groups SET created_at = '2025-06-01T00:00:00.123Z' WHERE id = ANY(${[Number(kids[1]), Number(kids[4])]}::int[])`;
  const select = { id: true, name: true, createdAt: true } as const;
  const groups = await h.db.prisma.group.findMany({ where: { tenantId: t }, select });
  const users = await h.db.prisma.user.findMany({ where: { tenantId: t }, select });
  const children = await h.db.prisma.group.findMany({ where: { tenantId: t, parentGroupId: Number(root) }, select });
  return { root, groups, children, users };
}

const orderArg = (field: Field, direction: Direction) => `orderBy: { field: ${field}, direction: ${direction} }`;

eachBackend(
  'Sorting',
  (h) => {
    it('sorts by name ignoring case: alpha, Beta, charlie; equal names by id', async () => {
      const ws = await h.workspace();
      const root = await ws.group('root');
      const [charlie, upperBeta, alpha] = [await ws.group('charlie', root), await ws.group('Beta', root), await ws.group('alpha', root)];
      const children = async (order: string) =>
        (await ws.ok(`{ group(id: "${root}") { children${order ? `(${order})` : ''} { nodes { id } } } }`)).group.children.nodes.map((n: any) => n.id);
      expect(await children('orderBy: { field: NAME }')).toEqual([alpha, upperBeta, charlie]);
      expect(await children('orderBy: { field: NAME, direction: DESC }')).toEqual([charlie, upperBeta, alpha]);
      expect(await children('')).toEqual([charlie, upperBeta, alpha]);
      const lowerBeta = await ws.group('beta');
      const all = async (direction: string) =>
        (await ws.ok(`{ groups(search: "ta", orderBy: { field: NAME, direction: ${direction} }) { nodes { id } } }`)).groups.nodes.map((n: any) => n.id);
      expect(await all('ASC')).toEqual([upperBeta, lowerBeta]);
      expect(await all('DESC')).toEqual([lowerBeta, upperBeta]);
    });

    it('pages each of groups, children, users and members (direct and inherited) in every order, forwards and backwards: every item once, in order', async () => {
      const ws = await h.workspace();
      const { root, groups, children, users } = await seedNamed(h, ws);
      const connections: [string, Row[], (w: string) => string, (d: any) => any][] = [
        ['groups', groups, (w) => `groups(${w}) { ${PAGE} }`, (d) => d.groups],
        ['children', children, (w) => `group(id: "${root}") { children(${w}) { ${PAGE} } }`, (d) => d.group.children],
        ['users', users, (w) => `users(${w}) { ${PAGE} }`, (d) => d.users],
        ['members', users, (w) => `group(id: "${root}") { members(${w}) { ${PAGE} } }`, (d) => d.group.members],
        ['inherited members', users, (w) => `group(id: "${root}") { members(inherited: true, ${w}) { ${PAGE} } }`, (d) => d.group.members],
      ];
      for (const [name, rows, field, pick] of connections) {
        for (const [f, d] of ORDERS) {
          const expected = expectedOrder(rows, f, d);
          const sorted = (w: string) => field(`${w}, ${orderArg(f, d)}`);
          expect({ name, f, d, ids: await readAll(ws, sorted, pick, 3) }).toEqual({ name, f, d, ids: expected });
          expect({ name, f, d, ids: await readAll(ws, sorted, pick, 4, true) }).toEqual({ name, f, d, ids: expected });
        }
      }
    });

    it('walks the users in name order for the inherited members of a subtree holding much of the workspace', async () => {
      const ws = await h.workspace();
      const big = await ws.group('Big');
      const t = ws.tenant.id;
      // 260 leaves in one statement: more than 200 groups below Big, so its inherited members walk the users.
      const leaves = await h.db.prisma.$queryRaw<{ id: number }[]>`
        WITH ids AS (SELECT nextval(pg_get_serial_sequence('groups', 'id'))::int AS id, n FROM generate_series(1, 260) AS n)
        INSERT INTO groups (id, tenant_id, name, parent_group_id, path)
        SELECT id, ${t}::int, 'leaf-' || n, ${Number(big)}::int, ARRAY[${Number(big)}::int, id] FROM ids ORDER BY n RETURNING id`;
      const below: string[] = [];
      for (const [i, name] of ['mike', 'Lima', 'kilo', 'Juliet', 'india'].entries()) {
        const user = await ws.user(name);
        await ws.addMember(String(leaves[i * 40].id), user);
        below.push(user);
      }
      await ws.user('aardvark'); // a member of nothing: not walked into the page
      const byName = await readAll(ws, (w) => `group(id: "${big}") { members(inherited: true, ${w}, orderBy: { field: NAME }) { ${PAGE} } }`, (d) => d.group.members, 2);
      expect(byName).toEqual([...below].reverse());
    });

    it('refuses a cursor used with another order, with BAD_USER_INPUT naming the argument', async () => {
      const ws = await h.workspace();
      const root = await ws.group('root');
      for (const name of ['a', 'B', 'c']) await ws.group(name, root);
      const page = (order: string, after = '') =>
        ws.gql(`{ group(id: "${root}") { children(first: 1${after ? `, after: "${after}"` : ''}${order ? `, ${order}` : ''}) { pageInfo { endCursor } } } }`);
      const byName = (await page('orderBy: { field: NAME }')).body.data.group.children.pageInfo.endCursor;
      const byId = (await page('')).body.data.group.children.pageInfo.endCursor;
      for (const [order, cursor] of [
        ['orderBy: { field: NAME, direction: DESC }', byName],
        ['orderBy: { field: CREATED_AT }', byName],
        ['', byName],
        ['orderBy: { field: NAME }', byId],
        ['orderBy: { field: ID, direction: DESC }', byId],
      ]) {
        const res = await page(order, cursor);
        expect(codes(res.body)).toEqual(['BAD_USER_INPUT']);
        expect(res.body.errors![0].extensions.field).toBe('after');
      }
      expect((await page('orderBy: { field: NAME }', byName)).body.errors).toBeUndefined();
      // A forged cursor of the right order is refused as well, before it reaches the database.
      const forge = (o: string, v: unknown, id: unknown = 1) => Buffer.from(JSON.stringify({ o, v, id })).toString('base64url');
      for (const [order, cursor] of [
        ['orderBy: { field: CREATED_AT }', forge('CREATED_AT ASC', '2026-02-30T00:00:00.000Z')],
        ['orderBy: { field: CREATED_AT }', forge('CREATED_AT ASC', 'yesterday')],
        ['orderBy: { field: NAME }', forge('NAME ASC', 'a\u0000b')],
        ['orderBy: { field: NAME }', forge('NAME ASC', 'a', 2 ** 31)],
        ['orderBy: { field: NAME }', forge('NAME ASC', 7)],
        ['orderBy: { field: ID, direction: DESC }', forge('ID DESC', 'x')],
        ['orderBy: { field: NAME }', 'bm90IGpzb24'],
      ]) {
        expect({ cursor, codes: codes((await page(order, cursor)).body) }).toEqual({ cursor, codes: ['BAD_USER_INPUT'] });
      }
    });

    it('keeps the default: by id ascending, the same cursors as without orderBy, and REST lists by id', async () => {
      const ws = await h.workspace();
      const ids: string[] = [];
      for (const name of ['zeta', 'Alpha', 'mu']) ids.push(await ws.group(name));
      const plain = (await ws.ok(`{ groups { edges { cursor node { id } } } }`)).groups.edges;
      const explicit = (await ws.ok(`{ groups(orderBy: { field: ID, direction: ASC }) { edges { cursor node { id } } } }`)).groups.edges;
      expect(plain.map((e: any) => e.node.id)).toEqual(ids);
      expect(explicit).toEqual(plain);
      expect(plain.map((e: any) => Buffer.from(e.cursor, 'base64url').toString())).toEqual(ids.map((id) => `i:${id}`));
      const rest = await new Rest(ws).get('/groups');
      expect(rest.body.data.map((g: any) => String(g.id))).toEqual(ids);
    });

    it('answers a sorted tree with as many SQL statements for 3 groups as for 40', async () => {
      const ws = await h.workspace();
      const users: string[] = [];
      for (const name of ['x', 'Y', 'z']) users.push(await ws.user(name));
      // Every group a page of roots sorted by name returns has a child and a member.
      for (let i = 0; i < 40; i++) {
        const group = await ws.group(`a${(i * 7) % 40}`);
        await ws.group(`z${i}`, group);
        await ws.addMember(group, users[i % 3]);
      }
      await ws.gql('{ viewer { scopes } }');
      await h.app.settled();
      const query = (first: number) => `{ groups(first: ${first}, rootsOnly: true, orderBy: { field: NAME }) { nodes { id
        children(first: 3, orderBy: { field: NAME, direction: DESC }) { nodes { id } }
        members(first: 3, orderBy: { field: NAME }) { nodes { id } }
        inherited: members(inherited: true, first: 3, orderBy: { field: CREATED_AT }) { nodes { id } }
      } } }`;
      const count = async (first: number) => {
        const before = h.db.statements.total;
        const res = await ws.gql(query(first));
        expect(res.body.errors).toBeUndefined();
        return { statements: h.db.statements.total - before, groups: res.body.data.groups.nodes.length };
      };
      const small = await count(3);
      const large = await count(40);
      expect([small.groups, large.groups]).toEqual([3, 40]);
      expect(large.statements).toBe(small.statements);
    });
  },
  { app: { clock: new ManualClock() } },
);
