// Subtree restrictions are decided against the tree as it is when the write happens: the domain
// checks them inside its transaction on its own (the directive is not the only guard), and a
// restriction follows groups as they move in or out of the subtree.
import { groupAccessOf, makePrincipal } from '../../src/auth/principal';
import type { DomainContext } from '../../src/domain/context';
import { DomainError, ForbiddenError, NotFoundError } from '../../src/domain/errors';
import * as groups from '../../src/domain/groups';
import * as members from '../../src/domain/members';
import * as roles from '../../src/domain/roles';
import { type GraphQLBody, type Response, type Workspace, codes, eachBackend } from '../support/harness';
import { buildTree, numericIds } from '../support/tree-fixture';

/** R ─ A ─ A1, R ─ B, S; alice ∈ B. */
async function tree(ws: Workspace) {
  return numericIds(
    await buildTree(ws, { groups: { R: { A: { A1: {} }, B: {} }, S: {} }, users: { alice: 'Alice' }, members: { B: ['alice'] } }),
  );
}
type Tree = Awaited<ReturnType<typeof tree>>;

/** The domain context a credential holding exactly `scopes` gets. */
function contextOf(ws: Workspace, scopes: string[]): DomainContext {
  return { ...ws.ctx, access: groupAccessOf(makePrincipal(ws.tenant, scopes)) };
}

/** An id no workspace has. */
const UNKNOWN_ID = 2_147_483_000;

/** What a caller is told of an error, with the id it named masked: refusals must not differ otherwise. */
function describeError(error: unknown, id: number) {
  if (!(error instanceof DomainError)) return error;
  const mask = (text: string) => text.replace(new RegExp(`(?<![0-9])${id}(?![0-9])`, 'g'), '<id>');
  return { type: error.constructor.name, code: error.code, message: mask(error.message), details: JSON.parse(mask(JSON.stringify(error.details))) };
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
    ['creating a root', 'groups:write', (ctx) => groups.createGroup(ctx, { name: 'x', parentId: null })],
    ['moving a group of the subtree to the top level', 'groups:write', (ctx, t) => groups.updateGroup(ctx, t.A1, { parentId: null })],
    ['moving the restriction root', 'groups:write', (ctx, t) => groups.updateGroup(ctx, t.A, { parentId: t.S })],
    ['deleting the restriction root', 'groups:write', (ctx, t) => groups.deleteGroup(ctx, t.A)],
  ])('refuses %s to %s@A with a ForbiddenError, changing nothing', async (_, scope, write) => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const before = await groupsAndMembers(ws);
    const refused = write(contextOf(ws, [`${scope}@${t.A}`]), t);
    await expect(refused).rejects.toBeInstanceOf(ForbiddenError);
    await expect(refused).rejects.toMatchObject({ requiredScopes: [[scope]] });
    expect(await groupsAndMembers(ws)).toEqual(before);
  });

  // [what, scope, the write naming an outside group, the same write naming an unknown id]
  const outside: [string, string, (ctx: DomainContext, t: Tree, group: number) => Promise<unknown>][] = [
    ['creating a group under a group outside', 'groups:write', (ctx, _, g) => groups.createGroup(ctx, { name: 'x', parentId: g })],
    ['renaming a group outside', 'groups:write', (ctx, _, g) => groups.updateGroup(ctx, g, { name: 'x' })],
    ['moving a group of the subtree under a group outside', 'groups:write', (ctx, t, g) => groups.updateGroup(ctx, t.A1, { parentId: g })],
    ['moving a group outside into the subtree', 'groups:write', (ctx, t, g) => groups.updateGroup(ctx, g, { parentId: t.A1 })],
    ['deleting a group outside', 'groups:write', (ctx, _, g) => groups.deleteGroup(ctx, g)],
    ['adding a member to a group outside', 'groups:members:write', (ctx, t, g) => members.addGroupMember(ctx, g, t.alice)],
    ['removing a member from a group outside', 'groups:members:write', (ctx, t, g) => members.removeGroupMember(ctx, g, t.alice)],
    ['setting the members of a group outside', 'groups:members:write', (ctx, _, g) => members.setGroupMembers(ctx, g, [])],
  ];

  it.each(outside)('refuses %s to %s@A with the NotFoundError of an unknown id, changing nothing', async (_, scope, write) => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const before = await groupsAndMembers(ws);
    const ctx = contextOf(ws, [`${scope}@${t.A}`]);
    for (const hidden of [t.B, t.S, t.R]) {
      const refusal = await write(ctx, t, hidden).then(() => null, (error: unknown) => error);
      const unknown = await write(ctx, t, UNKNOWN_ID).then(() => null, (error: unknown) => error);
      expect(refusal).toBeInstanceOf(NotFoundError);
      expect(describeError(refusal, hidden)).toEqual(describeError(unknown, UNKNOWN_ID));
    }
    expect(await groupsAndMembers(ws)).toEqual(before);
  });

  it.each(outside)('still refuses %s to %s@A with a ForbiddenError when the key can read the group', async (_, scope, write) => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const before = await groupsAndMembers(ws);
    const refused = write(contextOf(ws, ['groups:read', `${scope}@${t.A}`]), t, t.B);
    await expect(refused).rejects.toBeInstanceOf(ForbiddenError);
    await expect(refused).rejects.toMatchObject({ requiredScopes: [[scope]] });
    expect(await groupsAndMembers(ws)).toEqual(before);
  });

  it.each([['assigning', true] as const, ['unassigning', false] as const])(
    'treats %s a role on a group the key cannot read as on an unknown id: NotFoundError, changing nothing',
    async (_, assigned) => {
      const ws = await h.workspace();
      const t = await tree(ws);
      const role = Number(await ws.role('r'));
      await ws.assignGroupRole(String(t.B), String(role));
      const rolesBefore = await ws.h.db.prisma.groupRole.findMany({ where: { tenantId: ws.tenant.id } });
      for (const scopes of [['roles:write'], ['roles:write', `groups:read@${t.A}`]]) {
        const ctx = contextOf(ws, scopes);
        const refusal = await roles.setGroupRole(ctx, t.B, role, assigned).then(() => null, (error: unknown) => error);
        const unknown = await roles.setGroupRole(ctx, UNKNOWN_ID, role, assigned).then(() => null, (error: unknown) => error);
        expect(refusal).toBeInstanceOf(NotFoundError);
        expect(describeError(refusal, t.B)).toEqual(describeError(unknown, UNKNOWN_ID));
      }
      expect(await ws.h.db.prisma.groupRole.findMany({ where: { tenantId: ws.tenant.id } })).toEqual(rolesBefore);
      await expect(roles.setGroupRole(contextOf(ws, ['roles:write', `groups:read@${t.A}`]), t.A1, role, assigned)).resolves.toMatchObject({ id: t.A1 });
    },
  );

  it('refuses groups:members:write@A the group writes that groups:write@A may do', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const ctx = contextOf(ws, [`groups:members:write@${t.A}`]);
    await expect(groups.createGroup(ctx, { name: 'x', parentId: t.A1 })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(groups.updateGroup(ctx, t.A1, { name: 'x' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(members.addGroupMember(ctx, t.A1, t.alice)).resolves.toMatchObject({ id: t.A1 });
  });

  it('stops a restricted key finding or writing a group once the group is moved out of its subtree', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key([`groups:write@${t.A}`]);
    const rename = 'mutation($id: ID!) { updateGroup(id: $id, input: { name: "renamed" }) { name } }';
    expect((await ws.gql(rename, { id: String(t.A1) }, key)).body.data).toEqual({ updateGroup: { name: 'renamed' } });

    await ws.ok('mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p }) { id } }', { id: String(t.A1), p: String(t.B) });
    const res = await ws.gql(rename, { id: String(t.A1) }, key);
    expect(codes(res.body)).toEqual(['NOT_FOUND']);
    expect((await ws.gql('query($id: ID!) { group(id: $id) { id } }', { id: String(t.A1) }, key)).body.data).toEqual({ group: null });
  });

  it('lets a restricted key write and see a group once it is moved into its subtree', async () => {
    const ws = await h.workspace();
    const t = await tree(ws);
    const key = await ws.key([`groups:write@${t.A}`]);
    const addChild = 'mutation($p: ID) { createGroup(input: { name: "child", parentId: $p }) { id } }';
    expect(codes((await ws.gql(addChild, { p: String(t.S) }, key)).body)).toEqual(['NOT_FOUND']);

    await ws.ok('mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p }) { id } }', { id: String(t.S), p: String(t.A1) });
    const res = await ws.gql(addChild, { p: String(t.S) }, key);
    expect(res.body.errors).toBeUndefined();
    const seen = await ws.gql('query($id: ID!) { group(id: $id) { ancestors { id } } }', { id: res.body.data.createGroup.id }, key);
    expect(seen.body.data.group.ancestors).toEqual([{ id: String(t.S) }, { id: String(t.A1) }, { id: String(t.A) }]);
  });
});

/** A GraphQL response with the id it named masked in messages and extensions (locations come from the query text, the same). */
function maskedResponse(res: Response<GraphQLBody>, id: number) {
  const mask = (text: string) => text.replace(new RegExp(`(?<![0-9])${id}(?![0-9])`, 'g'), '<id>');
  return {
    status: res.status,
    data: res.body.data,
    errors: (res.body.errors ?? []).map((e) => ({ ...e, message: mask(e.message), extensions: JSON.parse(mask(JSON.stringify(e.extensions))) })),
  };
}

eachBackend('groups a credential cannot read, in GraphQL mutations', (h) => {
  const mutations: [string, string, (t: Tree & { role: number }, group: string) => Record<string, unknown>][] = [
    ['createGroup under it', 'mutation($g: ID) { createGroup(input: { name: "x", parentId: $g }) { id } }', (_, g) => ({ g })],
    ['updateGroup renaming it', 'mutation($g: ID!) { updateGroup(id: $g, input: { name: "x" }) { id } }', (_, g) => ({ g })],
    ['updateGroup moving a group of the subtree under it', 'mutation($id: ID!, $g: ID) { updateGroup(id: $id, input: { parentId: $g }) { id } }', (t, g) => ({ id: String(t.A1), g })],
    ['deleteGroup', 'mutation($g: ID!) { deleteGroup(id: $g) }', (_, g) => ({ g })],
    ['addGroupMember', 'mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }', (t, g) => ({ g, u: String(t.alice) })],
    ['removeGroupMember', 'mutation($g: ID!, $u: ID!) { removeGroupMember(groupId: $g, userId: $u) { id } }', (t, g) => ({ g, u: String(t.alice) })],
    ['setGroupMembers', 'mutation($g: ID!) { setGroupMembers(groupId: $g, userIds: []) { added { id } } }', (_, g) => ({ g })],
    ['assignGroupRole', 'mutation($g: ID!, $r: ID!) { assignGroupRole(groupId: $g, roleId: $r) { id } }', (t, g) => ({ g, r: String(t.role) })],
    ['unassignGroupRole', 'mutation($g: ID!, $r: ID!) { unassignGroupRole(groupId: $g, roleId: $r) { id } }', (t, g) => ({ g, r: String(t.role) })],
    ['createApiKey restricted to it', 'mutation($s: String!) { createApiKey(input: { name: "k", scopes: [$s] }) { key } }', (_, g) => ({ s: `groups:read@${g}` })],
  ];

  it.each(mutations)('answers %s on a group outside the key’s subtree exactly as on an unknown id (NOT_FOUND)', async (_, query, variables) => {
    const ws = await h.workspace();
    const t = { ...(await tree(ws)), role: Number(await ws.role('r')) };
    await ws.assignGroupRole(String(t.B), String(t.role));
    const key = await ws.key([`groups:write@${t.A}`, 'roles:write', 'apikeys:write']);
    const before = await groupsAndMembers(ws);
    const unknown = maskedResponse(await ws.gql(query, variables(t, String(UNKNOWN_ID)), key), UNKNOWN_ID);
    expect(unknown.errors.map((e) => e.extensions.code)).toEqual(['NOT_FOUND']);
    for (const hidden of [t.B, t.R, t.S]) {
      expect(maskedResponse(await ws.gql(query, variables(t, String(hidden)), key), hidden)).toEqual(unknown);
    }
    expect(await groupsAndMembers(ws)).toEqual(before);
  });

  it.each(mutations.filter(([name]) => !name.startsWith('createApiKey') && !name.includes('GroupRole')))(
    'keeps FORBIDDEN for %s on a group the key can read but not write',
    async (_, query, variables) => {
      const ws = await h.workspace();
      const t = { ...(await tree(ws)), role: Number(await ws.role('r')) };
      const key = await ws.key(['groups:read', `groups:write@${t.A}`]);
      const res = await ws.gql(query, variables(t, String(t.B)), key);
      expect(codes(res.body)).toEqual(['FORBIDDEN']);
    },
  );
});
