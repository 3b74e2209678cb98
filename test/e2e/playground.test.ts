// The GraphiQL playground in Debian's Chromium: served offline by the service, one API key for
// every tab entered once in the key bar (kept in session storage), the saved operations run, the
// schema docs loading with the key and naming scopes, no request off-site.
import type { Browser, Page } from 'playwright-core';
import { type Site, chromiumAvailable, launchBrowser, offSite, recordRequests, screenshot, startSite, textOf, waitForText } from './support';
import { untilSeen, waitFor } from '../support/wait';

const describeIf = chromiumAvailable('the playground e2e test') ? describe : describe.skip;

const KEY_INPUT = '#kauth-api-key';
const DOCS = '.graphiql-doc-explorer';
const RESULT = 'section.result-window';

/** Opens the playground and waits until it is ready for input (the first saved operation is in the editor). */
async function openPlayground(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/graphql`);
  await waitForText(page, '.graphiql-query-editor', /query GroupTree/);
}

/** Switches to a saved operation's tab. */
async function openTab(page: Page, name: string): Promise<void> {
  await page.locator('.graphiql-tabs').getByText(name, { exact: true }).click();
  await waitForText(page, '.graphiql-query-editor', new RegExp(`(query|mutation|subscription) ${name}`));
}

/** Types the key into the key bar once and applies it (Enter). */
async function enterKey(page: Page, key: string): Promise<void> {
  await page.locator(KEY_INPUT).fill(key);
  await page.locator(KEY_INPUT).press('Enter');
  await waitForText(page, '.kauth-key-status', /used by every tab/);
}

/** Runs the open tab and waits for its answer (a previous answer is cleared first). */
async function runTab(page: Page, pattern: RegExp): Promise<string> {
  await page.locator('.graphiql-execute-button').click();
  return waitForText(page, RESULT, pattern);
}

describeIf('GraphiQL playground at /graphql', () => {
  let site: Site;
  let browser: Browser;

  beforeAll(async () => {
    site = await startSite(['groups:read', 'groups:write', 'users:read', 'users:write', 'roles:read']);
    const root = await site.graphql<{ createGroup: { id: string } }>(`mutation { createGroup(input: { name: "Engineering" }) { id } }`);
    await site.graphql(`mutation($p: ID!) { createGroup(input: { name: "Platform", parentId: $p }) { id } }`, { p: root.createGroup.id });
    // The EffectiveRoles tab asks for user 1: the first user of a fresh workspace.
    const ada = await site.graphql<{ createUser: { id: string } }>(`mutation { createUser(input: { name: "Ada Lovelace", email: "ada@example.com" }) { id } }`);
    expect(ada.createUser.id).toBe('1');
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  it('runs the saved group-tree operation with the key entered once, offline, and loads the docs without Re-fetch', async () => {
    const page = await browser.newPage();
    const urls = recordRequests(page);
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });

    const response = await page.goto(`${site.baseUrl}/graphql`);
    expect(response!.status()).toBe(200);
    expect(response!.headers()['content-security-policy']).toContain("default-src 'none'");
    await page.waitForSelector('.graphiql-container');

    // The saved operations, one tab each; no key yet, so the schema could not be fetched.
    expect(await textOf(page, '.graphiql-tabs')).toMatch(/GroupTree.*EffectiveRoles.*SyncMembers.*CreateNarrowKey.*GroupChanges/);
    await page.getByLabel('Show Documentation Explorer').click();
    await waitForText(page, DOCS, /Error fetching schema/);

    // The key, once: the docs load by themselves (no Re-fetch), and say which scope each field needs.
    await enterKey(page, site.key);
    await page.locator(DOCS).getByText('Query', { exact: true }).click();
    await waitForText(page, DOCS, /user\(id: ID!\): User Requires scope users:read/);
    await screenshot(page, 'playground-docs');

    const result = await runTab(page, /"name": "Engineering"/);
    expect(result).toMatch(/"slug": "e2e"/);
    expect(result).toMatch(/"name": "Platform"/);
    expect(result).not.toMatch(/"errors"/);
    await screenshot(page, 'playground');

    expect(offSite(urls, site.baseUrl)).toEqual([]);
    expect(urls.some((url) => url.includes('/ui/assets/') && url.includes('worker'))).toBe(true);
    expect(pageErrors).toEqual([]);
    expect(violations).toEqual([]);
    await page.close();
  });

  it('uses the one key for every tab, with no headers pasted into any of them', async () => {
    const page = await browser.newPage();
    await openPlayground(page, site.baseUrl);
    await enterKey(page, site.key);
    expect(await runTab(page, /"name": "Engineering"/)).not.toMatch(/UNAUTHENTICATED/);
    await openTab(page, 'EffectiveRoles');
    const roles = await runTab(page, /"name": "Ada Lovelace"/);
    expect(roles).not.toMatch(/"errors"/);
    // The tabs' own headers stay empty: the key never went into them.
    await page.getByText('Headers', { exact: true }).click();
    expect(await textOf(page, 'section.graphiql-editor-tool')).not.toContain(site.key);
    await page.close();
  });

  it('keeps the key through a reload (session storage), never in local storage', async () => {
    const page = await browser.newPage();
    await openPlayground(page, site.baseUrl);
    await enterKey(page, site.key);
    await page.reload();
    await waitForText(page, '.graphiql-query-editor', /query GroupTree/);
    expect(await page.locator(KEY_INPUT).inputValue()).toBe(site.key);
    await waitForText(page, '.kauth-key-status', /used by every tab/);
    await runTab(page, /"name": "Engineering"/);
    const stored = await page.evaluate(() => {
      const { localStorage, sessionStorage } = globalThis as unknown as { localStorage: object; sessionStorage: object };
      return { local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }) };
    });
    expect(stored.local).not.toContain(site.key);
    expect(stored.session).toContain(site.key);
    expect(stored.session).toContain('GroupTree'); // the tabs are kept, in the session only
    await page.close();
  });

  it("shows the API's UNAUTHENTICATED error for a wrong key", async () => {
    const page = await browser.newPage();
    await openPlayground(page, site.baseUrl);
    await enterKey(page, 'kauth_not_a_real_key');
    const result = await runTab(page, /UNAUTHENTICATED/);
    expect(result).toMatch(/"code": "UNAUTHENTICATED"/);
    expect(result).not.toMatch(/Engineering/);
    await page.close();
  });

  it('runs the saved subscription over the WebSocket, authenticated by the same key', async () => {
    const page = await browser.newPage();
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await openPlayground(page, site.baseUrl);
    await enterKey(page, site.key);
    await openTab(page, 'GroupChanges');
    await page.locator('.graphiql-execute-button').click();
    await waitFor('the page to open a WebSocket', () => sockets.length > 0);
    expect(sockets).toEqual([`${site.baseUrl.replace('http', 'ws')}/graphql/ws`]);
    // The subscription starts just after the socket opens: a change made before that is not
    // delivered, so make changes through the API until one shows in the result pane.
    let result = '';
    await untilSeen('a change made through the API in the result pane', async (attempt, patienceMs) => {
      await site.graphql(`mutation($name: String!) { createGroup(input: { name: $name }) { id } }`, { name: `Live from the API ${attempt + 1}` });
      result = await waitForText(page, RESULT, /Live from the API/, patienceMs).catch(() => '');
      return result !== '';
    });
    expect(result).toMatch(/"action": "GROUP_CREATED"/);
    expect(result).toMatch(/"name": "Live from the API \d+"/);
    await screenshot(page, 'playground-subscription');
    await page.close();
  });

  it('says why when the WebSocket refuses the key', async () => {
    const page = await browser.newPage();
    await openPlayground(page, site.baseUrl);
    await openTab(page, 'GroupChanges');
    await page.locator('.graphiql-execute-button').click();
    expect(await waitForText(page, RESULT, /WebSocket closed/)).toMatch(/WebSocket closed \(4403\): the credential was refused\. Check the API key above/);
    await page.close();
  });
});
