// The explorer's user view (issue 27), in Debian's Chromium against a real server: a group's
// members show their email and link to the user's view (/explorer#/users/7), which shows who the
// user is, their direct groups and their effective roles with the groups granting them ("via");
// Back, Forward and a reload follow it; fields the key may not read say which scope they need.
import type { Browser, Page } from 'playwright-core';
import { type Site, type Tab, chromiumAvailable, closeTab, createNamedGroup, newTab, openExplorerWith, treeItem, launchBrowser, startSite, textOf, waitForText } from './support';

const describeIf = chromiumAvailable('the explorer user view e2e test') ? describe : describe.skip;

/** A name that would run a script if the page treated names as HTML. */
const HTML_NAME = 'Zoe <img src=x onerror="document.title=1">';

/** More groups than a page (25) for one user. */
const REGIONS = 27;

const item = treeItem;

type Session = Tab;

describeIf('the explorer console: users', () => {
  let site: Site;
  let browser: Browser;
  const ids: Record<string, string> = {};
  const users: Record<string, string> = {};
  let noRolesKey = '';
  let groupsOnlyKey = '';

  const createGroup = (name: string, parent?: string) => createNamedGroup(site, ids, name, parent);

  const createUser = async (key: string, name: string, email: string, groups: string[]) => {
    const { createUser } = await site.graphql(`mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { name, email } });
    users[key] = createUser.id;
    for (const group of groups) {
      await site.graphql(`mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g: ids[group], u: createUser.id });
    }
  };

  /** A role assigned to groups and to users. */
  const grantRole = async (role: string, { groups = [] as string[], to = [] as string[] }) => {
    const { createRole } = await site.graphql(`mutation($name: String!) { createRole(input: { name: $name }) { id } }`, { name: role });
    for (const group of groups) {
      await site.graphql(`mutation($g: ID!, $r: ID!) { assignGroupRole(groupId: $g, roleId: $r) { id } }`, { g: ids[group], r: createRole.id });
    }
    for (const user of to) {
      await site.graphql(`mutation($u: ID!, $r: ID!) { assignUserRole(userId: $u, roleId: $r) { id } }`, { u: users[user], r: createRole.id });
    }
  };

  const createKey = async (name: string, scopes: string[]) => {
    const { createApiKey } = await site.graphql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`, { input: { name, scopes } });
    return createApiKey.key as string;
  };

  beforeAll(async () => {
    site = await startSite(['groups:read', 'groups:write', 'groups:members:write', 'users:read', 'users:write', 'roles:read', 'roles:write', 'apikeys:write']);
    // Engineering › Platform, then Sales. Pat is in Platform and Sales, Eve in Engineering, Zoe in Platform.
    await createGroup('Engineering');
    await createGroup('Platform', 'Engineering');
    await createGroup('Sales');
    await createUser('Pat', 'Pat Lee', 'pat@example.com', ['Platform', 'Sales']);
    await createUser('Eve', 'Eve', 'eve@example.com', ['Engineering']);
    await createUser('Zoe', HTML_NAME, 'zoe@example.com', ['Platform']);
    await createUser('Old', 'Old Timer', 'old@example.com', ['Platform']);
    await site.graphql(`mutation($id: ID!) { updateUser(id: $id, input: { active: false }) { id } }`, { id: users.Old });
    // Pat: admin inherited from Engineering (a parent of Platform), deployer both directly and via Platform, auditor directly.
    await grantRole('admin', { groups: ['Engineering'] });
    await grantRole('deployer', { groups: ['Platform'], to: ['Pat'] });
    await grantRole('auditor', { to: ['Pat'] });
    // Max is in more groups than a page (25): Region 01…27 under Sales.
    const regions = Array.from({ length: REGIONS }, (_, i) => `r${i}: createGroup(input: { name: "Region ${String(i + 1).padStart(2, '0')}", parentId: "${ids.Sales}" }) { id }`);
    const created = await site.graphql(`mutation { ${regions.join(' ')} }`);
    await createUser('Max', 'Max', 'max@example.com', []);
    const joins = Array.from({ length: REGIONS }, (_, i) => `m${i}: addGroupMember(groupId: "${created[`r${i}`].id}", userId: "${users.Max}") { id }`);
    await site.graphql(`mutation { ${joins.join(' ')} }`);
    noRolesKey = await createKey('no roles', ['groups:read', 'users:read']);
    groupsOnlyKey = await createKey('groups only', ['groups:read']);
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  /** A fresh tab on /explorer (with `hash`), `key` pasted, the roots shown. */
  async function openExplorer(hash = '', key = site.key): Promise<Session> {
    const session = await newTab(browser);
    await openExplorerWith(session, site, key, hash);
    await session.page.waitForSelector(item(ids.Sales));
    return session;
  }

  const close = (session: Session) => closeTab(session, site);

  const hashOf = (page: Page) => new URL(page.url()).hash;

  /** The user view shows Pat, at Pat's address, with nothing selected in the tree. */
  async function expectPat(page: Page): Promise<void> {
    await waitForText(page, '#details h2', /^Pat Lee$/);
    expect(hashOf(page)).toBe(`#/users/${users.Pat}`);
    expect(await textOf(page, '#user-email')).toBe('pat@example.com');
    expect(await textOf(page, '#user-name')).toBe('pat@example.com');
    expect(await textOf(page, '#user-status')).toBe('active');
    expect(await page.locator('#user-groups h3').textContent()).toBe('Groups (2)');
    expect(await page.locator('#user-groups li').allTextContents()).toEqual(['Platform in Engineering', 'Sales']);
    const roles = await page.locator('#user-roles li').allTextContents();
    expect(roles.sort()).toEqual(['admin via Engineering', 'auditor assigned directly', 'deployer assigned directly and via Platform']);
    expect(await page.locator('[role="treeitem"][aria-selected="true"]').count()).toBe(0);
  }

  it("shows each member of a group with their email, as a link to the user's view, which Back, Forward and a reload follow", async () => {
    const session = await openExplorer(`#/groups/${ids.Engineering}`);
    const { page } = session;
    await waitForText(page, '#details h2', /^Engineering$/);
    expect(await page.locator('#direct-members li').allTextContents()).toEqual(['Eve eve@example.com Remove']);
    // Inherited members too (Platform's); a deactivated user is nobody's member; names stay text.
    expect(await page.locator('#all-members li').allTextContents()).toEqual(['Pat Lee pat@example.com', 'Eve eve@example.com', `${HTML_NAME} zoe@example.com`]);
    expect(await page.locator('#details img').count()).toBe(0);
    expect(await page.getAttribute(`#all-members li[data-user-id="${users.Pat}"] > a`, 'href')).toBe(`#/users/${users.Pat}`);

    await page.click(`#all-members li[data-user-id="${users.Pat}"] > a`);
    await expectPat(page);

    // A group in the user view is a link to it; Back and Forward go between the views.
    await page.click('#user-roles [data-group-id]:text-is("Engineering")');
    await waitForText(page, '#details h2', /^Engineering$/);
    await page.goBack();
    await expectPat(page);
    await page.goBack();
    await waitForText(page, '#details h2', /^Engineering$/);
    expect(hashOf(page)).toBe(`#/groups/${ids.Engineering}`);
    expect(await page.getAttribute(item(ids.Engineering), 'aria-selected')).toBe('true');
    await page.goForward();
    await expectPat(page);

    await page.reload();
    await expectPat(page);
    // The tree's keyboard beside a user view: Tab lands on the first group, Enter selects it.
    await page.focus('#search');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await waitForText(page, '#details h2', /^Engineering$/);
    expect(hashOf(page)).toBe(`#/groups/${ids.Engineering}`);
    await page.goBack();
    await expectPat(page);
    await page.click(`#user-groups [data-group-id="${ids.Platform}"]`);
    await waitForText(page, '#details h2', /^Platform$/);
    expect(hashOf(page)).toBe(`#/groups/${ids.Platform}`);
    expect(await page.getAttribute(item(ids.Platform), 'aria-selected')).toBe('true');
    await close(session);
  });

  it('shows a deactivated user as such: memberships kept, but no roles', async () => {
    const session = await openExplorer(`#/users/${users.Old}`);
    const { page } = session;
    await waitForText(page, '#details h2', /^Old Timer$/);
    expect(await textOf(page, '#user-status')).toMatch(/^deactivated/);
    expect(await page.locator('#user-groups li').allTextContents()).toEqual(['Platform in Engineering']);
    expect(await textOf(page, '#user-groups p')).toMatch(/^Memberships kept while deactivated/);
    expect(await textOf(page, '#user-roles')).toBe('Effective roles None while deactivated');
    await close(session);
  });

  it('shows a user\'s groups a page at a time', async () => {
    const session = await openExplorer(`#/users/${users.Max}`);
    const { page } = session;
    await waitForText(page, '#details h2', /^Max$/);
    const regions = Array.from({ length: REGIONS }, (_, i) => `Region ${String(i + 1).padStart(2, '0')} in Sales`);
    expect(await page.locator('#user-groups h3').textContent()).toBe(`Groups (${REGIONS})`);
    expect(await page.locator('#user-groups li').allTextContents()).toEqual(regions.slice(0, 25));
    expect(await textOf(page, '#user-groups .more')).toBe(`Show more (25 of ${REGIONS})`);
    await page.click('#user-groups .more');
    await page.waitForSelector('#user-groups .more', { state: 'detached' });
    expect(await page.locator('#user-groups li').allTextContents()).toEqual(regions);
    await close(session);
  });

  it('shows an error of the API as it words it: instead of the user, or beside what came', async () => {
    const session = await openExplorer();
    const { page } = session;
    const answer = (body: unknown) =>
      page.route(`${site.baseUrl}/graphql`, (route) =>
        /UserDetails/.test(route.request().postData() ?? '') ? route.fulfill({ contentType: 'application/json', body: JSON.stringify(body) }) : route.fallback(),
      );
    await answer({ data: { user: null }, errors: [{ message: 'The request ran past its deadline of 5000 ms', extensions: { code: 'TIMEOUT' } }] });
    await page.goto(`${site.baseUrl}/explorer#/users/${users.Pat}`);
    await waitForText(page, '#no-user', /^The request ran past its deadline of 5000 ms$/);

    await page.unrouteAll();
    const partial = { id: users.Pat, name: 'Pat Lee', email: 'pat@example.com', userName: 'pat@example.com', active: true, groups: null, effectiveRoles: [] };
    await answer({ data: { user: partial }, errors: [{ message: 'groups could not be read: <b>busy</b>', path: ['user', 'groups'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    await page.reload();
    await waitForText(page, '#details h2', /^Pat Lee$/);
    expect(await textOf(page, '#user-problem')).toBe('groups could not be read: <b>busy</b>');
    expect(await page.locator('#details b').count()).toBe(0);
    expect(await textOf(page, '#user-groups')).toBe('Groups Not available');
    await close(session);
  });

  it('shows "needs scope roles:read" for the roles of a key without it, and the user and their groups as usual', async () => {
    const session = await openExplorer(`#/users/${users.Pat}`, noRolesKey);
    const { page } = session;
    await waitForText(page, '#details h2', /^Pat Lee$/);
    expect(await textOf(page, '#user-roles')).toBe('Effective roles needs scope roles:read');
    expect(await textOf(page, '#user-email')).toBe('pat@example.com');
    expect(await page.locator('#user-groups li').allTextContents()).toEqual(['Platform in Engineering', 'Sales']);
    expect(await page.locator('#user-problem').count()).toBe(0);
    await close(session);
  });

  it('shows "needs scope users:read" for the user view and the emails of a key without it', async () => {
    const session = await openExplorer(`#/groups/${ids.Platform}`, groupsOnlyKey);
    const { page } = session;
    await waitForText(page, '#details h2', /^Platform$/);
    expect(await page.locator('#direct-members li').allTextContents()).toEqual(['Pat Lee Remove', `${HTML_NAME} Remove`]);
    expect(await textOf(page, '#members .emails')).toBe('Emails: needs scope users:read');
    await page.click(`#direct-members li[data-user-id="${users.Pat}"] > a`);
    await waitForText(page, '#details', /^needs scope users:read$/);
    expect(hashOf(page)).toBe(`#/users/${users.Pat}`);
    await close(session);
  });

  it('says so when the address names no user the key can read', async () => {
    const session = await openExplorer('#/users/999999');
    const { page } = session;
    await waitForText(page, '#no-user', /There is no user “999999” that this key can read/);
    await page.goto(`${site.baseUrl}/explorer#/users/not-an-id`);
    await waitForText(page, '#no-user', /There is no user “not-an-id” that this key can read/);
    await page.goto(`${site.baseUrl}/explorer#/users/`);
    await waitForText(page, '#no-group', /This address names no group or user: #\/users\//);
    // A good address after a bad one shows its user.
    await page.goto(`${site.baseUrl}/explorer#/users/${users.Pat}`);
    await expectPat(page);
    await close(session);
  });
});
