// The move preview (issue 27): `moveImpact` in GraphQL and `PUT …?dryRun=true` in REST compute what
// moving a group would change (per user, roles gained and lost with the groups granting them;
// totals; refusals) without writing anything, with the visibility rules of every read.
import { MAX_GROUP_DEPTH, type Workspace, codes, eachBackend } from './support/harness';
import { Rest } from './support/rest';
import { buildTree } from './support/tree-fixture';

/**
 *   R (viewer) ─ A (admin, ops) ─ A1 (auditor) ─ A11
 *              └ B (editor, ops) ─ B1 (support)
 *   S
 * alice ∈ A1; bob ∈ A11 and holds admin directly; carol ∈ A11 and B; dave ∈ A (outside the
 * subtree); erin ∈ A1, deactivated; frank ∈ A1 and A.
 */
async function world(ws: Workspace) {
  const t = await buildTree(ws, {
    groups: { R: { A: { A1: { A11: {} } }, B: { B1: {} } }, S: {} },
    users: { alice: 'Alice', bob: 'Bob', carol: 'Carol', dave: 'Dave', erin: 'Erin', frank: 'Frank' },
    roles: ['viewer', 'admin', 'ops', 'editor', 'support', 'auditor'],
    members: { A1: ['alice', 'erin', 'frank'], A11: ['bob', 'carol'], A: ['dave', 'frank'], B: ['carol'] },
    groupRoles: { R: ['viewer'], A: ['admin', 'ops'], A1: ['auditor'], B: ['editor', 'ops'], B1: ['support'] },
    userRoles: { bob: ['admin'] },
  });
  await ws.ok('mutation($id: ID!) { updateUser(id: $id, input: { active: false }) { id } }', { id: t.erin });
  return t;
}

const PREVIEW = `query($g: ID!, $p: ID, $first: Int, $after: String, $last: Int, $before: String) {
  moveImpact(groupId: $g, newParentId: $p) {
    group { id } fromParent { id } toParent { id } allowed
    refusals { code errorCode message }
    totals { usersAffected rolesGained rolesLost }
    users(first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { user { id } gained { role { id } grantedBy { id } } lost { role { id } grantedBy { id } } }
    }
  }
}`;

const change = (role: string, ...groups: string[]) => ({ role: { id: role }, grantedBy: groups.map((id) => ({ id })) });

/** Each user's effective role ids, read through the API. */
async function effectiveRoles(ws: Workspace, userIds: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const id of userIds) {
    const data = await ws.ok('query($id: ID!) { user(id: $id) { effectiveRoles { role { id } } } }', { id });
    out[id] = data.user.effectiveRoles.map((e: { role: { id: string } }) => e.role.id).sort();
  }
  return out;
}

/** What the database holds of the workspace that a write would change: groups (versions, paths) and the audit trail. */
async function written(ws: Workspace) {
  const db = ws.h.db.prisma;
  const tenantId = ws.tenant.id;
  const [groups, events] = await Promise.all([
    db.group.findMany({ where: { tenantId }, orderBy: { id: 'asc' } }),
    db.auditEvent.count({ where: { tenantId } }),
  ]);
  return { groups, events };
}

eachBackend('move preview (moveImpact)', (h) => {
  it('lists per user the roles gained and lost with the groups granting them, and the totals', async () => {
    const ws = await h.workspace();
    const t = await world(ws);
    const data = await ws.ok(PREVIEW, { g: t.A1, p: t.B1, first: 100 });
    const impact = data.moveImpact;
    expect(impact).toMatchObject({ group: { id: t.A1 }, fromParent: { id: t.A }, toParent: { id: t.B1 }, allowed: true, refusals: [] });
    // viewer (R) and ops (A and B) are granted on both sides; auditor (A1) moves with the subtree.
    expect(impact.users.nodes).toEqual([
      { user: { id: t.alice }, gained: [change(t.editor, t.B), change(t.support, t.B1)], lost: [change(t.admin, t.A)] },
      { user: { id: t.bob }, gained: [change(t.editor, t.B), change(t.support, t.B1)], lost: [] },
      { user: { id: t.carol }, gained: [change(t.support, t.B1)], lost: [change(t.admin, t.A)] },
      { user: { id: t.frank }, gained: [change(t.editor, t.B), change(t.support, t.B1)], lost: [] },
    ]);
    expect(impact.totals).toEqual({ usersAffected: 4, rolesGained: 7, rolesLost: 2 });
    expect(impact.users.totalCount).toBe(4);
  });

  it('pages the affected users forwards and backwards with cursors', async () => {
    const ws = await h.workspace();
    const t = await world(ws);
    const ids = (res: any) => res.moveImpact.users.nodes.map((n: any) => n.user.id);
    const first = await ws.ok(PREVIEW, { g: t.A1, p: t.B1, first: 3 });
    expect(ids(first)).toEqual([t.alice, t.bob, t.carol]);
    expect(first.moveImpact.users.pageInfo.hasNextPage).toBe(true);
    const second = await ws.ok(PREVIEW, { g: t.A1, p: t.B1, first: 3, after: first.moveImpact.users.pageInfo.endCursor });
    expect(ids(second)).toEqual([t.frank]);
    expect(second.moveImpact.users.pageInfo.hasNextPage).toBe(false);
    const back = await ws.ok(PREVIEW, { g: t.A1, p: t.B1, last: 2, before: second.moveImpact.users.pageInfo.startCursor });
    expect(ids(back)).toEqual([t.bob, t.carol]);
    expect(back.moveImpact.users.pageInfo.hasPreviousPage).toBe(true);
  });

  it('previews exactly what the move then does, and writes nothing itself', async () => {
    const ws = await h.workspace();
    const t = await world(ws);
    const everyone = [t.alice, t.bob, t.carol, t.dave, t.erin, t.frank];
    const before = await effectiveRoles(ws, everyone);
    const untouched = await written(ws);
    const preview = (await ws.ok(PREVIEW, { g: t.A1, p: t.B1, first: 100 })).moveImpact;
    expect(await written(ws)).toEqual(untouched);
    await ws.ok('mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p }) { id } }', { id: t.A1, p: t.B1 });
    const after = await effectiveRoles(ws, everyone);
    const observed = everyone
      .map((id) => ({
        id,
        gained: after[id].filter((r) => !before[id].includes(r)),
        lost: before[id].filter((r) => !after[id].includes(r)),
      }))
      .filter((u) => u.gained.length + u.lost.length > 0);
    const previewed = preview.users.nodes.map((n: any) => ({
      id: n.user.id,
      gained: n.gained.map((c: any) => c.role.id).sort(),
      lost: n.lost.map((c: any) => c.role.id).sort(),
    }));
    expect(previewed).toEqual(observed);
  });

  it('reports a move under its own subtree as CYCLE and works nothing out', async () => {
    const ws = await h.workspace();
    const t = await world(ws);
    const impact = (await ws.ok(PREVIEW, { g: t.A, p: t.A11, first: 10 })).moveImpact;
    expect(impact.allowed).toBe(false);
    expect(impact.refusals).toEqual([{ code: 'CYCLE', errorCode: 'CONFLICT', message: `cannot move group ${t.A} under itself or one of its descendants (group ${t.A11})` }]);
    expect(impact.totals).toEqual({ usersAffected: 0, rolesGained: 0, rolesLost: 0 });
    expect(impact.users.nodes).toEqual([]);
  });

  it('reports the depth limit and a sibling of the same name, and still previews the roles', async () => {
    const ws = await h.workspace();
    const t = await world(ws);
    // D1..D7: a chain as deep as the limit allows less one; A1 with its child would end one too deep.
    const chain = await buildTree(ws, { groups: { D1: { D2: { D3: { D4: { D5: { D6: { D7: {} } } } } } } } });
    expect(MAX_GROUP_DEPTH).toBe(8);
    const deep = (await ws.ok(PREVIEW, { g: t.A1, p: chain.D7, first: 10 })).moveImpact;
    expect(deep.refusals).toEqual([expect.objectContaining({ code: 'DEPTH_LIMIT', errorCode: 'BAD_USER_INPUT' })]);
    expect(deep.refusals[0].message).toContain('this change would make 9');
    expect(deep.totals.usersAffected).toBeGreaterThan(0);
    await ws.group('A1', t.B1);
    const clash = (await ws.ok(PREVIEW, { g: t.A1, p: t.B1, first: 10 })).moveImpact;
    expect(clash.refusals).toEqual([expect.objectContaining({ code: 'SIBLING_NAME', errorCode: 'CONFLICT' })]);
    expect(clash.totals).toEqual({ usersAffected: 4, rolesGained: 7, rolesLost: 2 });
  });

  it('needs only read scopes, and reports the write scope the move would need', async () => {
    const ws = await h.workspace();
    const t = await world(ws);
    const reader = await ws.key(['groups:read', 'roles:read']);
    const res = await ws.gql(PREVIEW, { g: t.A1, p: t.B1, first: 10 }, reader);
    expect(res.body.errors).toBeUndefined();
    const impact = res.body.data!.moveImpact;
    expect(impact.allowed).toBe(false);
    expect(impact.refusals.map((r: any) => [r.code, r.errorCode])).toEqual([
      ['FORBIDDEN', 'FORBIDDEN'],
      ['FORBIDDEN', 'FORBIDDEN'],
    ]);
    expect(impact.totals.usersAffected).toBe(4);
    // A key restricted to A's subtree may move inside it, not to the top level.
    const restricted = await ws.key(['groups:write@' + t.A, 'roles:read']);
    const inside = await ws.gql(PREVIEW, { g: t.A11, p: t.A, first: 10 }, restricted);
    expect(inside.body.data!.moveImpact).toMatchObject({ allowed: true, refusals: [] });
    const top = await ws.gql(PREVIEW, { g: t.A11, p: null, first: 10 }, restricted);
    expect(top.body.data!.moveImpact.refusals).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
  });

  it('answers a restricted key with what it can read only: no hidden group, no hidden granting group', async () => {
    const ws = await h.workspace();
    const t = await world(ws);
    const narrow = await ws.key([`groups:read@${t.A}`, 'roles:read']);
    // A group it cannot see: null, as group(id:).
    const hidden = await ws.gql(PREVIEW, { g: t.B1, p: t.A1, first: 10 }, narrow);
    expect(hidden.body).toEqual({ data: { moveImpact: null }, extensions: expect.anything() });
    // A destination it cannot see: the same refusal as an unknown id, and nothing worked out.
    const outside = await ws.gql(PREVIEW, { g: t.A1, p: t.B1, first: 10 }, narrow);
    const unknown = await ws.gql(PREVIEW, { g: t.A1, p: '2000000000', first: 10 }, narrow);
    const shape = (res: any) => ({ ...res.body.data.moveImpact, refusals: res.body.data.moveImpact.refusals.map((r: any) => r.code) });
    expect(shape(outside)).toEqual({ ...shape(unknown), toParent: null });
    expect(shape(outside)).toMatchObject({ toParent: null, refusals: ['FORBIDDEN', 'NOT_FOUND'], totals: { usersAffected: 0 } });
    // Two subtrees, A1 and B: the loss granted by A (hidden) shows with no granting group.
    const twoSubtrees = await ws.key([`groups:read@${t.A1}`, `groups:read@${t.B}`, 'roles:read']);
    const res = await ws.gql(PREVIEW, { g: t.A11, p: t.B1, first: 10 }, twoSubtrees);
    expect(res.body.errors).toBeUndefined();
    const impact = res.body.data!.moveImpact;
    expect(impact.fromParent).toEqual({ id: t.A1 });
    expect(impact.users.nodes).toEqual([
      { user: { id: t.bob }, gained: [change(t.editor, t.B), change(t.support, t.B1)], lost: [change(t.auditor, t.A1)] },
      { user: { id: t.carol }, gained: [change(t.support, t.B1)], lost: [change(t.admin), change(t.auditor, t.A1)] },
    ]);
    expect(impact.totals).toEqual({ usersAffected: 2, rolesGained: 3, rolesLost: 3 });
    const granting = impact.users.nodes.flatMap((n: any) => [...n.gained, ...n.lost]).flatMap((c: any) => c.grantedBy.map((g: any) => g.id));
    expect(granting).not.toContain(t.A);
  });

  it('needs roles:read for the role changes, and groups:read for the preview', async () => {
    const ws = await h.workspace();
    const t = await world(ws);
    const groupsOnly = await ws.key(['groups:read']);
    const res = await ws.gql(PREVIEW, { g: t.A1, p: t.B1 }, groupsOnly);
    expect(codes(res.body)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(res.body.data!.moveImpact).toMatchObject({ allowed: false, totals: null, users: null });
    const rolesOnly = await ws.key(['roles:read']);
    const none = await ws.gql(PREVIEW, { g: t.A1, p: t.B1 }, rolesOnly);
    expect(codes(none.body)).toEqual(['FORBIDDEN']);
    expect(none.body.data!.moveImpact).toBeNull();
  });

  it('makes as many SQL statements for a subtree of eight groups as for one group', async () => {
    const ws = await h.workspace();
    const t = await buildTree(ws, {
      groups: { P: { Small: {}, Big: { B1: { B11: {}, B12: {} }, B2: { B21: { B211: {} }, B22: {} } } }, Q: {} },
      users: { u1: 'u1', u2: 'u2', u3: 'u3', u4: 'u4', u5: 'u5', u6: 'u6', u7: 'u7', u8: 'u8', u9: 'u9' },
      roles: ['p', 'q'],
      groupRoles: { P: ['p'], Q: ['q'] },
      members: { Small: ['u1'], Big: ['u2'], B1: ['u3'], B11: ['u4'], B12: ['u5'], B2: ['u6'], B21: ['u7'], B211: ['u8'], B22: ['u9', 'u1'] },
    });
    const statementsOf = async (groupId: string) => {
      const before = h.db.statements.total;
      const res = await ws.gql(PREVIEW, { g: groupId, p: t.Q, first: 100 });
      expect(res.body.errors).toBeUndefined();
      return { statements: h.db.statements.total - before, users: res.body.data!.moveImpact.users.nodes.length };
    };
    await statementsOf(t.Small); // the credential is cached from here on
    const small = await statementsOf(t.Small);
    const big = await statementsOf(t.Big);
    expect([small.users, big.users]).toEqual([1, 9]);
    expect(big.statements).toBe(small.statements);
  });

  it('is priced like any list: the page size multiplies what each user holds', async () => {
    const ws = await h.workspace();
    const t = await world(ws);
    const query = (page: string) => `query($g: ID!, $p: ID) { moveImpact(groupId: $g, newParentId: $p) {
      users(${page}) { nodes { user { id } gained { role { id } grantedBy { id } } lost { role { id } } } } } }`;
    // 1 (moveImpact) + 1 (connection) + 10 × (1 node + 1 user + 100 gained × (1 + role 1 + grantedBy
    // MAX_GROUP_DEPTH - 1) + 100 lost × (1 + role 1))
    const expected = 1 + 1 + 10 * (1 + 1 + 100 * (1 + 1 + (MAX_GROUP_DEPTH - 1)) + 100 * 2);
    for (const page of ['first: 10', 'last: 10']) {
      const res = await ws.gql(query(page), { g: t.A1, p: t.B1 });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.extensions!.rateLimit.queryCost).toBe(expected);
    }
  });
});

eachBackend('move preview over REST (PUT ?dryRun=true)', (h) => {
  it('answers the preview for the documented body, writing nothing', async () => {
    const ws = await h.workspace();
    const t = await world(ws);
    const api = new Rest(ws);
    const untouched = await written(ws);
    const res = await api.put(`/groups/${t.A1}?dryRun=true`, { parentGroupId: Number(t.B1) });
    expect(res.status).toBe(200);
    expect(await written(ws)).toEqual(untouched);
    const role = (id: string, name: string, ...groups: string[]) => ({ id: Number(id), name, grantedBy: groups.map(Number) });
    expect(res.body).toEqual({
      dryRun: true,
      groupId: Number(t.A1),
      parentGroupId: Number(t.A),
      newParentGroupId: Number(t.B1),
      allowed: true,
      refusals: [],
      totals: { usersAffected: 4, rolesGained: 7, rolesLost: 2 },
      users: [
        { id: Number(t.alice), name: 'Alice', gained: [role(t.editor, 'editor', t.B), role(t.support, 'support', t.B1)], lost: [role(t.admin, 'admin', t.A)] },
        { id: Number(t.bob), name: 'Bob', gained: [role(t.editor, 'editor', t.B), role(t.support, 'support', t.B1)], lost: [] },
        { id: Number(t.carol), name: 'Carol', gained: [role(t.support, 'support', t.B1)], lost: [role(t.admin, 'admin', t.A)] },
        { id: Number(t.frank), name: 'Frank', gained: [role(t.editor, 'editor', t.B), role(t.support, 'support', t.B1)], lost: [] },
      ],
      meta: { limit: 20, nextCursor: null },
    });
  });

  it('pages with limit and after, and reports refusals instead of answering them', async () => {
    const ws = await h.workspace();
    const t = await world(ws);
    const api = new Rest(ws);
    const first = await api.put(`/groups/${t.A1}?dryRun=true&limit=3`, { parentGroupId: Number(t.B1) });
    expect(first.body.users.map((u: any) => u.id)).toEqual([t.alice, t.bob, t.carol].map(Number));
    expect(first.body.meta).toEqual({ limit: 3, nextCursor: expect.any(String) });
    const next = await api.put(`/groups/${t.A1}?dryRun=true&limit=3&after=${first.body.meta.nextCursor}`, { parentGroupId: Number(t.B1) });
    expect(next.body.users.map((u: any) => u.id)).toEqual([Number(t.frank)]);
    expect(next.body.meta.nextCursor).toBeNull();
    const cycle = await api.put(`/groups/${t.A}?dryRun=true`, { parentGroupId: Number(t.A11) });
    expect(cycle.status).toBe(200);
    expect(cycle.body).toMatchObject({ allowed: false, refusals: [{ code: 'CYCLE', message: expect.stringContaining('under itself') }] });
  });

  it('keeps the documented answer without the parameter, and with dryRun=false', async () => {
    const ws = await h.workspace();
    const t = await world(ws);
    const api = new Rest(ws);
    const res = await api.put(`/groups/${t.A1}?dryRun=false`, { parentGroupId: Number(t.B1) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: Number(t.A1), name: 'A1', description: null, parentGroupId: Number(t.B1), tenantId: ws.tenant.id });
    const plain = await api.put(`/groups/${t.A1}`, { parentGroupId: Number(t.A) });
    expect(plain.body).toEqual({ id: Number(t.A1), name: 'A1', description: null, parentGroupId: Number(t.A), tenantId: ws.tenant.id });
    const bad = await api.put(`/groups/${t.A1}?dryRun=maybe`, { parentGroupId: Number(t.B1) });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
  });

  it("is authorized as the PUT it previews, needs roles:read, and answers an unknown group 404", async () => {
    const ws = await h.workspace();
    const t = await world(ws);
    const reader = new Rest(ws, await ws.key(['groups:read', 'roles:read']));
    const refused = await reader.put(`/groups/${t.A1}?dryRun=true`, { parentGroupId: Number(t.B1) });
    expect(refused.status).toBe(403);
    expect(refused.body.error.details.requiredScopes).toEqual(['groups:write']);
    const writer = new Rest(ws, await ws.key(['groups:write']));
    const noRoles = await writer.put(`/groups/${t.A1}?dryRun=true`, { parentGroupId: Number(t.B1) });
    expect(noRoles.status).toBe(403);
    expect(noRoles.body.error.details.requiredScopes).toEqual(['roles:read']);
    const api = new Rest(ws);
    const missing = await api.put('/groups/2000000000?dryRun=true', { parentGroupId: Number(t.B1) });
    expect(missing.status).toBe(404);
  });
});
