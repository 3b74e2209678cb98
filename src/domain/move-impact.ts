// A move previewed: what moving a group (with its subtree) would change, computed without writing.
// Only members of the moved subtree can change: their memberships there lose the old ancestors
// above the group and gain the new ones. A role is lost when only the old chain granted it and
// nothing else the user holds after the move does (a direct role, a group of the subtree itself,
// the new chain, a membership elsewhere); gained when only the new chain grants it and nothing
// held before did. Inactive users grant nothing and are left out, as in every effective-role read.
//
// A constant number of statements whatever the subtree's size: the checks (those the move itself
// makes, src/domain/groups.ts checkMove), the roles of the two ancestor chains, then one set-based
// statement for a page of affected users with the totals, and one for the page's user rows.
import { Prisma, type Role, type User } from '../generated/prisma/client';
import { type DomainContext, type Tx, isVisible } from './context';
import { ConflictError, DomainError } from './errors';
import { type Group, type MoveRefusalCode, type RefuseMove, MAX_GROUP_NAME, checkMove } from './groups';
import { ID_ORDER, type Page, type Window, mapPage, pageOf, windowSql } from './pages';
import { groupsByIds } from './reads/groups';
import { rowsById } from './rows';
import { requireUniqueSiblingNames } from './sibling-names';
import { requiredName } from './validate';

/** A role a user would gain or lose, and the groups granting it (after the move for a gain, before it for a loss). */
export interface RoleChange {
  role: Role;
  /** Ancestors granting the role, nearest first; those the credential cannot read are left out. */
  grantedBy: number[];
}

export interface UserImpact {
  user: User;
  gained: RoleChange[];
  lost: RoleChange[];
}

/** A check the move would fail: `code` says which, `errorCode` is the error the move itself would answer. */
export interface MoveRefusal {
  code: MoveRefusalCode;
  errorCode: string;
  message: string;
}

export interface MoveImpactTotals {
  usersAffected: number;
  rolesGained: number;
  rolesLost: number;
}

export interface MoveImpact {
  group: Group;
  /** The parent before and after (null: a root), as the ids the credential may see (null for one it cannot read). */
  fromParentId: number | null;
  toParentId: number | null;
  refusals: MoveRefusal[];
  /** A page of the users whose effective roles would change, by user id. */
  users(window: Window<number>): Promise<Page<UserImpact>>;
  totals(): Promise<MoveImpactTotals>;
}

export interface MoveRequest {
  /** The new parent; null: make the group a root; undefined: keep the parent (REST's PUT without parentGroupId). */
  parentId: number | null | undefined;
  /** A new name given in the same write (REST's PUT may rename while moving); absent: the group's own. */
  name?: unknown;
}

const NO_TOTALS: MoveImpactTotals = { usersAffected: 0, rolesGained: 0, rolesLost: 0 };
const noPage = (window: Window<number>): Promise<Page<UserImpact>> => Promise.resolve(pageOf<UserImpact>([], window, (impact) => impact.user.id));

/**
 * What moving group `groupId` under `request.parentId` would change and what would refuse it;
 * null when the credential cannot read the group (as `group(id:)`). Needs no write scope: a
 * missing one is reported as a refusal.
 */
export async function previewMove(ctx: DomainContext, groupId: number, request: MoveRequest): Promise<MoveImpact | null> {
  const [group] = await groupsByIds(ctx, [groupId]);
  if (!group) return null;
  const name = request.name === undefined ? group.name : requiredName(request.name, 'name', MAX_GROUP_NAME);
  const refusals: MoveRefusal[] = [];
  const refuse: RefuseMove = (code, error) => refusals.push({ code, errorCode: error.code, message: error.message });
  const fromParentId = visibleParentId(ctx, group.path);
  const base = { group, fromParentId, refusals };
  const tx: Tx = ctx.db; // reads outside a transaction: a preview holds no lock
  const parentId = request.parentId === undefined ? group.parentGroupId : request.parentId;
  if (parentId === group.parentGroupId) {
    // Not a move: only the update's own checks apply, and nobody's roles change.
    await checkRename(tx, ctx, group, name, refuse);
    return { ...base, toParentId: fromParentId, users: noPage, totals: () => Promise.resolve(NO_TOTALS) };
  }
  // Roots a restricted reader cannot see are not compared by name: that would tell which names they have.
  const siblingNames = parentId !== null || ctx.access.visibleRoots === null;
  const parent = await checkMove(tx, ctx, group, parentId, name, refuse, { siblingNames });
  if (parent === undefined) return { ...base, toParentId: parentId, users: noPage, totals: () => Promise.resolve(NO_TOTALS) };
  const chains = await chainRoles(ctx, group.path.slice(0, -1), parent ? parent.path : []);
  const impact = { ...base, toParentId: parent ? parent.id : null };
  if (chains.lost.size === 0 && chains.gained.size === 0) return { ...impact, users: noPage, totals: () => Promise.resolve(NO_TOTALS) };
  return { ...impact, ...impactReader(ctx, group, chains) };
}

function visibleParentId(ctx: DomainContext, path: readonly number[]): number | null {
  const parentPath = path.slice(0, -1);
  return parentPath.length > 0 && isVisible(ctx.access, parentPath) ? parentPath[parentPath.length - 1] : null;
}

/** What applyGroupUpdate checks of an update that keeps the parent: the scope, and a new name among the siblings. */
async function checkRename(tx: Tx, ctx: DomainContext, group: Group, name: string, refuse: RefuseMove): Promise<void> {
  try {
    ctx.access.requireGroupWrite('groups:write', group.path);
    if (name !== group.name) await requireUniqueSiblingNames(tx, ctx, group.parentGroupId, [{ id: group.id, name }]);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    refuse(error instanceof ConflictError ? 'SIBLING_NAME' : 'FORBIDDEN', error);
  }
}

/** The roles only one of the two ancestor chains grants, each with the groups granting it there. */
interface ChainRoles {
  lost: Map<number, RoleChange>;
  gained: Map<number, RoleChange>;
}

/** Reads the roles of both chains (paths root..parent) in one statement; a role both grant changes nobody. */
async function chainRoles(ctx: DomainContext, oldChain: readonly number[], newChain: readonly number[]): Promise<ChainRoles> {
  const rows = await ctx.db.groupRole.findMany({
    where: { tenantId: ctx.tenantId, groupId: { in: [...oldChain, ...newChain] } },
    include: { role: true },
  });
  const granting = (chain: readonly number[]) => {
    const byRole = new Map<number, RoleChange>();
    // Nearest ancestor first, as `Group.ancestors` lists them.
    for (let i = chain.length - 1; i >= 0; i--) {
      const visible = isVisible(ctx.access, chain.slice(0, i + 1));
      for (const row of rows) {
        if (row.groupId !== chain[i]) continue;
        const change = byRole.get(row.roleId) ?? { role: row.role, grantedBy: [] };
        if (visible) change.grantedBy.push(chain[i]);
        byRole.set(row.roleId, change);
      }
    }
    return byRole;
  };
  const before = granting(oldChain);
  const after = granting(newChain);
  const only = (a: Map<number, RoleChange>, b: Map<number, RoleChange>) => new Map([...a].filter(([roleId]) => !b.has(roleId)));
  return { lost: only(before, after), gained: only(after, before) };
}

/**
 * The changes as SQL (`changes(user_id, role_id, gained)`): for each active member of the
 * subtree (`candidates`) and each role only one chain grants (`moving`), a change unless the
 * user holds the role in a way the move leaves alone (`held`): a direct role, or a membership of a
 * group below a group granting it (`granters`), not counting a granter outside the moved subtree
 * for a membership inside it (those are the old ancestors, which the move takes away). The subtree
 * is a range of the (tenant_id, path) index, as for `descendants`; each granter's subtree is found
 * through the path index, so the work follows the subtree's members and the granters' subtrees,
 * not the workspace.
 */
function changesSql(ctx: DomainContext, group: Group, chains: ChainRoles): Prisma.Sql {
  const t = ctx.tenantId;
  const lost = [...chains.lost.keys()];
  const gained = [...chains.gained.keys()];
  const moving = [...lost, ...gained];
  const past = [...group.path.slice(0, -1), group.id + 1];
  const inSubtree = (alias: string) =>
    Prisma.sql`${Prisma.raw(alias)}.path >= ${[...group.path]}::int[] AND ${Prisma.raw(alias)}.path < ${past}::int[]`;
  return Prisma.sql`
    WITH moving(role_id, gained) AS (
      SELECT r, false FROM unnest(${lost}::int[]) AS r UNION ALL SELECT r, true FROM unnest(${gained}::int[]) AS r
    ),
    candidates AS MATERIALIZED (
      SELECT DISTINCT gm.user_id FROM groups g
      JOIN group_members gm ON gm.group_id = g.id
      JOIN users u ON u.id = gm.user_id AND u.active
      WHERE g.tenant_id = ${t}::int AND ${inSubtree('g')}
    ),
    granters AS MATERIALIZED (
      SELECT gr.group_id, gr.role_id, ${inSubtree('g')} AS inside
      FROM group_roles gr JOIN groups g ON g.id = gr.group_id
      WHERE gr.tenant_id = ${t}::int AND gr.role_id = ANY(${moving}::int[])
    ),
    held AS MATERIALIZED (
      SELECT ur.user_id, ur.role_id FROM candidates c
      JOIN user_roles ur ON ur.user_id = c.user_id AND ur.tenant_id = ${t}::int AND ur.role_id = ANY(${moving}::int[])
      UNION
      SELECT gm.user_id, gr.role_id FROM granters gr
      JOIN groups g ON g.tenant_id = ${t}::int AND g.path @> ARRAY[gr.group_id] AND (gr.inside OR NOT (${inSubtree('g')}))
      JOIN group_members gm ON gm.group_id = g.id
      JOIN candidates c ON c.user_id = gm.user_id
    ),
    changes AS MATERIALIZED (
      SELECT c.user_id, m.role_id, m.gained FROM candidates c CROSS JOIN moving m
      WHERE NOT EXISTS (SELECT 1 FROM held h WHERE h.user_id = c.user_id AND h.role_id = m.role_id)
    )`;
}

type ChangeRow = { userId: number; roleId: number; gained: boolean } | ({ userId: null } & MoveImpactTotals);

/** The changes of a page of users (by id) and, in the same statement, the totals over every user. */
async function impactPage(ctx: DomainContext, group: Group, chains: ChainRoles, window: Window<number>): Promise<{ page: Page<UserImpact>; totals: MoveImpactTotals }> {
  const { bounds, order, limit } = windowSql(Prisma.sql`user_id`, window);
  const rows = await ctx.db.$queryRaw<ChangeRow[]>`
    ${changesSql(ctx, group, chains)},
    page AS (SELECT DISTINCT user_id FROM changes WHERE ${bounds} ORDER BY ${order} LIMIT ${limit})
    SELECT ch.user_id AS "userId", ch.role_id AS "roleId", ch.gained, NULL::int AS "usersAffected", NULL::int AS "rolesGained", NULL::int AS "rolesLost"
    FROM page JOIN changes ch ON ch.user_id = page.user_id
    UNION ALL
    SELECT NULL, NULL, NULL, count(DISTINCT user_id)::int, (count(*) FILTER (WHERE gained))::int, (count(*) FILTER (WHERE NOT gained))::int
    FROM changes`;
  let totals = NO_TOTALS;
  const byUser = new Map<number, { userId: number; gained: RoleChange[]; lost: RoleChange[] }>();
  for (const row of rows) {
    if (row.userId === null) {
      totals = { usersAffected: row.usersAffected, rolesGained: row.rolesGained, rolesLost: row.rolesLost };
      continue;
    }
    const impact = byUser.get(row.userId) ?? { userId: row.userId, gained: [], lost: [] };
    const change = (row.gained ? chains.gained : chains.lost).get(row.roleId)!;
    (row.gained ? impact.gained : impact.lost).push(change);
    byUser.set(row.userId, impact);
  }
  // In the order the page was read (pageOf turns a backwards read around); each user's roles by id.
  const readOrder = [...byUser.values()].sort((a, b) => (window.backwards ? b.userId - a.userId : a.userId - b.userId));
  for (const impact of readOrder) for (const list of [impact.gained, impact.lost]) list.sort((a, b) => a.role.id - b.role.id);
  const users = await rowsById(readOrder.map((impact) => impact.userId), (ids) =>
    ctx.db.user.findMany({ where: { tenantId: ctx.tenantId, id: { in: ids } } }),
  );
  // A user deleted since is left out, as a member page leaves out one.
  const page = mapPage(pageOf(readOrder, window, (impact) => impact.userId), ({ userId, gained, lost }) => {
    const user = users.get(userId);
    return user && { user, gained, lost };
  });
  return { page, totals };
}

/**
 * Pages and totals of one preview. The totals come with the first page asked for in the same turn
 * of the event loop (GraphQL resolves `totals` and `users` side by side), so the changes are
 * worked out once; asked alone, they are read with an empty page.
 */
function impactReader(ctx: DomainContext, group: Group, chains: ChainRoles): Pick<MoveImpact, 'users' | 'totals'> {
  let first: Promise<{ totals: MoveImpactTotals }> | null = null;
  let totals: Promise<MoveImpactTotals> | null = null;
  const read = (window: Window<number>) => {
    const result = impactPage(ctx, group, chains, window);
    first ??= result;
    return result;
  };
  return {
    users: async (window) => (await read(window)).page,
    totals: () =>
      (totals ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        const result = first ?? read({ size: 0, backwards: false, after: null, before: null, order: ID_ORDER });
        return (await result).totals;
      })),
  };
}
