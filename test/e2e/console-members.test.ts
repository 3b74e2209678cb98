// The explorer's member and role edits (issue 27), in Debian's Chromium against a real server:
// adding a member found by a user search (name and email listed) and removing a direct member,
// assigning a role to the group from the workspace's roles and unassigning it, each checked
// through the API and followed by the details reloading and saying what was done; keys without
// groups:members:write, roles:write or users:read seeing the controls disabled, naming the scope;
// and the API's refusals (a key restricted to another subtree, a user deleted meanwhile) shown
// word for word beside the control.
import type { Browser } from 'playwright-core';
import { type Site, type Tab, chromiumAvailable, closeTab, createNamedGroup, launchBrowser, newTab, openExplorerWith, startSite, textOf, treeItem, waitForText } from './support';

const describeIf = chromiumAvailable('the explorer member and role edits e2e test') ? describe : describe.skip;

describeIf('the explorer console: member and role edits', () => {
  let site: Site;
  let browser: Browser;
  const ids: Record<string, string> = {};
  const users: Record<string, string> = {};
  const roles: Record<string, string> = {};
  const keys: Record<string, string> = {};

  const createUser = async (name: string, email: string) => {
    const { createUser } = await site.graphql(`mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { name, email } });
    users[name] = createUser.id;
  };
  const addMember = (group: string, user: string) =>
    site.graphql(`mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g: ids[group], u: users[user] });
  const createKey = async (name: string, scopes: string[]) => {
    const { createApiKey } = await site.graphql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`, { input: { name, scopes } });
    keys[name] = createApiKey.key;
  };

  /** The direct members' ids and the group's own roles' names, as the API says. */
  const memberIds = async (group: string): Promise<string[]> =>
    (await site.graphql(`query($id: ID!) { group(id: $id) { members(first: 100) { nodes { id } } } }`, { id: ids[group] })).group.members.nodes.map(
      (user: { id: string }) => user.id,
    );
  const roleNames = async (group: string): Promise<string[]> =>
    (await site.graphql(`query($id: ID!) { group(id: $id) { roles { name } } }`, { id: ids[group] })).group.roles.map((role: { name: string }) => role.name);

  /** The API's own answer to a mutation, for comparing with what the page shows. */
  const refusal = async (query: string, variables: Record<string, unknown>, key: string) => {
    const response = await fetch(`${site.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
    });
    const { errors } = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(errors).toHaveLength(1);
    return `${errors[0].extensions.code} ${errors[0].message}`;
  };

  beforeAll(async () => {
    site = await startSite(['groups:read', 'groups:write', 'groups:members:write', 'users:read', 'users:write', 'roles:read', 'roles:write', 'apikeys:write']);
    // Engineering › Platform; Sales.
    await createNamedGroup(site, ids, 'Engineering');
    await createNamedGroup(site, ids, 'Platform', 'Engineering');
    await createNamedGroup(site, ids, 'Sales');
    await createUser('Ada Lovelace', 'ada@example.com');
    await createUser('Grace Hopper', 'grace@example.com');
    await createUser('Alan Turing', 'alan@example.com');
    await createUser('Adam Smith', 'adam.smith@example.com');
    for (const name of ['admin', 'auditor', 'viewer']) {
      const { createRole } = await site.graphql(`mutation($name: String!) { createRole(input: { name: $name }) { id } }`, { name });
      roles[name] = createRole.id;
    }
    await addMember('Engineering', 'Grace Hopper');
    await addMember('Sales', 'Alan Turing');
    await site.graphql(`mutation($g: ID!, $r: ID!) { assignGroupRole(groupId: $g, roleId: $r) { id } }`, { g: ids.Sales, r: roles.viewer });
    await createKey('read only', ['groups:read', 'users:read', 'roles:read']);
    await createKey('members, no users', ['groups:read', 'groups:members:write', 'roles:read']);
    await createKey('platform members', ['groups:read', 'groups:members:write@' + ids.Platform, 'users:read', 'roles:read']);
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  /** A fresh tab on the group's address with `key`, its details shown. */
  async function openGroup(name: string, key = site.key): Promise<Tab> {
    const tab = await newTab(browser, { height: 1000 });
    await openExplorerWith(tab, site, key, `#/groups/${ids[name]}`);
    await waitForText(tab.page, '#details h2', new RegExp(`^${name}$`));
    await tab.page.waitForSelector(`${treeItem(ids[name])}[aria-selected="true"]`);
    return tab;
  }

  const close = (tab: Tab) => closeTab(tab, site);

  it('adds a member found by a user search: the matches show name and email, the member is listed and exists', async () => {
    const tab = await openGroup('Engineering');
    const { page } = tab;
    expect(await textOf(page, 'label[for="add-member-search"]')).toBe('Find a user');
    await page.fill('#add-member-search', 'ada');

    // Name or email: "ada" matches Ada Lovelace and adam.smith@…, not Grace or Alan.
    await page.waitForSelector(`#add-member-results li[data-user-id="${users['Ada Lovelace']}"]`);
    await page.waitForSelector(`#add-member-results li[data-user-id="${users['Adam Smith']}"]`);
    expect(await page.locator('#add-member-results li').count()).toBe(2);
    expect(await textOf(page, `#add-member-results li[data-user-id="${users['Ada Lovelace']}"]`)).toBe('Ada Lovelace ada@example.com Add');
    expect(await textOf(page, '#add-member-results .summary')).toBe('2 users named like “ada”');

    await page.getByRole('button', { name: 'Add Ada Lovelace to Engineering' }).click();
    await waitForText(page, '#edit-done', /^Added “Ada Lovelace” to Engineering\.$/);
    await page.waitForSelector(`#direct-members li[data-user-id="${users['Ada Lovelace']}"]`);
    expect(await textOf(page, '#direct-members h4')).toBe('Direct (2)');
    expect(await textOf(page, `#direct-members li[data-user-id="${users['Ada Lovelace']}"]`)).toMatch(/^Ada Lovelace ada@example\.com Remove/);
    expect((await memberIds('Engineering')).sort()).toEqual([users['Ada Lovelace'], users['Grace Hopper']].sort());
    await close(tab);
  });

  it('removes a direct member with the Remove button named after them', async () => {
    const tab = await openGroup('Engineering');
    const { page } = tab;
    await page.waitForSelector(`#direct-members li[data-user-id="${users['Grace Hopper']}"]`);
    await page.getByRole('button', { name: 'Remove Grace Hopper from Engineering' }).click();

    await waitForText(page, '#edit-done', /^Removed “Grace Hopper” from Engineering\.$/);
    await waitForText(page, '#direct-members h4', /^Direct \(1\)$/);
    expect(await page.locator(`#direct-members li[data-user-id="${users['Grace Hopper']}"]`).count()).toBe(0);
    expect(await memberIds('Engineering')).toEqual([users['Ada Lovelace']]);
    await close(tab);
  });

  it('assigns a role from the workspace roles, then unassigns it; the effective roles follow, and the API agrees', async () => {
    const tab = await openGroup('Engineering');
    const { page } = tab;
    await page.waitForSelector('#assign-role[data-loaded="3"]');
    expect(await page.locator('#assign-role-select option').allTextContents()).toEqual(['Choose a role', 'admin', 'auditor', 'viewer']);
    await page.selectOption('#assign-role-select', { label: 'admin' });
    await page.click('#assign-role button[type="submit"]');

    await waitForText(page, '#edit-done', /^Assigned role “admin” to Engineering\.$/);
    await page.waitForSelector(`#group-roles li[data-role-id="${roles.admin}"]`);
    expect(await textOf(page, `#roles li[data-role-id="${roles.admin}"]`)).toBe('admin granted by this group');
    expect(await roleNames('Engineering')).toEqual(['admin']);
    // The picker offers only the roles the group does not grant yet.
    await page.waitForSelector('#assign-role[data-loaded="2"]');
    expect(await page.locator('#assign-role-select option').allTextContents()).toEqual(['Choose a role', 'auditor', 'viewer']);

    await page.getByRole('button', { name: 'Unassign admin from Engineering' }).click();
    await waitForText(page, '#edit-done', /^Unassigned role “admin” from Engineering\.$/);
    await waitForText(page, '#group-roles', /None/);
    expect(await page.locator(`#roles li[data-role-id="${roles.admin}"]`).count()).toBe(0);
    expect(await roleNames('Engineering')).toEqual([]);
    await close(tab);
  });

  it('shows the controls of a key without groups:members:write and roles:write disabled, naming the scope', async () => {
    const tab = await openGroup('Sales', keys['read only']);
    const { page } = tab;
    const remove = page.getByRole('button', { name: 'Remove Alan Turing from Sales' });
    expect(await remove.isDisabled()).toBe(true);
    expect(await remove.getAttribute('aria-describedby')).toBe('members-needs-scope');
    expect(await textOf(page, '#members-needs-scope')).toBe('needs scope groups:members:write');
    expect(await page.isDisabled('#add-member-search')).toBe(true);
    expect(await page.isDisabled('#add-member button[type="submit"]')).toBe(true);

    const unassign = page.getByRole('button', { name: 'Unassign viewer from Sales' });
    expect(await unassign.isDisabled()).toBe(true);
    expect(await unassign.getAttribute('aria-describedby')).toBe('roles-needs-scope');
    expect(await textOf(page, '#roles-needs-scope')).toBe('needs scope roles:write');
    expect(await page.isDisabled('#assign-role-select')).toBe(true);
    expect(await page.isDisabled('#assign-role button[type="submit"]')).toBe(true);
    await close(tab);
  });

  it('shows the user search of a key without users:read disabled, naming users:read; Remove stays enabled', async () => {
    const tab = await openGroup('Sales', keys['members, no users']);
    const { page } = tab;
    expect(await textOf(page, '#users-needs-scope')).toBe('needs scope users:read');
    expect(await page.isDisabled('#add-member-search')).toBe(true);
    expect(await page.locator('#members-needs-scope').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Remove Alan Turing from Sales' }).isDisabled()).toBe(false);
    await close(tab);
  });

  it('shows the refusal of a key restricted to another subtree word for word, with its code, beside the control', async () => {
    const key = keys['platform members'];
    const tab = await openGroup('Sales', key);
    const { page } = tab;
    // groups:members:write@Platform counts as allowing: the service decides.
    expect(await page.isDisabled('#add-member-search')).toBe(false);
    await page.fill('#add-member-search', 'grace');
    await page.getByRole('button', { name: 'Add Grace Hopper to Sales' }).click();

    const expected = await refusal(`mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g: ids.Sales, u: users['Grace Hopper'] }, key);
    expect(expected).toMatch(/^FORBIDDEN /);
    await waitForText(page, '#add-member-error', /FORBIDDEN/);
    expect(await textOf(page, '#add-member-error')).toBe(expected);

    const removal = await refusal(`mutation($g: ID!, $u: ID!) { removeGroupMember(groupId: $g, userId: $u) { id } }`, { g: ids.Sales, u: users['Alan Turing'] }, key);
    await page.getByRole('button', { name: 'Remove Alan Turing from Sales' }).click();
    await waitForText(page, `#direct-members li[data-user-id="${users['Alan Turing']}"] .edit-error`, /FORBIDDEN/);
    expect(await textOf(page, `#direct-members li[data-user-id="${users['Alan Turing']}"] .edit-error`)).toBe(removal);
    expect(await page.locator('#edit-done').count()).toBe(0);
    expect((await memberIds('Sales')).sort()).toEqual([users['Alan Turing']]);
    await close(tab);
  });

  it('shows the refusal to add a user deleted after the search word for word', async () => {
    const tab = await openGroup('Platform');
    const { page } = tab;
    await createUser('Zed Gone', 'zed@example.com');
    await page.fill('#add-member-search', 'zed');
    await page.press('#add-member-search', 'Enter');
    const add = page.getByRole('button', { name: 'Add Zed Gone to Platform' });
    await add.waitFor();
    await site.graphql(`mutation($id: ID!) { deleteUser(id: $id) }`, { id: users['Zed Gone'] });
    await add.click();

    const expected = await refusal(`mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g: ids.Platform, u: users['Zed Gone'] }, site.key);
    await waitForText(page, '#add-member-error', /\S/);
    expect(await textOf(page, '#add-member-error')).toBe(expected);
    expect(await memberIds('Platform')).toEqual([]);
    await close(tab);
  });
});
