// The console's look and accessibility (issue 27), in Debian's Chromium against a real server:
// the key page says what a key is, where one comes from and which scopes the console uses; axe
// (@axe-core/playwright) finds no serious or critical violation on the key page, a selected
// group's details, a user's view and a move's preview (lesser ones are printed); the header's
// scope list stays one line, opening into the whole list; at a phone's width (375 px) nothing
// scrolls sideways and the details are below the tree, on a wide screen (1280 px) beside it.
// Screenshots: test/e2e/artifacts/console-wide.png and console-phone.png.
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { type Site, type Tab, chromiumAvailable, closeTab, createNamedGroup, newTab, openExplorerWith, screenshot, treeItem, launchBrowser, startSite, textOf, waitForText } from './support';

const describeIf = chromiumAvailable('the explorer look e2e test') ? describe : describe.skip;

/** The scopes the key page names as the console's. */
const CONSOLE_SCOPES = ['groups:read', 'users:read', 'roles:read', 'groups:write', 'groups:members:write', 'roles:write'];

const PHONE = { width: 375, height: 740 };
const WIDE = { width: 1280, height: 800 };

/** Axe's findings on the page as it is: serious and critical ones fail the test, the rest are printed. */
async function expectAccessible(page: Page, view: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const describe = (v: (typeof violations)[number]) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((node) => node.target.join(' ')).join(', ')})`;
  const lesser = violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical');
  if (lesser.length > 0) process.stderr.write(`axe, ${view}: ${lesser.map(describe).join('; ')}\n`);
  expect({ view, violations: violations.filter((v) => !lesser.includes(v)).map(describe) }).toEqual({ view, violations: [] });
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

async function box(page: Page, selector: string): Promise<Box> {
  const found = await page.locator(selector).boundingBox();
  if (!found) throw new Error(`${selector} is not shown`);
  return found;
}

/** Whether the page scrolls sideways: its scrolling width beyond the window's. */
const sideways = (page: Page) => page.evaluate<number>('document.scrollingElement.scrollWidth - window.innerWidth');

describeIf('the explorer console: look and accessibility', () => {
  let site: Site;
  let browser: Browser;
  const ids: Record<string, string> = {};
  let pat = '';

  beforeAll(async () => {
    site = await startSite(['groups:read', 'groups:write', 'groups:members:write', 'users:read', 'users:write', 'roles:read', 'roles:write', 'apikeys:write']);
    // Engineering (role admin) › Platform, whose member is Pat; Sales; a long name to wrap.
    await createNamedGroup(site, ids, 'Engineering');
    await createNamedGroup(site, ids, 'Platform', 'Engineering');
    await createNamedGroup(site, ids, 'Sales');
    await createNamedGroup(site, ids, 'Customer-success-and-partner-enablement-for-the-northern-hemisphere', 'Sales');
    const { createUser } = await site.graphql(`mutation { createUser(input: { name: "Pat Lee", email: "pat@example.com" }) { id } }`);
    pat = createUser.id;
    await site.graphql(`mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g: ids.Platform, u: pat });
    const { createRole } = await site.graphql(`mutation { createRole(input: { name: "admin" }) { id } }`);
    await site.graphql(`mutation($g: ID!, $r: ID!) { assignGroupRole(groupId: $g, roleId: $r) { id } }`, { g: ids.Engineering, r: createRole.id });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  /** A tab on the explorer at `hash` with the site's key, the group or user there shown. */
  async function openAt(hash: string, heading: RegExp): Promise<Tab> {
    const tab = await newTab(browser, { height: WIDE.height });
    await openExplorerWith(tab, site, site.key, hash);
    await tab.page.waitForSelector(treeItem(ids.Sales));
    await waitForText(tab.page, '#details h2', heading);
    return tab;
  }

  it('explains on the key page what a key is, where one comes from, the scopes the console uses and where the key is kept', async () => {
    const tab = await newTab(browser);
    const { page } = tab;
    await page.goto(`${site.baseUrl}/explorer`);
    await page.waitForSelector('#key-form', { state: 'visible' });
    const text = await textOf(page, '#key-form');
    expect(text).toContain('npx kauth key create <workspace> \\ --name console \\ --scope groups:read');
    expect(text).toContain('createApiKey');
    expect(text).toMatch(/stays in this tab’s session storage only/);
    expect(await page.locator('.scope-table dt').allTextContents()).toEqual(CONSOLE_SCOPES);
    expect(await page.isVisible('#explorer')).toBe(false);
    await expectAccessible(page, 'key page');

    // At a phone's width: nothing scrolls sideways, the long command included.
    await page.setViewportSize(PHONE);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await expectAccessible(page, 'key page, phone');
    await closeTab(tab, site);
  });

  it('shows a selected group, a user and a move preview with no serious accessibility violation', async () => {
    const tab = await openAt(`#/groups/${ids.Platform}`, /^Platform$/);
    const { page } = tab;
    expect(await page.getAttribute(treeItem(ids.Platform), 'aria-selected')).toBe('true');
    await expectAccessible(page, 'group details');

    await page.click('#move-group');
    await page.click('#move-to-root');
    await page.waitForSelector('#move-preview:not([aria-busy]) h4');
    expect(await textOf(page, '#move-preview h4')).toBe('Move “Platform” to the top level, as a root group');
    await expectAccessible(page, 'move preview');

    await page.click(`#direct-members li[data-user-id="${pat}"] > a`);
    await waitForText(page, '#details h2', /^Pat Lee$/);
    await expectAccessible(page, 'user view');
    await closeTab(tab, site);
  });

  it("keeps the key's scopes to one line of the header, opening into the whole list", async () => {
    const tab = await openAt(`#/groups/${ids.Platform}`, /^Platform$/);
    const { page } = tab;
    // The whole list is in the line's text, clipped where it no longer fits.
    await waitForText(page, '#workspace', /^E2E Inc \(e2e\) ▸? ?scopes: groups:read, .*roles:read.* \(8\) Forget key (?:Live|Connecting…|Reconnecting…)$/);
    for (const viewport of [WIDE, PHONE]) {
      await page.setViewportSize(viewport);
      const summary = await box(page, '.scopes > summary');
      const lineHeight = await page.evaluate<number>("parseFloat(getComputedStyle(document.querySelector('.scopes > summary')).lineHeight)");
      expect(summary.height).toBeLessThan(lineHeight * 1.5);
      expect(summary.x + summary.width).toBeLessThanOrEqual(viewport.width);
    }
    expect(await page.isVisible('.scopes .chips')).toBe(false);
    await page.click('.scopes > summary');
    expect(await page.locator('.scopes .chips li').allTextContents()).toEqual(expect.arrayContaining(CONSOLE_SCOPES));
    expect(await page.isVisible('.scopes .chips')).toBe(true);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await expectAccessible(page, 'scopes opened, phone');
    await closeTab(tab, site);
  });

  it('stacks the details below the tree at a phone’s width, with nothing scrolling sideways, and puts them side by side on a wide screen', async () => {
    const hash = `#/groups/${ids['Customer-success-and-partner-enablement-for-the-northern-hemisphere']}`;
    const tab = await openAt(hash, /^Customer-success/);
    const { page } = tab;

    await page.setViewportSize(WIDE);
    const [wideTree, wideDetails] = [await box(page, '#tree-panel'), await box(page, '#details')];
    expect(wideDetails.x).toBeGreaterThanOrEqual(wideTree.x + wideTree.width - 1);
    expect(Math.abs(wideDetails.y - wideTree.y)).toBeLessThanOrEqual(1);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await screenshot(page, 'console-wide');

    await page.setViewportSize(PHONE);
    const [tree, details] = [await box(page, '#tree-panel'), await box(page, '#details')];
    expect(details.y).toBeGreaterThanOrEqual(tree.y + tree.height - 1);
    expect(details.width).toBeGreaterThan(PHONE.width * 0.9);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await screenshot(page, 'console-phone');
    // The edit forms, the move picker and the user view fit too.
    await page.click('#move-group');
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await page.goto(`${site.baseUrl}/explorer#/users/${pat}`);
    await waitForText(page, '#details h2', /^Pat Lee$/);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await closeTab(tab, site);
  });
});
