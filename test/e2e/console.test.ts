// The explorer as a console (issue 27), in Debian's Chromium against a real server: each group has
// an address (/explorer#/groups/42) that Back, Forward and a reload follow, opening the tree down
// to it; an address naming no group says so; and the tree's keyboard is WAI-ARIA's tree view
// pattern (roving tabindex, arrows, Home, End, type-ahead, Enter), pages loading on the way.
import type { Browser, Page } from 'playwright-core';
import { waitFor } from '../support/wait';
import { type Site, type Tab, chromiumAvailable, closeTab, createNamedGroup, newTab, openExplorerWith, treeItem, launchBrowser, startSite, waitForText } from './support';

const describeIf = chromiumAvailable('the explorer console e2e test') ? describe : describe.skip;

/** More than a page (25) of children under Engineering: Team 30 is on the second. */
const TEAMS = 30;

const item = treeItem;

type Session = Tab;

describeIf('the explorer console: addresses and keyboard', () => {
  let site: Site;
  let browser: Browser;
  const ids: Record<string, string> = {};

  const createGroup = (name: string, parent?: string) => createNamedGroup(site, ids, name, parent);

  beforeAll(async () => {
    site = await startSite(['groups:read', 'groups:write', 'users:read', 'roles:read']);
    // Engineering › Platform › Databases › Replication, Team 01…30 beside Platform; then Sales and Support.
    await createGroup('Engineering');
    await createGroup('Platform', 'Engineering');
    await createGroup('Databases', 'Platform');
    await createGroup('Replication', 'Databases');
    const teams = Array.from({ length: TEAMS }, (_, i) => `t${i}: createGroup(input: { name: "Team ${String(i + 1).padStart(2, '0')}", parentId: "${ids.Engineering}" }) { id }`);
    const created = await site.graphql(`mutation { ${teams.join(' ')} }`);
    for (let i = 0; i < TEAMS; i++) ids[`Team ${String(i + 1).padStart(2, '0')}`] = created[`t${i}`].id;
    await createGroup('Sales');
    await createGroup('Support');
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  /**
   * A fresh tab on /explorer (with `hash`), the key pasted, the roots shown. `noScrollLoading`: a
   * "Show more" scrolled into view loads nothing, so only the keyboard can have loaded a page.
   */
  async function openExplorer(hash = '', { noScrollLoading = false } = {}): Promise<Session> {
    const initScript = noScrollLoading ? 'window.IntersectionObserver = class { observe() {} unobserve() {} disconnect() {} }' : undefined;
    const session = await newTab(browser, { initScript });
    await openExplorerWith(session, site, site.key, hash);
    await session.page.waitForSelector(item(ids.Support));
    return session;
  }

  const close = (session: Session) => closeTab(session, site);

  const link = (name: string) => `#/groups/${ids[name]}`;
  const hashOf = (page: Page) => new URL(page.url()).hash;

  /** The details pane shows the group, the address is its link, and the tree selects it alone. */
  async function expectShown(page: Page, name: string): Promise<void> {
    await waitForText(page, '#details h2', new RegExp(`^${name}$`));
    expect(hashOf(page)).toBe(link(name));
    await page.waitForSelector(`${item(ids[name])}[aria-selected="true"]`);
    expect(await page.locator('[role="treeitem"][aria-selected="true"]').count()).toBe(1);
  }

  /** The name of the focused tree item, once it is `name`; the tree's one tab stop is that item. */
  async function expectFocus(page: Page, name: string): Promise<void> {
    const focused = () => page.evaluate(`document.activeElement?.querySelector(':scope > .row > .name')?.textContent ?? document.activeElement?.tagName`);
    let last: unknown;
    await waitFor(`the focus on ${name}`, async () => (last = await focused()) === name, 10_000).catch(() => expect(last).toBe(name));
    const stops = await page.locator('#tree [role="treeitem"][tabindex="0"] > .row > .name').allTextContents();
    expect(stops).toEqual([name]);
  }

  it('gives a selected group its own address, and Back and Forward go between the groups visited', async () => {
    const session = await openExplorer();
    const { page } = session;
    expect(hashOf(page)).toBe('');

    await page.click(`${item(ids.Sales)} > .row > .name`);
    await expectShown(page, 'Sales');
    await page.click(`${item(ids.Engineering)} > .row > .toggle`);
    await page.click(`${item(ids.Platform)} > .row > .name`);
    await expectShown(page, 'Platform');
    await page.click('#breadcrumb [data-group-id]:text-is("Engineering")');
    await expectShown(page, 'Engineering');

    await page.goBack();
    await expectShown(page, 'Platform');
    expect(await page.locator('#breadcrumb li').allTextContents()).toEqual(['Engineering', 'Platform']);
    expect(await page.getAttribute(item(ids.Engineering), 'aria-selected')).toBe('false');
    await page.goBack();
    await expectShown(page, 'Sales');
    expect(await page.locator('#breadcrumb li').allTextContents()).toEqual(['Sales']);
    await page.goForward();
    await expectShown(page, 'Platform');
    await page.goForward();
    await expectShown(page, 'Engineering');

    // Back to where the tab started: no group, nothing selected.
    await page.goBack();
    await page.goBack();
    await page.goBack();
    await waitForText(page, '#details', /^Select a group/);
    expect(hashOf(page)).toBe('');
    expect(await page.locator('[role="treeitem"][aria-selected="true"]').count()).toBe(0);
    await close(session);
  });

  it('reopens the addressed group after a reload, its ancestors expanded, on whichever page of children it is', async () => {
    const session = await openExplorer();
    const { page } = session;
    await page.goto(`${site.baseUrl}/explorer${link('Replication')}`);
    await expectShown(page, 'Replication');

    await page.reload();
    await expectShown(page, 'Replication');
    expect(await page.locator('#breadcrumb li').allTextContents()).toEqual(['Engineering', 'Platform', 'Databases', 'Replication']);
    for (const ancestor of ['Engineering', 'Platform', 'Databases']) {
      expect(await page.getAttribute(item(ids[ancestor]), 'aria-expanded')).toBe('true');
    }
    expect(await page.isVisible(item(ids.Replication))).toBe(true);
    expect(await page.getAttribute(item(ids.Replication), 'tabindex')).toBe('0');

    // Team 30 is on Engineering's second page of children: the reload loads it.
    await page.goto(`${site.baseUrl}/explorer${link('Team 30')}`);
    await page.reload();
    await expectShown(page, 'Team 30');
    expect(await page.getAttribute(item(ids.Engineering), 'aria-expanded')).toBe('true');
    expect(await page.isVisible(item(ids['Team 30']))).toBe(true);
    expect(await page.locator(`${item(ids.Engineering)} > ul > [role="treeitem"]`).count()).toBe(TEAMS + 1);
    await close(session);
  });

  it('says so when the address names no group the key can read, and shows the tree as usual', async () => {
    const session = await openExplorer('#/groups/999999');
    const { page } = session;
    await waitForText(page, '#no-group', /There is no group “999999” that this key can read/);
    expect(await page.locator('#tree > [role="treeitem"] > .row > .name').allTextContents()).toEqual(['Engineering', 'Sales', 'Support']);

    // A group deleted since its link was taken.
    await createGroup('Archive');
    await site.graphql(`mutation($id: ID!) { deleteGroup(id: $id) }`, { id: ids.Archive });
    await page.goto(`${site.baseUrl}/explorer${link('Archive')}`);
    await waitForText(page, '#no-group', new RegExp(`There is no group “${ids.Archive}” that this key can read`));
    await page.goto(`${site.baseUrl}/explorer#/groups/not-an-id`);
    await waitForText(page, '#no-group', /There is no group “not-an-id” that this key can read/);
    await page.goto(`${site.baseUrl}/explorer#/nowhere`);
    await waitForText(page, '#no-group', /This address names no group or user: #\/nowhere/);

    // A good address after a bad one shows its group.
    await page.goto(`${site.baseUrl}/explorer${link('Support')}`);
    await expectShown(page, 'Support');
    await close(session);
  });

  it('is one tab stop whose arrows, Home, End, type-ahead and Enter follow the WAI-ARIA tree pattern', async () => {
    const session = await openExplorer();
    const { page } = session;
    const press = (key: string) => page.keyboard.press(key);

    // Tab from the search box lands on the first item, the only one with tabindex 0.
    await page.focus('#search');
    await press('Tab');
    await expectFocus(page, 'Engineering');
    expect(await page.locator('#tree [tabindex="0"]').count()).toBe(1);

    await press('ArrowDown');
    await expectFocus(page, 'Sales');
    // The focus is visible: an outline around the row.
    expect(await page.evaluate(`getComputedStyle(document.querySelector('${item(ids.Sales)} > .row')).outlineStyle`)).toBe('solid');
    await press('ArrowUp');
    await expectFocus(page, 'Engineering');

    // ArrowRight expands a closed group (its children loaded then), then goes to its first child.
    expect(await page.getAttribute(item(ids.Engineering), 'aria-expanded')).toBe('false');
    await press('ArrowRight');
    await page.waitForSelector(`${item(ids.Engineering)}[aria-expanded="true"] > ul > ${item(ids.Platform)}`);
    await expectFocus(page, 'Engineering');
    await press('ArrowRight');
    await expectFocus(page, 'Platform');
    expect(await page.getAttribute(item(ids.Platform), 'aria-level')).toBe('2');
    expect(await page.getAttribute(item(ids.Platform), 'aria-posinset')).toBe('1');
    expect(await page.getAttribute(item(ids.Platform), 'aria-setsize')).toBe(String(TEAMS + 1));
    expect(await page.getAttribute(item(ids.Sales), 'aria-level')).toBe('1');
    expect(await page.getAttribute(item(ids.Sales), 'aria-posinset')).toBe('2');
    expect(await page.getAttribute(item(ids.Sales), 'aria-setsize')).toBe('3');

    // ArrowLeft goes to the parent of a closed group, then collapses an open one.
    await press('ArrowLeft');
    await expectFocus(page, 'Engineering');
    await press('ArrowLeft');
    expect(await page.getAttribute(item(ids.Engineering), 'aria-expanded')).toBe('false');
    expect(await page.isHidden(item(ids.Platform))).toBe(true);
    await expectFocus(page, 'Engineering');

    await press('End');
    await expectFocus(page, 'Support');
    await press('Home');
    await expectFocus(page, 'Engineering');

    // Type-ahead: "su" is Support (past Sales); after a pause, "e" wraps around to Engineering; "s" twice moves on among the S names.
    await page.keyboard.type('su');
    await expectFocus(page, 'Support');
    await page.waitForTimeout(700);
    await press('e');
    await expectFocus(page, 'Engineering');
    await page.waitForTimeout(700);
    await page.keyboard.type('ss');
    await expectFocus(page, 'Support');

    // Enter selects, as a click does: details, address, aria-selected; the focus stays in the tree.
    await press('Enter');
    await expectShown(page, 'Support');
    await expectFocus(page, 'Support');
    expect(await page.getAttribute(item(ids.Support), 'aria-selected')).toBe('true');
    await close(session);
  });

  it('loads the next page of children when the keyboard goes past the last one loaded', async () => {
    const session = await openExplorer('', { noScrollLoading: true });
    const { page } = session;
    const press = (key: string) => page.keyboard.press(key);
    await page.focus('#search');
    await press('Tab');
    await press('ArrowRight');
    await press('ArrowRight');
    await expectFocus(page, 'Platform');

    // The first page: Platform and Team 01…24. Type-ahead with a space finds Team 24.
    expect(await page.locator(`${item(ids.Engineering)} > ul > [role="treeitem"]`).count()).toBe(25);
    await page.keyboard.type('team 24');
    await expectFocus(page, 'Team 24');
    await press('ArrowDown');
    await expectFocus(page, 'Team 25');
    expect(await page.locator(`${item(ids.Engineering)} > ul > [role="treeitem"]`).count()).toBe(TEAMS + 1);
    expect(await page.getAttribute(item(ids['Team 25']), 'aria-posinset')).toBe('26');

    // Past the last child, the next group up; End is the last visible item.
    await press('End');
    await expectFocus(page, 'Support');
    await press('ArrowUp');
    await press('ArrowUp');
    await expectFocus(page, 'Team 30');
    await press('ArrowDown');
    await expectFocus(page, 'Sales');

    // Arrows into a closed group's unloaded children load them: Platform › Databases › Replication.
    await page.keyboard.type('p');
    await expectFocus(page, 'Platform');
    await press('ArrowRight');
    await press('ArrowRight');
    await expectFocus(page, 'Databases');
    await press('ArrowRight');
    await press('ArrowDown');
    await expectFocus(page, 'Replication');
    await press('Enter');
    await expectShown(page, 'Replication');
    expect(await page.locator('#breadcrumb li').allTextContents()).toEqual(['Engineering', 'Platform', 'Databases', 'Replication']);
    await close(session);
  });
});
