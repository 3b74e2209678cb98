// The adapters of `kauth import --from keycloak|csv` (src/domain/import/adapters): a Keycloak 26
// realm export and a `group path, user email` CSV, in exactly the shapes those tools write
// (test/fixtures), imported through the CLI's command into both backends: the tree, memberships
// and effective roles they make, a re-run that changes nothing, and errors at their place in the
// source file with nothing written.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCommand } from '../src/control/commands';
import type { Database } from '../src/db';
import { latestSeq } from '../src/domain/audit';
import type { DomainContext } from '../src/domain/context';
import { ValidationError } from '../src/domain/errors';
import { importSourceOf, readImportFile } from '../src/domain/import';
import { convertCsv, parseCsv } from '../src/domain/import/adapters';
import { effectiveRolesOfUsers } from '../src/domain/roles';
import { backends, openTestDatabase, testWorkspace } from './support/harness';

const FIXTURES = path.join(__dirname, 'fixtures');
const REALM = path.join(FIXTURES, 'keycloak-realm-acme.json');
const CSV = path.join(FIXTURES, 'groups.csv');
const realm = () => JSON.parse(readFileSync(REALM, 'utf8'));

/** The error `readImportFile` throws for `text`, or undefined. */
function errorOf(text: string, source: 'keycloak' | 'csv'): ValidationError | undefined {
  try {
    readImportFile(text, source);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  return undefined;
}

describe('reading the files', () => {
  it('parses RFC 4180 quoting: commas, doubled quotes and line breaks inside quotes, CRLF', () => {
    const records = parseCsv('a,"b, c"\r\n"say ""hi""","two\nlines"\r\n\r\nlast,x');
    expect(records.map((r) => [r.line, r.fields])).toEqual([
      [1, ['a', 'b, c']],
      [2, ['say "hi"', 'two\nlines']],
      [5, ['last', 'x']],
    ]);
  });

  it('chooses the adapter from --from, or csv for a *.csv file', () => {
    expect(importSourceOf(undefined, 'people.CSV')).toBe('csv');
    expect(importSourceOf(undefined, 'org.json')).toBe('kauth');
    expect(importSourceOf('keycloak', 'acme-realm.json')).toBe('keycloak');
    expect(() => importSourceOf('ldap', 'x.ldif')).toThrow('--from must be one of kauth, keycloak, csv');
  });

  it('makes one group of a path in any case, and one user of an email in any case', () => {
    const { document } = convertCsv('Eng/Platform,ann@x.example\neng/PLATFORM,ANN@x.example\n');
    expect(document).toMatchObject({
      groups: [
        { externalId: 'csv:eng', name: 'Eng', parent: null },
        { externalId: 'csv:eng/platform', name: 'Platform', parent: 'csv:eng' },
      ],
      users: [{ externalId: 'email:ann@x.example', userName: 'ann@x.example', email: 'ann@x.example' }],
      memberships: [{ group: 'csv:eng/platform', user: 'email:ann@x.example' }],
    });
  });

  it('names the JSON pointer in the realm file of a Keycloak error', () => {
    const broken = realm();
    broken.users[1].groups[0] = '/Engineering/Nope';
    expect(errorOf(JSON.stringify(broken), 'keycloak')?.message).toBe('/users/1/groups/0: no group at path "/Engineering/Nope"');
    const unnamed = realm();
    delete unnamed.groups[0].subGroups[0].subGroups[0].name;
    expect(errorOf(JSON.stringify(unnamed), 'keycloak')?.field).toBe('/groups/0/subGroups/0/subGroups/0/name');
    const badEmail = realm();
    badEmail.users[0].email = 'not-an-email';
    // Found by the workspace format's check of the converted file, reported at the realm file's place.
    expect(errorOf(JSON.stringify(badEmail), 'keycloak')?.message).toBe('/users/0/email: email is not a valid email address');
    const unknownRole = realm();
    unknownRole.groups[1].realmRoles = ['auditor', 'root'];
    expect(errorOf(JSON.stringify(unknownRole), 'keycloak')?.message).toBe('/groups/1/realmRoles/1: no realm role "root" in /roles/realm');
  });

  it('names the line and column of a CSV error', () => {
    expect(errorOf('group path,user email\nEng,ann@x.example\nEng//Web,bob@x.example\n', 'csv')?.message).toBe(
      'line 3, column 1: the group path "Eng//Web" has an empty group name',
    );
    expect(errorOf('Eng,ann@x.example\n"Sales",bob at x\n', 'csv')?.message).toBe('line 2, column 9: "bob at x" is not a valid email address');
    expect(errorOf('Eng,ann@x.example\nSales, "bob@x.example"\n', 'csv')?.message).toBe(
      'line 2, column 8: a quote inside an unquoted field (quote the whole field, and double the quote)',
    );
    expect(errorOf('Eng,ann@x.example,extra\n', 'csv')?.message).toBe('line 1: expected 2 fields (group path, user email), found 3');
    expect(errorOf('Eng,ann@x.example\n"Web,bob@x.example\n', 'csv')?.message).toBe('line 2, column 1: the quoted field is never closed');
  });
});

describe.each(backends())('importing a directory export [%s]', (backend) => {
  let db: Database;
  let close: () => Promise<void>;
  let scratch: string;
  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'kauth-adapters-'));
    ({ db, close } = await openTestDatabase(backend));
  }, 120_000);
  afterAll(async () => {
    await close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const workspace = () => testWorkspace(db, 'adp');

  /** `kauth import …` run on the test's database: its exit code and what it printed. */
  async function kauthImport(args: string[]) {
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: (text: string) => void (stdout += text),
      stderr: (text: string) => void (stderr += text),
      signal: new AbortController().signal,
    };
    const code = await runCommand(db, ['import', ...args], io);
    return { code, stdout, stderr, json: () => JSON.parse(stdout) };
  }

  /** Every row an import writes, the groups as their paths of names, and the trail's length. */
  async function state(ctx: DomainContext) {
    const where = { where: { tenantId: ctx.tenantId } };
    const groups = await db.prisma.group.findMany({ ...where, orderBy: { id: 'asc' } });
    const nameOf = new Map(groups.map((g) => [g.id, g.name]));
    const users = await db.prisma.user.findMany({ ...where, orderBy: { id: 'asc' } });
    const members = await db.prisma.groupMember.findMany({ ...where, orderBy: [{ groupId: 'asc' }, { userId: 'asc' }] });
    const userName = new Map(users.map((u) => [u.id, u.userName]));
    const pathOf = (groupId: number) => groups.find((g) => g.id === groupId)!.path.map((id) => nameOf.get(id)).join('/');
    return {
      groups,
      paths: groups.map((g) => pathOf(g.id)).sort(),
      users,
      memberships: members.map((m) => `${pathOf(m.groupId)} ${userName.get(m.userId)}`).sort(),
      roles: await db.prisma.role.findMany({ ...where, orderBy: { id: 'asc' } }),
      groupRoles: await db.prisma.groupRole.findMany({ ...where, orderBy: [{ groupId: 'asc' }, { roleId: 'asc' }] }),
      userRoles: await db.prisma.userRole.findMany({ ...where, orderBy: [{ userId: 'asc' }, { roleId: 'asc' }] }),
      seq: await latestSeq(db.prisma, ctx.tenantId),
    };
  }

  async function effectiveRoleNames(ctx: DomainContext, userName: string): Promise<string[]> {
    const user = await db.prisma.user.findFirstOrThrow({ where: { tenantId: ctx.tenantId, userName } });
    const [roles] = await effectiveRolesOfUsers(ctx, [user.id]);
    return roles.map((r) => r.role.name).sort();
  }

  it('imports a Keycloak realm export: nested groups, users by group path, realm roles of groups and users', async () => {
    const { slug, ctx } = await workspace();
    const run = await kauthImport([slug, REALM, '--from', 'keycloak']);
    expect(run.code).toBe(0);
    expect(run.json()).toEqual({
      dryRun: false,
      groups: { created: 5, updated: 0, unchanged: 0 },
      users: { created: 3, updated: 0, unchanged: 0 },
      roles: { created: 2, updated: 0, unchanged: 0 },
      memberships: { created: 4, unchanged: 0 },
      roleAssignments: { created: 3, unchanged: 0 },
    });
    const s = await state(ctx);
    expect(s.paths).toEqual(['Engineering', 'Engineering/Platform', 'Engineering/Platform/SRE/On-call', 'Engineering/Web', 'Finance']);
    expect(s.groups.find((g) => g.name === 'Engineering')).toMatchObject({ externalId: 'a1000000-0000-4000-8000-000000000001', description: 'Everyone who builds' });
    expect(s.users.map((u) => [u.userName, u.externalId, u.email, u.name, u.active])).toEqual([
      ['ann', 'b2000000-0000-4000-8000-000000000001', 'ann.lee@acme.example', 'Ann Lee', true],
      ['bob', 'b2000000-0000-4000-8000-000000000002', 'bob@acme.example', 'Bob', true],
      ['cy', 'b2000000-0000-4000-8000-000000000003', null, null, false],
    ]);
    expect(s.memberships).toEqual(['Engineering/Platform cy', 'Engineering/Platform/SRE/On-call ann', 'Engineering/Web bob', 'Finance bob']);
    expect(s.roles.map((r) => [r.name, r.description])).toEqual([
      ['deployer', 'Deploys to production'],
      ['auditor', null],
    ]);
    expect(await effectiveRoleNames(ctx, 'ann')).toEqual(['deployer']);
    expect(await effectiveRoleNames(ctx, 'bob')).toEqual(['auditor']);
    // The same role given directly and through Finance: one effective role, from both.
    const bob = s.users.find((u) => u.userName === 'bob')!;
    const [[auditor]] = await effectiveRolesOfUsers(ctx, [bob.id]);
    expect(auditor).toMatchObject({ direct: true, viaGroupIds: [s.groups.find((g) => g.name === 'Finance')!.id] });
    const events = await db.prisma.auditEvent.findMany({ where: { tenantId: ctx.tenantId, action: 'WORKSPACE_IMPORTED' } });
    expect(events).toHaveLength(1);
  });

  it('changes nothing and records nothing when the same realm export or CSV is imported again', async () => {
    for (const args of [[REALM, '--from', 'keycloak'], [CSV]]) {
      const { slug, ctx } = await workspace();
      expect((await kauthImport([slug, ...args])).code).toBe(0);
      const before = await state(ctx);
      const again = await kauthImport([slug, ...args]);
      expect(again.code).toBe(0);
      expect(again.json()).toMatchObject({ groups: { created: 0, updated: 0 }, users: { created: 0, updated: 0 }, memberships: { created: 0 }, roleAssignments: { created: 0 } });
      expect(await state(ctx)).toEqual(before);
    }
  });

  it('imports a CSV of group path and user email: the chains of groups, one group per path in any case, users by email', async () => {
    const { slug, ctx } = await workspace();
    const dry = await kauthImport([slug, CSV, '--dry-run']);
    expect(dry.json()).toMatchObject({ dryRun: true, groups: { created: 5 }, users: { created: 4 }, memberships: { created: 5 } });
    const run = await kauthImport([slug, CSV]);
    expect(run.code).toBe(0);
    const s = await state(ctx);
    expect(s.paths).toEqual(['Engineering', 'Engineering/Platform', 'Engineering/Platform/Databases, Storage', 'Sales', 'Sales/"Key" Accounts']);
    expect(s.users.map((u) => [u.userName, u.externalId, u.email])).toEqual([
      ['ann@acme.example', 'email:ann@acme.example', 'ann@acme.example'],
      ['bob@acme.example', 'email:bob@acme.example', 'bob@acme.example'],
      ['cy@acme.example', 'email:cy@acme.example', 'cy@acme.example'],
      ['dee@acme.example', 'email:dee@acme.example', 'dee@acme.example'],
    ]);
    expect(s.memberships).toEqual([
      'Engineering/Platform ann@acme.example',
      'Engineering/Platform cy@acme.example',
      'Engineering/Platform/Databases, Storage bob@acme.example',
      'Sales dee@acme.example',
      'Sales/"Key" Accounts ann@acme.example',
    ]);
  });

  it('writes nothing for a realm export or CSV with an error, and names its place', async () => {
    const { slug, ctx } = await workspace();
    const before = await state(ctx);
    const broken = realm();
    broken.users[2].groups = ['/Engineering/Platform', '/Eng/Nope'];
    const badRealm = path.join(scratch, 'bad-realm.json');
    writeFileSync(badRealm, JSON.stringify(broken));
    const keycloak = await kauthImport([slug, badRealm, '--from', 'keycloak']);
    expect(keycloak.code).toBe(1);
    expect(keycloak.stderr).toContain('/users/2/groups/1: no group at path "/Eng/Nope"');
    const badCsv = path.join(scratch, 'bad.csv');
    writeFileSync(badCsv, `${readFileSync(CSV, 'utf8')}Sales/West,"dee@acme.example\n`);
    const csv = await kauthImport([slug, badCsv]);
    expect(csv.code).toBe(1);
    expect(JSON.parse(csv.stdout)).toEqual({ error: { code: 'BAD_USER_INPUT', message: 'line 8, column 12: the quoted field is never closed' } });
    expect(await state(ctx)).toEqual(before);
  });

  it('places an error the plan finds against the workspace in the source file', async () => {
    const { slug, ctx } = await workspace();
    const sales = path.join(scratch, 'sales.csv');
    writeFileSync(sales, 'Sales,dee@acme.example\n');
    expect((await kauthImport([slug, sales])).code).toBe(0);
    const before = await state(ctx);
    // A second root named Sales under another id: the plan's sibling-name rule, found at /groups/4
    // of the converted file, reported at the realm file's group.
    const clash = path.join(scratch, 'clash.json');
    const org = realm();
    org.groups[1].name = 'sales';
    org.users[1].groups = ['/Engineering/Web', '/sales'];
    writeFileSync(clash, JSON.stringify(org));
    const run = await kauthImport([slug, clash, '--from', 'keycloak']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^kauth: \/groups\/1\/name: .*same name "sales"/);
    expect(await state(ctx)).toEqual(before);
  });
});
