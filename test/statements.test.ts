// N+1-free by construction: the statement count of a response does not grow with the
// number of groups in it. Counted through the driver adapter (src/db/statement-counter.ts).
import { RequestWork } from '../src/edge/request-work';
import { ManualClock } from './support/clock';
import { eachBackend, type Harness, type Workspace } from './support/harness';
import { type GroupTree, buildTree } from './support/tree-fixture';

// Every relation of a group, the paginated ones a page at a time with their totals, and a
// second level below them (the groups of each member, the children of each child).
const QUERY = (first: number) => `{ groups(first: ${first}) { totalCount nodes {
  parent { id } ancestors { id } effectiveRoles { id } roles { id } memberCount(inherited: true)
  children(first: 10) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id children(first: 2) { nodes { id } } } } }
  descendants(first: 5) { totalCount nodes { id depth } }
  members(first: 10) { totalCount nodes { id groups(first: 5) { totalCount nodes { id } } } }
  inherited: members(inherited: true, first: 10) { totalCount nodes { id } }
} } }`;

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** 120 groups in chains of depth up to 4 (g0 ─ g1 ─ g2 ─ g3, g4 ─ …), with members and roles spread over them. */
async function seedOrg(ws: Workspace): Promise<void> {
  const chainFrom = (i: number): GroupTree => (i % 4 === 3 ? {} : { [`g${i + 1}`]: chainFrom(i + 1) });
  await buildTree(ws, {
    groups: Object.fromEntries(range(30).map((c) => [`g${c * 4}`, chainFrom(c * 4)])),
    order: 'depth-first',
    users: Object.fromEntries(range(10).map((i) => [`u${i}`, `U${i}`])),
    roles: range(4).map((i) => `role-${i}`),
    members: Object.fromEntries(range(120).map((i) => [`g${i}`, [`u${i % 10}`]])),
    groupRoles: Object.fromEntries(range(120).filter((i) => i % 3 === 0).map((i) => [`g${i}`, [`role-${i % 4}`]])),
  });
}

async function countStatements(h: Harness, ws: Workspace, query: string): Promise<{ count: number; nodes: number }> {
  const before = h.db.statements.total;
  const res = await ws.gql(query);
  const count = h.db.statements.total - before;
  expect(res.body.errors).toBeUndefined();
  return { count, nodes: res.body.data.groups.nodes.length };
}

eachBackend('SQL statements per response', (h) => {
  it('issues the same small number of statements for a page of 5 groups as for 100, paginated relations included', async () => {
    const ws = await h.workspace();
    await seedOrg(ws);
    await ws.gql('{ viewer { scopes } }'); // the key's first use also records lastUsedAt, after the response
    await h.app.settled();

    const small = await countStatements(h, ws, QUERY(5));
    const large = await countStatements(h, ws, QUERY(100));
    expect(small.nodes).toBe(5);
    expect(large.nodes).toBe(100);
    expect(large.count).toBe(small.count);
    // groups + total, then per relation one statement for the page's links and one for its rows.
    expect(large.count).toBeLessThanOrEqual(24);
    // Fields that wait for the event loop's next turn (so a disconnect is heard) still batch with
    // their siblings: with a turn before every field, the same statements.
    RequestWork.yieldEveryMs = 0;
    try {
      expect(await countStatements(h, ws, QUERY(100))).toEqual(large);
    } finally {
      RequestWork.yieldEveryMs = 20;
    }
  });
  // A clock that stands still: the key, remembered by the credential cache, does not age out of it
  // between the two requests however long they take (a lookup would add its statements to one of
  // them), and its use is recorded once.
}, { app: { clock: new ManualClock() } });
