// `kauth export`: the workspace in the import's format, read in one snapshot. Groups come in tree
// order (parents first, siblings by id), users by id, roles by name, links in the order of what
// they link: importing the file into an empty workspace and exporting that gives the same file.
import type { DomainContext, Tx } from '../context';
import { FORMAT, FORMAT_VERSION, type FileGroup, type FileRoleAssignment, type FileUser, type WorkspaceFile } from './format';
import { syntheticExternalId } from './plan';

async function readWorkspace(tx: Tx, tenantId: number) {
  return {
    groups: await tx.$queryRaw<{ id: number; externalId: string | null; name: string; description: string | null; parentId: number | null }[]>`
      SELECT id, external_id AS "externalId", name, description, parent_group_id AS "parentId"
      FROM groups WHERE tenant_id = ${tenantId}::int ORDER BY path`,
    users: await tx.$queryRaw<(Omit<FileUser, 'externalId'> & { id: number; externalId: string | null })[]>`
      SELECT id, external_id AS "externalId", user_name AS "userName", email, name, given_name AS "givenName",
             family_name AS "familyName", active
      FROM users WHERE tenant_id = ${tenantId}::int ORDER BY id`,
    roles: await tx.$queryRaw<{ id: number; name: string; description: string | null }[]>`
      SELECT id, name, description FROM roles WHERE tenant_id = ${tenantId}::int ORDER BY name COLLATE "C"`,
    memberships: await tx.$queryRaw<{ a: number; b: number }[]>`
      SELECT group_id AS a, user_id AS b FROM group_members WHERE tenant_id = ${tenantId}::int`,
    groupRoles: await tx.$queryRaw<{ a: number; b: number }[]>`
      SELECT group_id AS a, role_id AS b FROM group_roles WHERE tenant_id = ${tenantId}::int`,
    userRoles: await tx.$queryRaw<{ a: number; b: number }[]>`
      SELECT user_id AS a, role_id AS b FROM user_roles WHERE tenant_id = ${tenantId}::int`,
  };
}

/** Links (a, b) sorted by the position of a, then of b, in the file's lists. */
function sortedLinks(links: { a: number; b: number }[], orderA: Map<number, number>, orderB: Map<number, number>) {
  return links.sort((x, y) => orderA.get(x.a)! - orderA.get(y.a)! || orderB.get(x.b)! - orderB.get(y.b)!);
}

const positions = (rows: readonly { id: number }[]) => new Map(rows.map((row, i) => [row.id, i]));

/** The workspace `slug` as a file of the import's format. A row without an external id is given its synthetic one. */
export async function exportWorkspace(ctx: DomainContext, slug: string): Promise<WorkspaceFile> {
  const data = await ctx.db.$transaction(async (tx) => {
    // One snapshot for every table: a write committing between two reads cannot tear the file.
    await tx.$executeRaw`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`;
    return readWorkspace(tx, ctx.tenantId);
  }, { timeout: 10 * 60_000, maxWait: 60_000 });
  const groupRef = new Map(data.groups.map((g) => [g.id, g.externalId ?? syntheticExternalId(slug, g.id)]));
  const userRef = new Map(data.users.map((u) => [u.id, u.externalId ?? syntheticExternalId(slug, u.id)]));
  const roleName = new Map(data.roles.map((r) => [r.id, r.name]));
  const [groupAt, userAt, roleAt] = [positions(data.groups), positions(data.users), positions(data.roles)];
  const groups: FileGroup[] = data.groups.map((g) => ({
    externalId: groupRef.get(g.id)!,
    name: g.name,
    description: g.description,
    parent: g.parentId === null ? null : groupRef.get(g.parentId)!,
  }));
  const users: FileUser[] = data.users.map(({ id, externalId: _, ...u }) => ({ externalId: userRef.get(id)!, ...u }));
  const roleAssignments: FileRoleAssignment[] = [
    ...sortedLinks(data.groupRoles, groupAt, roleAt).map(({ a, b }) => ({ role: roleName.get(b)!, group: groupRef.get(a)!, user: null })),
    ...sortedLinks(data.userRoles, userAt, roleAt).map(({ a, b }) => ({ role: roleName.get(b)!, group: null, user: userRef.get(a)! })),
  ];
  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    groups,
    users,
    roles: data.roles.map(({ name, description }) => ({ name, description })),
    memberships: sortedLinks(data.memberships, groupAt, userAt).map(({ a, b }) => ({ group: groupRef.get(a)!, user: userRef.get(b)! })),
    roleAssignments,
  };
}

/** The file as text: one entry a line, so that files diff line by line and large ones stay compact. */
export function formatWorkspaceFile(file: WorkspaceFile): string {
  const list = (items: readonly unknown[]) =>
    items.length === 0 ? '[]' : `[\n${items.map((item) => `    ${JSON.stringify(item)}`).join(',\n')}\n  ]`;
  const assignments = file.roleAssignments.map(({ role, group, user }) => (group !== null ? { role, group } : { role, user }));
  return [
    '{',
    `  "format": ${JSON.stringify(file.format)},`,
    `  "version": ${file.version},`,
    `  "groups": ${list(file.groups)},`,
    `  "users": ${list(file.users)},`,
    `  "roles": ${list(file.roles)},`,
    `  "memberships": ${list(file.memberships)},`,
    `  "roleAssignments": ${list(assignments)}`,
    '}',
    '',
  ].join('\n');
}
