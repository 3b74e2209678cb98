// Subtree restrictions are decided against the tree as it is when the write happens: the domain
// checks them inside its transaction on its own (the directive is not the only guard), and a
// restriction follows groups as they move in or out of the subtree.
import { groupAccessOf, makePrincipal } from '../../src/auth/principal';
import type { DomainContext } from '../../src/domain/context';
import { ForbiddenError } from '../../src/domain/errors';
import * as groups from '../../src/domain/groups';
import * as members from '../../src/domain/members';
import { type Workspace, codes, eachBackend } from '../support/harness';

interface Tree {
  R: number;
  A: number;
  A1: number;
  B: number;
  S: number;
  alice: number;
}

/** R ─ A ─ A1, R ─ B, S; alice ∈ B. */
async function tree(ws: Workspace): Promise<Tree> {
  const R = await ws.group('R');
  const A = await ws.group('A', R);
  const A1 = await ws.group('A1', A);
  const B = await ws.group('B', R);
  const S = await ws.group('S');
  const alice = await ws.user('Alice');
  await ws.addMember(B, alice);
  return { R: +R, A: +A, A1: +A1, B: +B, S: +S, alice: +alice };
}

/** The domain context a credential holding exactly `scopes` gets. */
function contextOf(ws: Workspace, scopes: string[]): DomainContext {
  return { ...ws.ctx, access: groupAccessOf(makePrincipal(ws.tenant, scopes)) };
}

async function groupsAndMembers(ws: Workspace) {
  const db = ws.h.db.prisma;
  return {
    groups: await db.group.findMany({ where: { tenantId: ws.tenant.id }, orderBy: { id: 'asc' } }),
    members: await db.groupMember.findMany({ where: { tenantId: ws.tenant.id }, orderBy: [{ groupId: 'asc' }, { userId: 'asc' }] }),
  };
}

eachBackend('subtree restrictions in the domain', (h) => {
  it.each<[string, string, (ctx: DomainContext, t: Tree) => Promise<unknown>]>([
    ['creating a group in a sibling subtree', 'groups:write', (ctx, t) => groups.createGroup(ctx, { name: 'x', parentId: t.B })],
    ['creating a root', 'groups:write', (ctx) => groups.createGroup(ctx, { name: 'x', parentId: null })],
    ['renaming a group outside', 'groups:write', (ctx, t) => groups.updateGroup(ctx, t.B, { name: 'x' })],
    ['moving a group out of the subtree', 'groups:write', (ctx, t) => groups.updateGroup(ctx, t.A1, { parentId: t.B })],
    ['moving a group of the subtree to the top level', 'groups:write', (ctx, t) => groups.updateGroup(ctx, t.A1, { parentId: null })],
    ['moving the restriction root', 'groups:write', (ctx, t) => groups.updateGroup(ctx, t.A, { parentId: t.S })],
    ['deleting the restriction root', 'groups:write', (ctx, t) => groups.deleteGroup(ctx, t.A)],
    ['deleting a group outside', 'groups:write', (ctx, t) => groups.deleteGroup(ctx, t.B)],
    ['adding a member outside', 'groups:members:write', (ctx, t) => members.addGroupMember(ctx, t.S, t.alice)],
    ['removing a member outside', 'groups:members:write', (ctx, t) => members.removeGroupMember(ctx, t.B, t.alice)],
    ['setting the members outside', 'groups:members:write', (ctx, t) => members.setGroupMembers(ctx, t.B, [])],
  ])('refuses %s to %s@A with a ForbiddenError, changing nothing', async (_, scope, write) => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const before = await groupsAndMembers(ws);
    const refused = write(contextOf(ws, [`${scope}@${t.A}`]), t);
    await expect(refused).rejects.toBeInstanceOf(ForbiddenError);
    await expect(refused).rejects.toMatchObject({ requiredScopes: [[scope]] });
    expect(await groupsAndMembers(ws)).toEqual(before);
  });

  it('refuses groups:members:write@A the group writes that groups:write@A may do', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const ctx = contextOf(ws, [`groups:members:write@${t.A}`]);
    await expect(groups.createGroup(ctx, { name: 'x', parentId: t.A1 })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(groups.updateGroup(ctx, t.A1, { name: 'x' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(members.addGroupMember(ctx, t.A1, t.alice)).resolves.toMatchObject({ id: t.A1 });
  });

  it('stops a restricted key writing a group once the group is moved out of its subtree', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key([`groups:write@${t.A}`]);
    const rename = 'mutation($id: ID!) { updateGroup(id: $id, input: { name: "renamed" }) { name } }';
    expect((await ws.gql(rename, { id: String(t.A1) }, key)).body.data).toEqual({ updateGroup: { name: 'renamed' } });

    await ws.ok('mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p }) { id } }', { id: String(t.A1), p: String(t.B) });
    const res = await ws.gql(rename, { id: String(t.A1) }, key);
    expect(codes(res.body)).toEqual(['FORBIDDEN']);
    expect((await ws.gql('query($id: ID!) { group(id: $id) { id } }', { id: String(t.A1) }, key)).body.data).toEqual({ group: null });
  });

  it('lets a restricted key write and see a group once it is moved into its subtree', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key([`groups:write@${t.A}`]);
    const addChild = 'mutation($p: ID) { createGroup(input: { name: "child", parentId: $p }) { id } }';
    expect(codes((await ws.gql(addChild, { p: String(t.S) }, key)).body)).toEqual(['FORBIDDEN']);

    await ws.ok('mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p }) { id } }', { id: String(t.S), p: String(t.A1) });
    const res = await ws.gql(addChild, { p: String(t.S) }, key);
    expect(res.body.errors).toBeUndefined();
    const seen = await ws.gql('query($id: ID!) { group(id: $id) { ancestors { id } } }', { id: res.body.data.createGroup.id }, key);
    expect(seen.body.data.group.ancestors).toEqual([{ id: String(t.S) }, { id: String(t.A1) }, { id: String(t.A) }]);
  });
});
