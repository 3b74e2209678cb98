// N+1-free by construction: the statement count of a response does not grow with the
// number of groups in it. Counted through the driver adapter (src/db/statement-counter.ts).
import { createGroup } from '../src/domain/groups';
import { addGroupMember } from '../src/domain/members';
import { createRole, setGroupRole } from '../src/domain/roles';
import { createUser } from '../src/domain/users';
import { eachBackend, type Harness, type Workspace } from './support/harness';

const QUERY = (limit: number) => `{ groups(limit: ${limit}) { nodes {
  parent { id } children { id } ancestors { id } members { id } effectiveRoles { id } } } }`;

/** 120 groups in chains of depth up to 4, with members and roles spread over them. */
async function seedOrg(ws: Workspace): Promise<void> {
  const ctx = ws.ctx;
  const roles = [];
  for (let i = 0; i < 4; i += 1) roles.push(await createRole(ctx, { name: `role-${i}` }));
  const users = [];
  for (let i = 0; i < 10; i += 1) users.push(await createUser(ctx, { email: `u${i}@org.example`, name: `U${i}` }));
  let parent: number | null = null;
  for (let i = 0; i < 120; i += 1) {
    const group = await createGroup(ctx, { name: `g${i}`, parentId: i % 4 === 0 ? null : parent });
    parent = group.id;
    await addGroupMember(ctx, group.id, users[i % users.length].id);
    if (i % 3 === 0) await setGroupRole(ctx, group.id, roles[i % roles.length].id, true);
  }
}

async function countStatements(h: Harness, ws: Workspace, query: string): Promise<{ count: number; nodes: number }> {
  const before = h.db.statements.total;
  const res = await ws.gql(query);
  const count = h.db.statements.total - before;
  expect(res.body.errors).toBeUndefined();
  return { count, nodes: res.body.data.groups.nodes.length };
}

eachBackend('SQL statements per response', (h) => {
  it('issues the same small number of statements for 5 groups as for 100', async () => {
    const ws = await h.workspace();
    await seedOrg(ws);
    await ws.gql('{ viewer { scopes } }'); // the key's first use also records lastUsedAt
    await new Promise((resolve) => setTimeout(resolve, 50));

    const small = await countStatements(h, ws, QUERY(5));
    const large = await countStatements(h, ws, QUERY(100));
    expect(small.nodes).toBe(5);
    expect(large.nodes).toBe(100);
    expect(large.count).toBe(small.count);
    expect(large.count).toBeLessThanOrEqual(10);
  });
});
