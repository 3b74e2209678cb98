// Import and export of a workspace (src/domain/import, `kauth import` / `kauth export`): the file
// format and its errors at their JSON pointers, one transaction that writes all or nothing, a
// re-run that changes nothing, the dry run, the audit event, and export → import → export.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Database } from '../src/db';
import { latestSeq } from '../src/domain/audit';
import type { DomainContext } from '../src/domain/context';
import { workspaceCounts } from '../src/domain/counts';
import { checkCounts, checkTree } from '../src/domain/doctor';
import { ValidationError } from '../src/domain/errors';
import { updateGroup } from '../src/domain/groups';
import { progressReporter } from '../src/control/progress';
import { exportWorkspace, formatWorkspaceFile, importWorkspace, parseWorkspaceFile, readWorkspaceFile } from '../src/domain/import';
import { MAX_GROUP_DEPTH, backends, openTestDatabase, testWorkspace } from './support/harness';
import { KAUTH, PROCESS_TEST_MS, kauth } from './support/kauth';
import { GENEROUS_SERVER_ENV, startServer, stopServer } from './support/servers';
import { waitFor } from './support/wait';
import { buildTree } from './support/tree-fixture';

/** A small organisation in the file's format: two roots, a chain below one, users, roles, links. */
function organisation(overrides: Record<string, unknown> = {}) {
  return {
    format: 'kauth-workspace',
    version: 1,
    groups: [
      { externalId: 'g-eng', name: 'Engineering' },
      { externalId: 'g-sales', name: 'Sales', description: 'Everyone who sells' },
      { externalId: 'g-platform', name: 'Platform', parent: 'g-eng' },
      { externalId: 'g-db', name: 'Databases', parent: 'g-platform' },
      { externalId: 'g-web', name: 'Web', parent: 'g-eng' },
    ],
    users: [
      { externalId: 'u-ann', userName: 'ann', email: 'Ann@Example.com', name: 'Ann' },
      { externalId: 'u-bob', userName: 'bob', email: 'bob@example.com', givenName: 'Bob', familyName: 'Builder' },
      { externalId: 'u-cy', userName: 'cy', active: false },
    ],
    roles: [{ name: 'admin', description: 'Does everything' }, { name: 'viewer' }],
    memberships: [
      { group: 'g-db', user: 'u-ann' },
      { group: 'g-web', user: 'u-bob' },
      { group: 'g-sales', user: 'u-cy' },
      { group: 'g-db', user: 'u-bob' },
    ],
    roleAssignments: [
      { role: 'admin', group: 'g-platform' },
      { role: 'viewer', user: 'u-cy' },
    ],
    ...overrides,
  };
}

const file = (overrides: Record<string, unknown> = {}) => parseWorkspaceFile(organisation(overrides));

describe.each(backends())('import and export [%s]', (backend) => {
  let db: Database;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await openTestDatabase(backend));
  }, 120_000);
  afterAll(() => close());

  const workspace = () => testWorkspace(db, 'imp');

  /** Every row of the workspace that an import could write, and its trail's length. */
  async function state(ctx: DomainContext) {
    const where = { where: { tenantId: ctx.tenantId } };
    return {
      groups: await db.prisma.group.findMany({ ...where, orderBy: { id: 'asc' } }),
      users: await db.prisma.user.findMany({ ...where, orderBy: { id: 'asc' } }),
      roles: await db.prisma.role.findMany({ ...where, orderBy: { id: 'asc' } }),
      members: await db.prisma.groupMember.findMany({ ...where, orderBy: [{ groupId: 'asc' }, { userId: 'asc' }] }),
      groupRoles: await db.prisma.groupRole.findMany({ ...where, orderBy: [{ groupId: 'asc' }, { roleId: 'asc' }] }),
      userRoles: await db.prisma.userRole.findMany({ ...where, orderBy: [{ userId: 'asc' }, { roleId: 'asc' }] }),
      tenant: await db.prisma.tenant.findUniqueOrThrow({ where: { id: ctx.tenantId } }),
      seq: await latestSeq(db.prisma, ctx.tenantId),
    };
  }

  /** The doctor's findings and every kept count that disagrees with a recount. */
  async function invariants(slug: string, ctx: DomainContext) {
    const counts = await db.prisma.$queryRaw<{ id: number }[]>`
      SELECT g.id FROM groups g
      WHERE g.tenant_id = ${ctx.tenantId}::int AND (
        g.child_count <> (SELECT count(*) FROM groups c WHERE c.parent_group_id = g.id)
        OR g.subtree_size <> (SELECT count(*) FROM groups d WHERE d.path @> ARRAY[g.id]))`;
    return { findings: await checkTree(db.prisma, { slug }), wrongCounts: counts, wrongTotals: await checkCounts(db.prisma, { slug }) };
  }

  const consistent = { findings: [], wrongCounts: [], wrongTotals: [] };

  it('creates the groups as a tree, the users, roles, memberships and role assignments of a file', async () => {
    const { slug, ctx } = await workspace();
    const result = await importWorkspace(ctx, slug, file());
    expect(result).toEqual({
      dryRun: false,
      groups: { created: 5, updated: 0, unchanged: 0 },
      users: { created: 3, updated: 0, unchanged: 0 },
      roles: { created: 2, updated: 0, unchanged: 0 },
      memberships: { created: 4, unchanged: 0 },
      roleAssignments: { created: 2, unchanged: 0 },
    });
    const s = await state(ctx);
    const byName = new Map(s.groups.map((g) => [g.name, g]));
    const eng = byName.get('Engineering')!;
    const platform = byName.get('Platform')!;
    expect(byName.get('Databases')!.path).toEqual([eng.id, platform.id, byName.get('Databases')!.id]);
    expect(eng).toMatchObject({ parentGroupId: null, childCount: 2, subtreeSize: 4, externalId: 'g-eng' });
    expect(byName.get('Sales')!.description).toBe('Everyone who sells');
    expect(s.tenant).toMatchObject({ groupCount: 5, userCount: 3 }); // the import folded its count deltas
    expect(await workspaceCounts(db.prisma, ctx.tenantId)).toEqual({ groups: 5, users: 3 });
    const ann = s.users.find((u) => u.userName === 'ann')!;
    expect(ann).toMatchObject({ email: 'ann@example.com', name: 'Ann', active: true, externalId: 'u-ann' });
    expect(ann.emails).toEqual([{ value: 'ann@example.com', type: 'work', primary: true }]);
    expect(s.users.find((u) => u.userName === 'cy')).toMatchObject({ email: null, active: false });
    expect(s.members).toHaveLength(4);
    expect(s.groupRoles).toEqual([expect.objectContaining({ groupId: platform.id })]);
    expect(s.userRoles).toHaveLength(1);
    expect(await invariants(slug, ctx)).toEqual(consistent);
  });

  it('records the import as one WORKSPACE_IMPORTED event with its counts', async () => {
    const { slug, ctx } = await workspace();
    const before = await latestSeq(db.prisma, ctx.tenantId);
    await importWorkspace(ctx, slug, file(), { source: 'org.json' });
    const events = await db.prisma.auditEvent.findMany({ where: { tenantId: ctx.tenantId, seq: { gt: before } } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ seq: before + 1n, action: 'WORKSPACE_IMPORTED', actor: 'cli', targetType: 'Workspace', targetId: String(ctx.tenantId) });
    expect(events[0].changes).toEqual({
      groups: { before: null, after: { created: 5, updated: 0, unchanged: 0 } },
      users: { before: null, after: { created: 3, updated: 0, unchanged: 0 } },
      roles: { before: null, after: { created: 2, updated: 0, unchanged: 0 } },
      memberships: { before: null, after: { created: 4, unchanged: 0 } },
      roleAssignments: { before: null, after: { created: 2, unchanged: 0 } },
      source: { before: null, after: 'org.json' },
    });
  });

  it('changes nothing and records nothing when the same file is imported again', async () => {
    const { slug, ctx } = await workspace();
    await importWorkspace(ctx, slug, file());
    const before = await state(ctx);
    const again = await importWorkspace(ctx, slug, file());
    expect(again).toEqual({
      dryRun: false,
      groups: { created: 0, updated: 0, unchanged: 5 },
      users: { created: 0, updated: 0, unchanged: 3 },
      roles: { created: 0, updated: 0, unchanged: 2 },
      memberships: { created: 0, unchanged: 4 },
      roleAssignments: { created: 0, unchanged: 2 },
    });
    expect(await state(ctx)).toEqual(before);
  });

  it('updates what the file changes: renames, moves with the subtree, edits users and roles, adds links', async () => {
    const { slug, ctx } = await workspace();
    await importWorkspace(ctx, slug, file());
    const org = organisation();
    const next = {
      ...org,
      groups: [
        ...org.groups.map((g) => (g.externalId === 'g-platform' ? { ...g, name: 'Platform Team', parent: 'g-sales' } : g)),
        { externalId: 'g-new', name: 'New', parent: 'g-db' },
      ],
      users: org.users.map((u) => (u.externalId === 'u-bob' ? { ...u, email: 'robert@example.com' } : u)),
      roles: [{ name: 'admin', description: 'Does a lot' }, { name: 'viewer' }],
      memberships: [...org.memberships, { group: 'g-new', user: 'u-ann' }],
    };
    const result = await importWorkspace(ctx, slug, parseWorkspaceFile(next));
    expect(result).toMatchObject({
      groups: { created: 1, updated: 1, unchanged: 4 },
      users: { created: 0, updated: 1, unchanged: 2 },
      roles: { created: 0, updated: 1, unchanged: 1 },
      memberships: { created: 1, unchanged: 4 },
    });
    const s = await state(ctx);
    const byName = new Map(s.groups.map((g) => [g.name, g]));
    const sales = byName.get('Sales')!;
    const platform = byName.get('Platform Team')!;
    expect(platform.parentGroupId).toBe(sales.id);
    expect(byName.get('New')!.path).toEqual([sales.id, platform.id, byName.get('Databases')!.id, byName.get('New')!.id]);
    expect(sales).toMatchObject({ childCount: 1, subtreeSize: 4 });
    expect(byName.get('Engineering')).toMatchObject({ childCount: 1, subtreeSize: 2 });
    expect(byName.get('Databases')!.version).toBeGreaterThan(1);
    expect(s.users.find((u) => u.userName === 'bob')!.emails).toEqual([{ value: 'robert@example.com', type: 'work', primary: true }]);
    expect(await invariants(slug, ctx)).toEqual(consistent);
  });

  it('reports what it would do on a dry run and writes nothing', async () => {
    const { slug, ctx } = await workspace();
    await importWorkspace(ctx, slug, file({ memberships: [{ group: 'g-db', user: 'u-ann' }] }));
    const before = await state(ctx);
    const dry = await importWorkspace(ctx, slug, file(), { dryRun: true });
    expect(dry).toEqual({
      dryRun: true,
      groups: { created: 0, updated: 0, unchanged: 5 },
      users: { created: 0, updated: 0, unchanged: 3 },
      roles: { created: 0, updated: 0, unchanged: 2 },
      memberships: { created: 3, unchanged: 1 },
      roleAssignments: { created: 0, unchanged: 2 },
    });
    expect(await state(ctx)).toEqual(before);
    const fresh = await workspace();
    const empty = await state(fresh.ctx);
    expect((await importWorkspace(fresh.ctx, fresh.slug, file(), { dryRun: true })).groups.created).toBe(5);
    expect(await state(fresh.ctx)).toEqual(empty);
  });

  describe('refuses an invalid file at its JSON pointer, and writes nothing', () => {
    const org = organisation();
    const cases: [string, unknown, string][] = [
      ['another format', { ...org, format: 'keycloak' }, '/format'],
      ['another version', { ...org, version: 2 }, '/version'],
      ['an unknown field', { ...org, groups: [{ ...org.groups[0], colour: 'red' }] }, '/groups/0/colour'],
      ['a blank group name', { ...org, groups: [...org.groups.slice(0, 2), { ...org.groups[2], name: '  ' }] }, '/groups/2/name'],
      ['a parent no group has', { ...org, groups: [...org.groups, { externalId: 'g-x', name: 'X', parent: 'g-nowhere' }] }, '/groups/5/parent'],
      ['two groups with one externalId', { ...org, groups: [...org.groups, { externalId: 'g-eng', name: 'Again' }] }, '/groups/5/externalId'],
      ['a cycle', { ...org, groups: [{ ...org.groups[0], parent: 'g-db' }, ...org.groups.slice(1)] }, '/groups/0/parent'],
      ['siblings named alike ignoring case', { ...org, groups: [...org.groups, { externalId: 'g-web2', name: 'WEB', parent: 'g-eng' }] }, '/groups/5/name'],
      ['a bad email', { ...org, users: [{ ...org.users[0], email: 'not-an-email' }] }, '/users/0/email'],
      ['two users with one userName', { ...org, users: [...org.users, { externalId: 'u-x', userName: 'ANN' }] }, '/users/3/userName'],
      ['a membership of no user', { ...org, memberships: [...org.memberships, { group: 'g-db', user: 'u-nobody' }] }, '/memberships/4/user'],
      ['an assignment of no role', { ...org, roleAssignments: [{ role: 'owner', group: 'g-db' }] }, '/roleAssignments/0/role'],
      ['an assignment to a group and a user', { ...org, roleAssignments: [{ role: 'admin', group: 'g-db', user: 'u-ann' }] }, '/roleAssignments/0'],
    ];
    it.each(cases)('%s', async (_, document, pointer) => {
      const { slug, ctx } = await workspace();
      const before = await state(ctx);
      const attempt = async () => importWorkspace(ctx, slug, parseWorkspaceFile(document));
      await expect(attempt()).rejects.toThrow(ValidationError);
      await expect(attempt()).rejects.toMatchObject({ field: pointer, message: expect.stringMatching(new RegExp(`^${pointer}: `)) });
      expect(await state(ctx)).toEqual(before);
    });

    it('a tree deeper than the workspace allows', async () => {
      const { slug, ctx } = await workspace();
      const chain = Array.from({ length: MAX_GROUP_DEPTH + 1 }, (_, i) => ({ externalId: `c${i}`, name: `C${i}`, parent: i === 0 ? null : `c${i - 1}` }));
      await expect(importWorkspace(ctx, slug, file({ groups: chain }))).rejects.toMatchObject({ field: `/groups/${MAX_GROUP_DEPTH}/parent` });
      expect((await state(ctx)).groups).toEqual([]);
    });

    it('a group made or moved too deep, while groups already deeper than the limit may stay', async () => {
      const { slug, ctx } = await workspace();
      const chain = Array.from({ length: MAX_GROUP_DEPTH + 2 }, (_, i) => ({ externalId: `c${i}`, name: `C${i}`, parent: i === 0 ? null : `c${i - 1}` }));
      // Made when the workspace allowed deeper trees.
      const only = (groups: unknown[]) => file({ groups, memberships: [], roleAssignments: [] });
      await importWorkspace({ ...ctx, maxGroupDepth: MAX_GROUP_DEPTH + 2 }, slug, only(chain));
      expect((await importWorkspace(ctx, slug, only(chain))).groups.unchanged).toBe(MAX_GROUP_DEPTH + 2);
      const before = await state(ctx);
      const deeper = [...chain, { externalId: 'c-new', name: 'New', parent: 'c1' }, { externalId: 'c-x', name: 'X', parent: `c${MAX_GROUP_DEPTH}` }];
      await expect(importWorkspace(ctx, slug, only(deeper))).rejects.toMatchObject({ field: `/groups/${MAX_GROUP_DEPTH + 3}/parent` });
      expect(await state(ctx)).toEqual(before);
    });

    it('a name an existing group keeps under the same parent', async () => {
      const { slug, ctx } = await workspace();
      await buildTree({ ctx }, { groups: { Sales: {} } });
      const before = await state(ctx);
      await expect(importWorkspace(ctx, slug, file())).rejects.toMatchObject({ field: '/groups/1/name' });
      expect(await state(ctx)).toEqual(before);
    });

    it('text that is not JSON', () => {
      expect(() => readWorkspaceFile('{"format": ')).toThrow(expect.objectContaining({ field: '/' }));
    });
  });

  it('round-trips: export A, import into an empty B, export B gives the same file', async () => {
    const a = await workspace();
    await buildTree(a, {
      groups: { R: { A: { A1: {}, A2: { Deep: {} } }, B: {} }, S: { S1: {} } },
      users: { alice: 'Alice', bob: 'Bob' },
      roles: ['editor', 'auditor'],
      members: { A1: ['alice', 'bob'], S: ['bob'] },
      groupRoles: { A2: ['editor'], R: ['auditor', 'editor'] },
      userRoles: { alice: ['auditor'] },
      order: 'depth-first',
    });
    await importWorkspace(a.ctx, a.slug, file());
    const exportedA = formatWorkspaceFile(await exportWorkspace(a.ctx, a.slug));
    const b = await workspace();
    await importWorkspace(b.ctx, b.slug, readWorkspaceFile(exportedA));
    expect(formatWorkspaceFile(await exportWorkspace(b.ctx, b.slug))).toBe(exportedA);
    expect(await invariants(b.slug, b.ctx)).toEqual(consistent);
    // A's own export, imported back into A, finds every row again (by the ids the export gave those without one).
    const again = await importWorkspace(a.ctx, a.slug, readWorkspaceFile(exportedA));
    expect([again.groups.created, again.groups.updated, again.users.created, again.users.updated, again.memberships.created]).toEqual([0, 0, 0, 0, 0]);
  });

  it('imports beside existing groups and moves an existing group under a new one', async () => {
    const { slug, ctx } = await workspace();
    await importWorkspace(ctx, slug, file());
    const [web] = await db.prisma.group.findMany({ where: { tenantId: ctx.tenantId, externalId: 'g-web' } });
    await updateGroup(ctx, web.id, { name: 'Web Team' });
    const org = organisation();
    const next = { ...org, groups: [{ externalId: 'g-front', name: 'Front' }, ...org.groups.map((g) => (g.externalId === 'g-web' ? { ...g, name: 'Web Team', parent: 'g-front' } : g))] };
    const result = await importWorkspace(ctx, slug, parseWorkspaceFile(next));
    expect(result.groups).toEqual({ created: 1, updated: 1, unchanged: 4 });
    expect(await invariants(slug, ctx)).toEqual(consistent);
  });
});

describe('import progress', () => {
  async function printed(interactive: boolean): Promise<string> {
    let text = '';
    const report = progressReporter({ stderr: (chunk) => void (text += chunk) }, interactive);
    await report({ step: 'users', done: 20_000, total: 40_000 });
    await report({ step: 'users', done: 40_000, total: 40_000 });
    return text;
  }

  it('prints a line per chunk when stderr is not a terminal', async () => {
    expect(await printed(false)).toBe('kauth: import: users 20000/40000 (50%)\nkauth: import: users 40000/40000 (100%)\n');
  });

  it('redraws one bar per step on a terminal, ending the line when the step is done', async () => {
    const text = await printed(true);
    expect(text.split('\r').slice(1)).toEqual([
      `import users           [${'#'.repeat(15)}${'-'.repeat(15)}]  50% 20000/40000`,
      `import users           [${'#'.repeat(30)}] 100% 40000/40000\n`,
    ]);
  });
});

describe('kauth import and kauth export', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kauth-import-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('imports with progress lines on stderr, dry-runs, refuses a bad file by its pointer, and exports', async () => {
    const env = { DATA_DIR: path.join(dir, 'data') };
    expect((await kauth(['tenant', 'create', 'acme'], env)).code).toBe(0);
    const orgFile = path.join(dir, 'org.json');
    writeFileSync(orgFile, JSON.stringify(organisation()));

    const dry = await kauth(['import', 'acme', orgFile, '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, groups: { created: 5 } });

    const run = await kauth(['import', 'acme', orgFile], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ dryRun: false, groups: { created: 5 }, memberships: { created: 4 } });
    expect(run.stderr).toContain('kauth: import: groups 5/5 (100%)');

    const badFile = path.join(dir, 'bad.json');
    writeFileSync(badFile, JSON.stringify({ ...organisation(), memberships: [{ group: 'g-db', user: 'u-nobody' }] }));
    const bad = await kauth(['import', 'acme', badFile], env);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).error).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/^\/memberships\/0\/user: /) });

    const outFile = path.join(dir, 'out.json');
    const exported = await kauth(['export', 'acme', outFile], env);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ groups: 5, users: 3, memberships: 4 });
    const toStdout = await kauth(['export', 'acme'], env);
    expect(toStdout.stdout).toBe(readFileSync(outFile, 'utf8'));
    expect(readWorkspaceFile(toStdout.stdout).groups.map((g) => g.externalId)).toEqual(['g-eng', 'g-platform', 'g-db', 'g-web', 'g-sales']);
  }, PROCESS_TEST_MS);

  it('imports and exports on a running server that holds DATA_DIR, the files named from the CLI\'s directory', async () => {
    const env = { DATA_DIR: path.join(dir, 'data') };
    expect((await kauth(['tenant', 'create', 'acme'], env)).code).toBe(0);
    const server = await startServer({ ...GENEROUS_SERVER_ENV, ...env, LOG_LEVEL: 'info' });
    try {
      await server.ready;
      await waitFor('the control socket', () => server.output().includes('control socket: the kauth CLI runs its commands here'));
      writeFileSync(path.join(dir, 'org.json'), JSON.stringify(organisation()));
      // Run from `dir` with relative names: the server, whose directory is another, must find them.
      const inDir = (args: string[]) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          execFile(process.execPath, [KAUTH, ...args], { cwd: dir, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
            resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
          );
        });
      const run = await inDir(['import', 'acme', 'org.json']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ groups: { created: 5 }, memberships: { created: 4 } });
      expect(run.stderr).toContain('kauth: import: memberships 4/4 (100%)');
      expect((await inDir(['export', 'acme', 'out.json'])).code).toBe(0);
      expect(readWorkspaceFile(readFileSync(path.join(dir, 'out.json'), 'utf8')).groups).toHaveLength(5);
    } finally {
      await stopServer(server);
    }
  }, PROCESS_TEST_MS);
});
