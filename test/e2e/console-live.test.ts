// The explorer console's live updates (issue 27), in Debian's Chromium against a real server: with
// the console open, groups created, renamed, moved and deleted through the API show in the tree
// (and a renamed group's details) without a reload, each within a few seconds (the observed latency
// is printed: the issue asks for under a second); a group moved out of a restricted key's subtree
// disappears from its tree; the connection's status says Live; focus and typed input stay where
// they were (a change to the group being edited is offered, not forced); "Forget key" closes the socket.
import type { Browser } from 'playwright-core';
import { type Site, type Tab, chromiumAvailable, closeTab, createNamedGroup, launchBrowser, newTab, openExplorerWith, startSite, treeItem, waitForText } from './support';

const describeIf = chromiumAvailable('the explorer live updates e2e test') ? describe : describe.skip;

const item = treeItem;
const rootItem = (id: string) => `#tree > ${item(id)}`;
const childItem = (parent: string, id: string) => `${item(parent)} > [role="group"] > ${item(id)}`;
/** The longest a change may take to show here: the issue asks for a second; a busy machine gets some slack. */
const LIVE_MS = 5_000;

describeIf('the explorer console: live updates', () => {
  let site: Site;
  let browser: Browser;
  const ids: Record<string, string> = {};
  const latencies: Record<string, number> = {};

  const createGroup = (name: string, parent?: string) => createNamedGroup(site, ids, name, parent);
  const updateGroup = (id: string, input: Record<string, unknown>) =>
    site.graphql(`mutation($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { id } }`, { id, input });

  /** Makes the change through the API, then waits until the page shows it; records how long that took. */
  async function live(what: string, change: () => Promise<unknown>, shown: () => Promise<unknown>): Promise<void> {
    await change();
    const startedAt = performance.now();
    await shown();
    latencies[what] = Math.round(performance.now() - startedAt);
  }

  beforeAll(async () => {
    site = await startSite(['groups:read', 'groups:write', 'users:read', 'roles:read', 'apikeys:write']);
    // Engineering › Platform, Engineering › Web; Sales; Region › Team › Alpha.
    await createGroup('Engineering');
    await createGroup('Platform', 'Engineering');
    await createGroup('Web', 'Engineering');
    await createGroup('Sales');
    await createGroup('Region');
    await createGroup('Team', 'Region');
    await createGroup('Alpha', 'Team');
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    process.stdout.write(`live update latency (API answer to tree shown), ms: ${JSON.stringify(latencies)}\n`);
    await browser?.close();
    await site?.stop();
  });

  async function openExplorer(key = site.key, hash = ''): Promise<Tab> {
    const tab = await newTab(browser, { height: 900 });
    await openExplorerWith(tab, site, key, hash);
    await waitForText(tab.page, '#live[role="status"]', /^Live$/);
    return tab;
  }

  it('shows groups created, renamed, moved and deleted elsewhere, keeping focus and expansion, and says it is Live', async () => {
    const tab = await openExplorer(site.key, `#/groups/${ids.Web}`);
    const { page } = tab;
    await waitForText(page, '#details h2', /^Web$/);
    await page.waitForSelector(`${childItem(ids.Engineering, ids.Web)}[aria-selected="true"]`);
    // The person is typing a search meanwhile: the focus and the text stay.
    await page.focus('#search');
    await page.keyboard.type('zzz');

    await live('created root', () => createGroup('Marketing'), () => page.waitForSelector(rootItem(ids.Marketing), { timeout: LIVE_MS }));
    await live('created child', () => createGroup('Mobile', 'Engineering'), () => page.waitForSelector(childItem(ids.Engineering, ids.Mobile), { timeout: LIVE_MS }));
    expect(await page.locator(`${item(ids.Mobile)} .name`).textContent()).toBe('Mobile');

    await live(
      'renamed',
      () => updateGroup(ids.Web, { name: 'Frontend' }),
      () => waitForText(page, `${item(ids.Web)} > .row > .name`, /^Frontend$/, LIVE_MS),
    );
    // The details of the renamed group, shown, follow; it stays selected.
    await waitForText(page, '#details h2', /^Frontend$/, LIVE_MS);
    await page.waitForSelector(`${childItem(ids.Engineering, ids.Web)}[aria-selected="true"]`);

    await live(
      'moved',
      () => updateGroup(ids.Platform, { parentId: null }),
      () => page.waitForSelector(rootItem(ids.Platform), { timeout: LIVE_MS }),
    );
    expect(await page.locator(childItem(ids.Engineering, ids.Platform)).count()).toBe(0);
    expect(await page.locator(item(ids.Platform)).count()).toBe(1);

    await live(
      'deleted',
      () => site.graphql(`mutation($id: ID!) { deleteGroup(id: $id) }`, { id: ids.Engineering }),
      () => page.waitForSelector(item(ids.Engineering), { state: 'detached', timeout: LIVE_MS }),
    );
    // Its children are roots now.
    await page.waitForSelector(rootItem(ids.Web), { timeout: LIVE_MS });
    await page.waitForSelector(rootItem(ids.Mobile), { timeout: LIVE_MS });
    const roots = await page.locator('#tree > [role="treeitem"] > .row > .name').allTextContents();
    expect(roots.sort()).toEqual(['Frontend', 'Marketing', 'Mobile', 'Platform', 'Region', 'Sales']);

    expect(await page.evaluate('document.activeElement?.id')).toBe('search');
    expect(await page.inputValue('#search')).toBe('zzz');
    for (const latency of Object.values(latencies)) expect(latency).toBeLessThan(LIVE_MS);
    await closeTab(tab, site);
  });

  it('keeps what is typed in the details when the group changes elsewhere, and offers the latest', async () => {
    const tab = await openExplorer(site.key, `#/groups/${ids.Sales}`);
    const { page } = tab;
    await waitForText(page, '#details h2', /^Sales$/);
    await page.fill('#edit-group-name', 'Revenue (typed)');

    await updateGroup(ids.Sales, { description: 'Changed elsewhere' });
    await waitForText(page, '#live-stale', /changed elsewhere/, LIVE_MS);
    expect(await page.inputValue('#edit-group-name')).toBe('Revenue (typed)');
    expect(await page.evaluate('document.activeElement?.id')).toBe('edit-group-name');

    await page.click('#live-show-latest');
    await waitForText(page, '#details .description', /^Changed elsewhere$/);
    expect(await page.locator('#live-stale').count()).toBe(0);
    await closeTab(tab, site);
  });

  it('leaves an edit made in this tab as it is shown: its own event neither redraws the details nor moves the focus', async () => {
    const tab = await openExplorer(site.key, `#/groups/${ids.Marketing}`);
    const { page } = tab;
    await waitForText(page, '#details h2', /^Marketing$/);
    await page.fill('#edit-group-name', 'Brand');
    await page.click('#edit-group button[type="submit"]');
    await waitForText(page, '#edit-done', /^Saved “Brand”\.$/);
    // A later change made elsewhere shows: the events before it (this tab's own) have been handled.
    await live('created root (after an own edit)', () => createGroup('Later'), () => page.waitForSelector(rootItem(ids.Later), { timeout: LIVE_MS }));
    expect(await page.locator('#edit-done').count()).toBe(1);
    expect(await page.locator('#live-stale').count()).toBe(0);
    expect(await page.evaluate('document.activeElement?.tagName')).toBe('H2');
    expect(await page.locator(`${item(ids.Marketing)}[aria-selected="true"] > .row > .name`).textContent()).toBe('Brand');
    await closeTab(tab, site);
  });

  it('removes a group moved out of a restricted key’s subtree from its tree', async () => {
    const { createApiKey } = await site.graphql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`, {
      input: { name: 'region only', scopes: [`groups:read@${ids.Region}`] },
    });
    const tab = await openExplorer(createApiKey.key, `#/groups/${ids.Alpha}`);
    const { page } = tab;
    await page.waitForSelector(`${childItem(ids.Team, ids.Alpha)}[aria-selected="true"]`);

    await live(
      'moved out of sight',
      () => updateGroup(ids.Alpha, { parentId: ids.Sales }),
      () => page.waitForSelector(item(ids.Alpha), { state: 'detached', timeout: LIVE_MS }),
    );
    // Team, its parent, is now a leaf to this key; nothing outside the subtree shows.
    await page.waitForSelector(`${item(ids.Team)}:not([aria-expanded])`, { timeout: LIVE_MS });
    expect(await page.locator('#tree [role="treeitem"] > .row > .name').allTextContents()).toEqual(['Region', 'Team']);
    expect(latencies['moved out of sight']).toBeLessThan(LIVE_MS);
    await closeTab(tab, site);
  });

  it('closes the socket on "Forget key"', async () => {
    const tab = await newTab(browser);
    const { page } = tab;
    const closed = new Promise<string>((resolve) =>
      page.on('websocket', (socket) => socket.on('close', () => resolve(socket.url()))),
    );
    await openExplorerWith(tab, site, site.key);
    await waitForText(page, '#live', /^Live$/);
    await page.click('#forget');
    expect(await closed).toBe(`${site.baseUrl.replace('http', 'ws')}/graphql/ws`);
    expect(await page.locator('#live').textContent()).toBe('');
    await closeTab(tab, site);
  });
});
