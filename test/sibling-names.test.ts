// One sibling-name rule for GraphQL, REST and SCIM: a group's name is unique, ignoring case, among
// the groups of the workspace under the same parent (roots are siblings of each other). Each API
// refuses a clash in its own shape, naming the group in the way, and nothing is written.
import { ConflictError } from '../src/domain/errors';
import { siblingNameConflicts } from '../src/domain/sibling-names';
import { type GraphQLBody, type Workspace, codes, eachBackend } from './support/harness';
import { racesOnPostgres } from './support/races';
import { Rest } from './support/rest';
import { checkTreesAfterEach } from './support/tree-check';
import { GROUP_SCHEMA, Scim, expectScimError, patchOp } from './support/scim';

const CREATE = 'mutation($input: CreateGroupInput!) { createGroup(input: $input) { id name } }';
const UPDATE = 'mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id name parent { id } } }';
const DELETE = 'mutation($id: ID!) { deleteGroup(id: $id) }';
const GROUP = 'query($id: ID!) { group(id: $id) { id name parent { id } } }';

/** The one error of a GraphQL answer: its code and the extensions naming the clash. */
function onlyError(body: GraphQLBody) {
  expect(body.errors).toHaveLength(1);
  return body.errors![0];
}

function expectConflict(body: GraphQLBody, existingId: string): void {
  expect(codes(body)).toEqual(['CONFLICT']);
  expect(onlyError(body).extensions).toMatchObject({ code: 'CONFLICT', field: 'name', existingId });
}

async function groupNamed(ws: Workspace, id: string) {
  return (await ws.ok(GROUP, { id })).group;
}

async function namesUnder(ws: Workspace, parentId: string | null): Promise<string[]> {
  const rows = await ws.h.db.prisma.group.findMany({
    where: { tenantId: ws.tenant.id, parentGroupId: parentId === null ? null : Number(parentId) },
    orderBy: { id: 'asc' },
  });
  return rows.map((row) => row.name);
}

eachBackend('sibling names', (h) => {
  checkTreesAfterEach(h);

  describe('GraphQL', () => {
    it('refuses a group named like a sibling, ignoring case, and names the sibling', async () => {
      const ws = await h.workspace();
      const root = await ws.group('Company');
      const engineering = await ws.group('Engineering', root);
      for (const name of ['Engineering', 'engineering', 'ENGINEERING', '  Engineering  ']) {
        const res = await ws.gql(CREATE, { input: { name, parentId: root } });
        expect(res.body.data).toBeNull();
        expectConflict(res.body, engineering);
        expect(onlyError(res.body).message).toContain(`under group ${root}`);
      }
      expect(await namesUnder(ws, root)).toEqual(['Engineering']);
    });

    it('treats roots as siblings of each other', async () => {
      const ws = await h.workspace();
      const first = await ws.group('Contractors');
      const res = await ws.gql(CREATE, { input: { name: 'contractors' } });
      expectConflict(res.body, first);
      expect(onlyError(res.body).message).toContain('at the top level');
      expect(await namesUnder(ws, null)).toEqual(['Contractors']);
    });

    it('allows the same name under different parents, and a name a cousin or the parent has', async () => {
      const ws = await h.workspace();
      const root = await ws.group('Company');
      const engineering = await ws.group('Engineering', root);
      const sales = await ws.group('Sales', root);
      await ws.group('Platform', engineering);
      await ws.group('Platform', sales);
      await ws.group('Company', root);
      await ws.group('Engineering', engineering);
      expect(await namesUnder(ws, engineering)).toEqual(['Platform', 'Engineering']);
    });

    it('refuses a rename into a sibling’s name and allows a change of case alone', async () => {
      const ws = await h.workspace();
      const root = await ws.group('Company');
      const backend = await ws.group('Backend', root);
      const frontend = await ws.group('Frontend', root);
      const res = await ws.gql(UPDATE, { id: frontend, input: { name: 'BACKEND' } });
      expectConflict(res.body, backend);
      expect((await groupNamed(ws, frontend)).name).toBe('Frontend');
      const recased = await ws.ok(UPDATE, { id: backend, input: { name: 'BackEnd' } });
      expect(recased.updateGroup.name).toBe('BackEnd');
    });

    it('refuses a move under a parent that has a child of that name, and a move with a rename is judged by the new name', async () => {
      const ws = await h.workspace();
      const engineering = await ws.group('Engineering');
      const sales = await ws.group('Sales');
      const inEngineering = await ws.group('Platform', engineering);
      const inSales = await ws.group('platform', sales);
      const res = await ws.gql(UPDATE, { id: inSales, input: { parentId: engineering } });
      expectConflict(res.body, inEngineering);
      expect((await groupNamed(ws, inSales)).parent.id).toBe(sales);
      // Renamed in the same write, it fits; and its old name is free again under Sales.
      const moved = await ws.ok(UPDATE, { id: inSales, input: { parentId: engineering, name: 'Sales Platform' } });
      expect(moved.updateGroup).toEqual({ id: inSales, name: 'Sales Platform', parent: { id: engineering } });
      await ws.group('Platform', sales);
      // A move whose new name clashes is refused even though its old name would fit.
      const other = await ws.group('Tools', sales);
      const clash = await ws.gql(UPDATE, { id: other, input: { parentId: engineering, name: 'PLATFORM' } });
      expectConflict(clash.body, inEngineering);
      // Making a group a root: the roots are its siblings.
      const toRoot = await ws.gql(UPDATE, { id: other, input: { parentId: null, name: 'sales' } });
      expectConflict(toRoot.body, sales);
      expect(await groupNamed(ws, other)).toEqual({ id: other, name: 'Tools', parent: { id: sales } });
    });

    it('refuses to delete a group whose children would become roots beside a root of the same name, writing nothing', async () => {
      const ws = await h.workspace();
      const contractors = await ws.group('Contractors');
      const engineering = await ws.group('Engineering');
      const child = await ws.group('contractors', engineering);
      const res = await ws.gql(DELETE, { id: engineering });
      expect(codes(res.body)).toEqual(['CONFLICT']);
      expect(onlyError(res.body).extensions).toMatchObject({ field: 'id', existingId: contractors, childId: child });
      expect((await groupNamed(ws, engineering)).name).toBe('Engineering');
      expect((await groupNamed(ws, child)).parent.id).toBe(engineering);
      // Renamed, the child may become a root.
      await ws.ok(UPDATE, { id: child, input: { name: 'Engineering contractors' } });
      expect((await ws.ok(DELETE, { id: engineering })).deleteGroup).toBe(engineering);
      expect(await namesUnder(ws, null)).toEqual(['Contractors', 'Engineering contractors']);
    });

    it('deletes a root whose child has its name: the child takes the name at the top level', async () => {
      const ws = await h.workspace();
      const outer = await ws.group('Platform');
      const inner = await ws.group('platform', outer);
      await ws.group('Tools', inner);
      expect((await ws.ok(DELETE, { id: outer })).deleteGroup).toBe(outer);
      expect(await groupNamed(ws, inner)).toEqual({ id: inner, name: 'platform', parent: null });
    });
  });

  describe('REST', () => {
    it('answers 409 conflict with the documented envelope for a create, a rename, a move and a delete', async () => {
      const ws = await h.workspace();
      const rest = new Rest(ws);
      const root = await rest.group('Company');
      const backend = await rest.group('Backend', root.id);
      const frontend = await rest.group('Frontend', root.id);
      const other = await rest.group('Other');
      const nested = await rest.group('backend', other.id);
      const conflict = (existingId: number) => ({
        error: { code: 'conflict', message: expect.stringContaining(`group ${existingId}`), details: expect.objectContaining({ existingId: String(existingId) }) },
      });

      const created = await rest.post('/groups', { name: 'BACKEND', parentGroupId: root.id });
      expect(created.status).toBe(409);
      expect(created.body).toEqual(conflict(backend.id));
      expect(created.body.error.details).toEqual({ field: 'name', location: 'body', existingId: String(backend.id) });

      const renamed = await rest.put(`/groups/${frontend.id}`, { name: 'backend' });
      expect({ status: renamed.status, body: renamed.body }).toEqual({ status: 409, body: conflict(backend.id) });

      const moved = await rest.put(`/groups/${nested.id}`, { parentGroupId: root.id });
      expect({ status: moved.status, body: moved.body }).toEqual({ status: 409, body: conflict(backend.id) });

      await rest.group('other', root.id);
      const deleted = await rest.delete(`/groups/${root.id}`);
      expect(deleted.status).toBe(409);
      expect(deleted.body.error).toMatchObject({ code: 'conflict', details: { field: 'id', location: 'path', existingId: String(other.id) } });

      expect((await rest.get(`/groups/${frontend.id}`)).body.name).toBe('Frontend');
      expect((await rest.get(`/groups/${nested.id}`)).body.parentGroupId).toBe(other.id);
      expect((await rest.get(`/groups/${root.id}`)).status).toBe(200);
    });
  });

  describe('SCIM', () => {
    it('answers 409 uniqueness for a create or a rename into a name a group made through another API has', async () => {
      const ws = await h.workspace();
      const scim = scimOf(ws);
      const sales = await ws.group('Sales');
      const created = await scim.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'SALES' });
      expectScimError(created, 409, 'uniqueness');
      expect(created.body.detail).toContain(`group ${sales}`);

      const team = await scim.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Team' });
      expect(team.status).toBe(201);
      const put = await scim.put(`/Groups/${team.body.id}`, { schemas: [GROUP_SCHEMA], displayName: 'sales' });
      expectScimError(put, 409, 'uniqueness');
      const patched = await scim.patch(`/Groups/${team.body.id}`, patchOp({ op: 'replace', path: 'displayName', value: 'Sales' }));
      expectScimError(patched, 409, 'uniqueness');
      expect(await namesUnder(ws, null)).toEqual(['Sales', 'Team']);
    });

    it('refuses a delete whose children would clash with a root, with 409 uniqueness', async () => {
      const ws = await h.workspace();
      const scim = scimOf(ws);
      await ws.group('Team');
      const made = await scim.post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Made' });
      await ws.group('team', made.body.id);
      expectScimError(await scim.delete(`/Groups/${made.body.id}`), 409, 'uniqueness');
      expect(await namesUnder(ws, null)).toEqual(['Team', 'Made']);
    });
  });

  it('a group SCIM made blocks the same name through GraphQL and REST alike', async () => {
    const ws = await h.workspace();
    const made = await scimOf(ws).post('/Groups', { schemas: [GROUP_SCHEMA], displayName: 'Okta Admins' });
    expect(made.status).toBe(201);
    expectConflict((await ws.gql(CREATE, { input: { name: 'okta admins' } })).body, made.body.id);
    const rest = await new Rest(ws).post('/groups', { name: 'OKTA ADMINS' });
    expect({ status: rest.status, code: rest.body.error.code }).toEqual({ status: 409, code: 'conflict' });
  });

  it('turns a write the unique index refuses (what a race lost past the check meets) into CONFLICT, for raw and model writes alike', async () => {
    const ws = await h.workspace();
    const root = Number(await ws.group('Company'));
    const existing = Number(await ws.group('Ops', String(root)));
    const other = Number(await ws.group('Dev', String(root)));
    const p = h.db.prisma;
    const raw = siblingNameConflicts(
      p.$queryRaw`
        WITH n AS (SELECT nextval(pg_get_serial_sequence('groups', 'id'))::int AS id)
        INSERT INTO groups (id, tenant_id, name, parent_group_id, path)
        SELECT n.id, ${ws.tenant.id}::int, 'OPS', ${root}::int, ARRAY[${root}::int, n.id] FROM n RETURNING id`,
      root,
      'OPS',
    );
    await expect(raw).rejects.toThrow(ConflictError);
    await expect(siblingNameConflicts(p.group.update({ where: { id: other }, data: { name: 'ops' } }), root, 'ops')).rejects.toMatchObject({
      code: 'CONFLICT',
      details: { field: 'name' },
    });
    // Any other failure passes through unchanged.
    await expect(siblingNameConflicts(p.group.update({ where: { id: existing }, data: { name: 'x'.repeat(300) } }), root, 'x')).rejects.not.toBeInstanceOf(
      ConflictError,
    );
  });

  function scimOf(ws: Workspace): Scim {
    return new Scim(h.baseUrl, ws.tenant.slug, ws.adminKey);
  }
});

racesOnPostgres('sibling names under concurrent creates', (h) => {
  it('lets exactly one of many racing creates of one name through; the rest get CONFLICT, none a 500', async () => {
    const ws = await h.workspace();
    const root = await ws.group('Company');
    const rest = new Rest(ws);
    const names = ['Ops', 'ops', 'OPS', 'oPs', 'Ops', 'ops'];
    const answers = await Promise.all(
      names.flatMap((name, i) => [
        ws.gql(CREATE, { input: { name, parentId: root } }).then((res) => (res.body.errors ? codes(res.body)[0] : 'created')),
        rest.post('/groups', { name: `${name}`, parentGroupId: Number(root) }).then((res) => (res.status === 201 ? 'created' : `${res.status} ${res.body.error.code}`)),
        new Scim(h.baseUrl, ws.tenant.slug, ws.adminKey)
          .post('/Groups', { schemas: [GROUP_SCHEMA], displayName: `${name} root ${i % 2}` })
          .then((res) => (res.status === 201 ? 'created' : `${res.status} ${res.body.scimType}`)),
      ]),
    );
    // GraphQL and REST race for one name under Company; SCIM for two names at the top level.
    const [underRoot, atTop] = [answers.filter((_, i) => i % 3 !== 2), answers.filter((_, i) => i % 3 === 2)];
    expect(underRoot.filter((a) => a === 'created')).toHaveLength(1);
    expect(underRoot.filter((a) => a !== 'created').every((a) => a === 'CONFLICT' || a === '409 conflict')).toBe(true);
    expect(atTop.filter((a) => a === 'created')).toHaveLength(2);
    expect(atTop.filter((a) => a !== 'created')).toEqual(Array(4).fill('409 uniqueness'));
    expect(await namesUnder(ws, root)).toHaveLength(1);
  });
});
