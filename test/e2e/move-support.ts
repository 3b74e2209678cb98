// What the two ways of moving a group in the console ("Move to…": console-move.test.ts, drag and
// drop: console-drag.test.ts) are checked with: a workspace's users and roles made through the
// API, what `moveImpact` says of a move, the lines the preview must show for it, the lines it does
// show, and the operations a tab sent (nothing but the preview until "Confirm move").
import type { Browser, Page } from 'playwright-core';
import { type Site, type Tab, newTab } from './support';

export interface RoleChange {
  role: { name: string };
  grantedBy: { name: string }[];
}

export interface Impact {
  allowed: boolean;
  refusals: { code: string; errorCode: string; message: string }[];
  totals: { usersAffected: number; rolesGained: number; rolesLost: number };
  users: { totalCount: number; nodes: { user: { id: string; name: string }; gained: RoleChange[]; lost: RoleChange[] }[] };
}

const MOVE_IMPACT = `query($g: ID!, $p: ID) {
  moveImpact(groupId: $g, newParentId: $p) {
    allowed
    refusals { code errorCode message }
    totals { usersAffected rolesGained rolesLost }
    users(first: 40) { totalCount nodes { user { id name } gained { role { name } grantedBy { name } } lost { role { name } grantedBy { name } } } }
  }
}`;

/**
 * Users, roles and reads of the site's workspace by name: `ids` holds the groups' ids (as
 * createNamedGroup records them), `users` is filled with the users' ids.
 */
export function moveFixtures(site: () => Site, ids: Record<string, string>, users: Record<string, string>) {
  return {
    /** Makes the user `name` (email name@example.com), a direct member of each of `groups`. */
    async createUser(name: string, groups: string[]): Promise<void> {
      const { createUser } = await site().graphql(`mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, {
        input: { name, email: `${name.toLowerCase()}@example.com` },
      });
      users[name] = createUser.id;
      for (const group of groups) {
        await site().graphql(`mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g: ids[group], u: createUser.id });
      }
    },
    /** Makes the role `role` and assigns it to `group`. */
    async grantRole(role: string, group: string): Promise<void> {
      const { createRole } = await site().graphql(`mutation($name: String!) { createRole(input: { name: $name }) { id } }`, { name: role });
      await site().graphql(`mutation($g: ID!, $r: ID!) { assignGroupRole(groupId: $g, roleId: $r) { id } }`, { g: ids[group], r: createRole.id });
    },
    async parentOf(group: string): Promise<string | null> {
      return (await site().graphql(`query($id: ID!) { group(id: $id) { parent { id } } }`, { id: ids[group] })).group.parent?.id ?? null;
    },
    /** The names of the user's effective roles, sorted. */
    async effectiveRoles(user: string): Promise<string[]> {
      return (await site().graphql(`query($id: ID!) { user(id: $id) { effectiveRoles { role { name } } } }`, { id: users[user] })).user.effectiveRoles
        .map((r: { role: { name: string } }) => r.role.name)
        .sort();
    },
    /** What moving `group` under `parent` (null: to the roots) would change, as the API says it. */
    async moveImpact(group: string, parent: string | null): Promise<Impact> {
      return (await site().graphql(MOVE_IMPACT, { g: ids[group], p: parent ? ids[parent] : null })).moveImpact;
    },
  };
}

/** What the preview must say of each user, in the API's words: a line per role gained, then lost. */
export const expectedLines = (impact: Impact) =>
  impact.users.nodes.map(({ user, gained, lost }) => ({
    id: user.id,
    name: user.name,
    lines: [
      ...gained.map((c) => `gains ${c.role.name}, granted after the move by ${c.grantedBy.map((g) => g.name).join(', ')}`),
      ...lost.map((c) => `loses ${c.role.name}, granted before the move by ${c.grantedBy.map((g) => g.name).join(', ')}`),
    ],
  }));

/** What the preview in `pane` (a selector: the picker's, or the drag dialog's) shows of each user. */
export const shownUsers = (page: Page, pane = '') =>
  page.$$eval(`${pane} #move-users > li`.trim(), (items) =>
    items.map((li) => ({
      id: li.getAttribute('data-user-id'),
      name: li.querySelector('.user')?.textContent,
      lines: [...li.querySelectorAll('li')].map((line) => line.textContent),
    })),
  );

/** A tab that also records the operation names the page sent to /graphql, in order. */
export interface Session extends Tab {
  operations: string[];
}

/** A fresh tab (1280 × 900) recording its operations. */
export async function newRecordingTab(browser: Browser): Promise<Session> {
  const session: Session = { ...(await newTab(browser, { height: 900 })), operations: [] };
  session.page.on('request', (request) => {
    const operation = /^\s*(query|mutation)\s+(\w+)/.exec(JSON.parse(request.postData() ?? '{}').query ?? '');
    if (operation) session.operations.push(operation[2]);
  });
  return session;
}
