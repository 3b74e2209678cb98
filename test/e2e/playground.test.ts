// The GraphiQL playground in Debian's Chromium: served offline by the service, a key set through
// the headers editor, a saved operation run, the schema docs naming scopes, no request off-site.
import type { Browser, Page } from 'playwright-core';
import { type Site, chromiumAvailable, launchBrowser, offSite, recordRequests, screenshot, startSite, textOf, waitForText } from './support';
import { untilSeen, waitFor } from '../support/wait';

const describeIf = chromiumAvailable('the playground e2e test') ? describe : describe.skip;

/** Replaces a Monaco editor's content (it auto-closes brackets and quotes as one types). */
async function replaceEditorText(page: Page, editor: string, text: string): Promise<void> {
  await page.locator(editor).click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  await page.keyboard.press('Shift+Control+End');
  await page.keyboard.press('Delete');
}

const HEADERS_EDITOR = 'section.graphiql-editor-tool .graphiql-editor:not(.hidden)';
const PLACEHOLDER = /"Authorization": "Bearer <paste your API key>"/;

/** Opens the playground and waits until it is ready for input (the headers editor shows its placeholder). */
async function openPlayground(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/graphql`);
  await waitForText(page, HEADERS_EDITOR, PLACEHOLDER);
}

/** Switches to a saved operation's tab. */
async function openTab(page: Page, name: string): Promise<void> {
  await page.locator('.graphiql-tabs').getByText(name, { exact: true }).click();
  await waitForText(page, '.graphiql-query-editor', new RegExp(`(query|mutation|subscription) ${name}`));
  await waitForText(page, HEADERS_EDITOR, PLACEHOLDER);
}

async function pasteKey(page: Page, key: string): Promise<void> {
  await replaceEditorText(page, HEADERS_EDITOR, `{"Authorization": "Bearer ${key}"}`);
  await waitForText(page, HEADERS_EDITOR, new RegExp(key));
}
const RESULT = 'section.result-window';

describeIf('GraphiQL playground at /graphql', () => {
  let site: Site;
  let browser: Browser;

  beforeAll(async () => {
    site = await startSite(['groups:read', 'groups:write', 'users:read', 'roles:read']);
    const root = await site.graphql<{ createGroup: { id: string } }>(`mutation { createGroup(input: { name: "Engineering" }) { id } }`);
    await site.graphql(`mutation($p: ID!) { createGroup(input: { name: "Platform", parentId: $p }) { id } }`, { p: root.createGroup.id });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
  });

  it('runs the saved group-tree operation with a key pasted into the headers editor, offline', async () => {
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

    // The saved operations, one tab each, and the headers editor pre-filled with the placeholder.
    expect(await textOf(page, '.graphiql-tabs')).toMatch(/GroupTree.*EffectiveRoles.*SyncMembers.*CreateNarrowKey.*GroupChanges/);
    await waitForText(page, HEADERS_EDITOR, PLACEHOLDER);
    await pasteKey(page, site.key);
    await page.locator('.graphiql-execute-button').click();

    const result = await waitForText(page, RESULT, /"name": "Engineering"/);
    expect(result).toMatch(/"slug": "e2e"/);
    expect(result).toMatch(/"name": "Platform"/);
    expect(result).not.toMatch(/"errors"/);
    await screenshot(page, 'playground');

    // The docs come from introspection with the pasted key, and say which scope each field needs.
    await page.getByLabel('Re-fetch GraphQL schema (Shift-Ctrl-R)').click();
    await page.getByLabel('Show Documentation Explorer').click();
    await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).click();
    await waitForText(page, '.graphiql-doc-explorer', /user\(id: ID!\): User Requires scope users:read/);
    await screenshot(page, 'playground-docs');

    expect(offSite(urls, site.baseUrl)).toEqual([]);
    expect(urls.some((url) => url.includes('/ui/assets/') && url.includes('worker'))).toBe(true);
    expect(pageErrors).toEqual([]);
    expect(violations).toEqual([]);
    await page.close();
  });

  it('runs the saved subscription over the WebSocket, authenticated by the pasted key', async () => {
    const page = await browser.newPage();
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await openPlayground(page, site.baseUrl);
    // Headers belong to a tab (GraphiQL's rule): the key goes into the subscription's tab.
    await openTab(page, 'GroupChanges');
    await pasteKey(page, site.key);
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
    expect(await waitForText(page, RESULT, /WebSocket closed/)).toMatch(/WebSocket closed \(4403\): the credential was refused/);
    await page.close();
  });

  it('never writes the pasted key to local storage (history lives in the tab\'s session storage)', async () => {
    const page = await browser.newPage();
    await openPlayground(page, site.baseUrl);
    await pasteKey(page, site.key);
    await page.locator('.graphiql-execute-button').click();
    await waitForText(page, RESULT, /Engineering/);
    const stored = await page.evaluate(() => {
      const { localStorage, sessionStorage } = globalThis as unknown as { localStorage: object; sessionStorage: object };
      return { local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }) };
    });
    expect(stored.local).not.toContain(site.key);
    expect(stored.session).toContain('GroupTree'); // the tabs are kept, in the session only
    await page.close();
  });
});
