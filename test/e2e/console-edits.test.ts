// The explorer's group edits (issue 27), in Debian's Chromium against a real server: creating a
// root and a child, renaming, describing and deleting the selected group, the tree, breadcrumb,
// details and address following without a reload; a failure shown as the API words it, the form
// keeping its input; and a key without groups:write seeing the controls disabled, naming the scope.
import type { Browser, Page } from 'playwright-core';
import { type Site, type Tab, chromiumAvailable, closeTab, createNamedGroup, newTab, openExplorerWith, treeItem, launchBrowser, startSite, textOf, waitForText } from './support';
import { waitFor } from '../support/wait';

const describeIf = chromiumAvailable('the explorer edits e2e test') ? describe : describe.skip;

const item = treeItem;
const rootItems = '#tree > [role="treeitem"]';

type Session = Tab;

interface GroupState {
  id: string;
  name: string;
  description: string | null;
  parent: { id: string } | null;
}

describeIf('the explorer console: group edits', () => {
  let site: Site;
  let browser: Browser;
  let readOnlyKey: string;
  const ids: Record<string, string> = {};

  const createGroup = (name: string, parent?: string) => createNamedGroup(site, ids, name, parent);

  const groupById = async (id: string): Promise<GroupState | null> =>
    (await site.graphql(`query($id: ID!) { group(id: $id) { id name description parent { id } } }`, { id })).group;

  const rootNames = async (): Promise<string[]> =>
    (await site.graphql(`{ groups(rootsOnly: true, first: 100) { nodes { name } } }`)).groups.nodes.map((g: { name: string }) => g.name);

  beforeAll(async () => {
    site = await startSite(['groups:read', 'groups:write', 'users:read', 'roles:read', 'apikeys:write']);
    // Engineering › Platform › Databases, Engineering › Web; Sales.
    await createGroup('Engineering');
    await createGroup('Platform', 'Engineering');
    await createGroup('Databases', 'Platform');
    await createGroup('Web', 'Engineering');
    await createGroup('Sales');
    const { createApiKey } = await site.graphql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`, {
      input: { name: 'read only', scopes: ['groups:read'] },
    });
    readOnlyKey = createApiKey.key;
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  /** A fresh tab on /explorer (with `hash`), `key` pasted, the roots shown. */
  async function openExplorer(hash = '', key = site.key): Promise<Session> {
    const session = await newTab(browser, { height: 900 });
    await openExplorerWith(session, site, key, hash);
    await session.page.waitForSelector(item(ids.Sales));
    return session;
  }

  const close = (session: Session) => closeTab(session, site);

  const hashOf = (page: Page) => new URL(page.url()).hash;
  const link = (id: string) => `#/groups/${id}`;

  /** Opens a tab on the group's address, its details shown. */
  async function openGroup(name: string): Promise<Session> {
    const session = await openExplorer(link(ids[name]));
    await waitForText(session.page, '#details h2', new RegExp(`^${name}$`));
    await session.page.waitForSelector(`${item(ids[name])}[aria-selected="true"]`);
    return session;
  }

  it('creates a subgroup of the selected group: it is shown, selected, under its parent, and exists', async () => {
    const session = await openGroup('Platform');
    const { page } = session;
    await page.fill('#create-child-name', 'Caching');
    await page.fill('#create-child-description', 'Redis and friends');
    await page.press('#create-child-description', 'Enter');

    await waitForText(page, '#details h2', /^Caching$/);
    const created = hashOf(page).replace('#/groups/', '');
    expect(created).not.toBe(ids.Platform);
    ids.Caching = created;
    expect(await page.locator('#breadcrumb li').allTextContents()).toEqual(['Engineering', 'Platform', 'Caching']);
    expect(await textOf(page, '#details .description')).toBe('Redis and friends');
    await page.waitForSelector(`${item(ids.Platform)} > [role="group"] > ${item(created)}[aria-selected="true"]`);
    expect(await textOf(page, '#edit-done')).toBe('Created “Caching” in Platform.');
    expect(await page.evaluate('document.activeElement?.tagName')).toBe('H2');
    expect(await groupById(created)).toEqual({ id: created, name: 'Caching', description: 'Redis and friends', parent: { id: ids.Platform } });
    await close(session);
  });

  it('creates a root group from above the tree', async () => {
    const session = await openExplorer();
    const { page } = session;
    await page.click('#root-edits summary');
    await page.fill('#create-root-name', 'Support');
    await page.click('#create-root button[type="submit"]');

    await waitForText(page, '#details h2', /^Support$/);
    const created = hashOf(page).replace('#/groups/', '');
    await page.waitForSelector(`${rootItems}${item(created)}[aria-selected="true"]`);
    expect(await page.locator('#breadcrumb li').allTextContents()).toEqual(['Support']);
    expect(await groupById(created)).toEqual({ id: created, name: 'Support', description: null, parent: null });
    await close(session);
  });

  it('renames and describes the selected group: the tree, breadcrumb and details follow, and the API agrees', async () => {
    const session = await openGroup('Web');
    const { page } = session;
    await page.fill('#edit-group-name', 'Frontend');
    await page.fill('#edit-group-description', 'Browsers and apps');
    await page.click('#edit-group button[type="submit"]');

    await waitForText(page, '#details h2', /^Frontend$/);
    expect(hashOf(page)).toBe(link(ids.Web));
    expect(await textOf(page, '#details .description')).toBe('Browsers and apps');
    expect(await page.locator('#breadcrumb li').allTextContents()).toEqual(['Engineering', 'Frontend']);
    await waitForText(page, `${item(ids.Web)} > .row > .name`, /^Frontend$/);
    expect(await page.inputValue('#edit-group-name')).toBe('Frontend');
    expect(await groupById(ids.Web)).toEqual({ id: ids.Web, name: 'Frontend', description: 'Browsers and apps', parent: { id: ids.Engineering } });

    // A description alone; blank clears it.
    await page.fill('#edit-group-description', '');
    await page.click('#edit-group button[type="submit"]');
    // The first save's message is still shown: the details reloaded without a description say the second is done.
    await waitFor('the details to show no description', async () => (await textOf(page, '#details .description').catch(() => null)) === '');
    await waitForText(page, '#edit-done', /^Saved “Frontend”\.$/);
    expect(await page.inputValue('#edit-group-description')).toBe('');
    expect((await groupById(ids.Web))?.description).toBeNull();
    await close(session);
  });

  it('shows a CONFLICT word for word with its code, the form keeping its input', async () => {
    const session = await openGroup('Databases');
    const { page } = session;
    await page.fill('#edit-group-name', 'caching');
    await page.fill('#edit-group-description', 'kept');
    await page.click('#edit-group button[type="submit"]');

    // The message the API gives for the same request.
    const response = await fetch(`${site.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${site.key}` },
      body: JSON.stringify({ query: `mutation($id: ID!) { updateGroup(id: $id, input: { name: "caching" }) { id } }`, variables: { id: ids.Databases } }),
    });
    const { errors } = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(errors[0].extensions.code).toBe('CONFLICT');

    await waitForText(page, '#edit-group-error', /CONFLICT/);
    expect(await textOf(page, '#edit-group-error')).toBe(`CONFLICT ${errors[0].message}`);
    expect(await page.inputValue('#edit-group-name')).toBe('caching');
    expect(await page.inputValue('#edit-group-description')).toBe('kept');
    expect(await textOf(page, '#details h2')).toBe('Databases');
    expect((await groupById(ids.Databases))?.name).toBe('Databases');
    await close(session);
  });

  it('deletes the selected group after a confirmation: it is gone, its children are roots, the address goes back to the hint', async () => {
    const session = await openGroup('Engineering');
    const { page } = session;
    await page.click('#delete-group');
    expect(await textOf(page, '#delete-confirmation p')).toBe(
      'Delete “Engineering”? Its 2 subgroups become root groups; its memberships and role assignments are deleted.',
    );
    // Focus on Cancel: Enter there deletes nothing.
    expect(await page.evaluate('document.activeElement?.id')).toBe('cancel-delete');
    await page.click('#confirm-delete');

    await waitForText(page, '#details', /Select a group/);
    expect(hashOf(page)).toBe('');
    expect(await textOf(page, '#edit-done')).toBe('Deleted “Engineering”. Its subgroups are now root groups.');
    await page.waitForSelector(`${rootItems}${item(ids.Platform)}`);
    expect(await page.locator(item(ids.Engineering)).count()).toBe(0);
    expect(await page.locator(`${rootItems}${item(ids.Web)}`).count()).toBe(1);
    expect(await groupById(ids.Engineering)).toBeNull();
    expect((await rootNames()).sort()).toEqual(['Frontend', 'Platform', 'Sales', 'Support']);
    await close(session);
  });

  it('shows the controls of a key without groups:write disabled, naming the scope they need', async () => {
    const session = await openExplorer(link(ids.Sales), readOnlyKey);
    const { page } = session;
    await waitForText(page, '#details h2', /^Sales$/);
    for (const form of ['#edit-group', '#create-child']) {
      expect(await page.isDisabled(`${form} button[type="submit"]`)).toBe(true);
      expect(await page.isDisabled(`${form}-name`)).toBe(true);
      expect(await textOf(page, `${form} .needs-scope`)).toBe('needs scope groups:write');
    }
    expect(await page.isDisabled('#delete-group')).toBe(true);
    expect(await textOf(page, '#delete .needs-scope')).toBe('needs scope groups:write');
    expect(await textOf(page, '#root-edits > .needs-scope')).toBe('needs scope groups:write');
    expect(await page.isDisabled('#create-root button[type="submit"]')).toBe(true);
    await close(session);
  });
});
