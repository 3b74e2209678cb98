// End-to-end support: a real server process on its own embedded database, a workspace and a key
// made by the `kauth` command before it starts, and Debian's Chromium driven by playwright-core.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, type Page, type Response, chromium } from 'playwright-core';
import { ROOT, kauth } from '../support/kauth';
import { GENEROUS_SERVER_ENV, type ServerProcess, startServer, stopServer } from '../support/servers';
import { PATIENCE_MS, waitFor } from '../support/wait';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'test/e2e/artifacts');

/**
 * Whether the browser tests can run. Without Chromium they are skipped, loudly; under CI
 * (.ci/run installs it) a missing browser is an error instead.
 */
export function chromiumAvailable(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  process.stderr.write(`*** skipped: ${what} needs Chromium at ${CHROMIUM} (apt-get install chromium) ***\n`);
  return false;
}

/** Flags that keep Chromium off the network (no sign-in, updates or background fetches). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface Site {
  server: ServerProcess;
  baseUrl: string;
  slug: string;
  /** A key with every scope the tests need, made by `kauth key create`. */
  key: string;
  /** POST /graphql with the key; throws on GraphQL errors. */
  graphql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, key?: string): Promise<T>;
  stop(): Promise<void>;
}

/** A fresh data directory, a workspace and a key, then the server (playground on) on it. */
export async function startSite(scopes: string[], env: Record<string, string> = {}): Promise<Site> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'kauth-e2e-'));
  const slug = 'e2e';
  const run = async (args: string[]) => {
    const result = await kauth(args, { DATA_DIR: dataDir, DATABASE_URL: '' });
    if (result.code !== 0) throw new Error(`kauth ${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  };
  await run(['tenant', 'create', slug, '--name', 'E2E Inc']);
  const { key } = await run(['key', 'create', slug, '--name', 'e2e', ...scopes.flatMap((scope) => ['--scope', scope])]);
  const server = await startServer({ ...GENEROUS_SERVER_ENV, DATA_DIR: dataDir, DATABASE_URL: '', KAUTH_PLAYGROUND: '1', ...env });
  await server.ready;
  const baseUrl = server.baseUrl;
  return {
    server,
    baseUrl,
    slug,
    key,
    async graphql(query, variables, asKey = key) {
      const response = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${asKey}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: any; errors?: unknown[] };
      if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
      return body.data;
    },
    async stop() {
      await stopServer(server);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every URL the page asks for (documents, scripts, workers, fetches), to check none left the host. */
export function recordRequests(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (request) => urls.push(request.url()));
  return urls;
}

/** The explorer's tree item of the group `id`. */
export const treeItem = (id: string) => `[role="treeitem"][data-group-id="${id}"]`;

/** Makes the group `name` (under the group `ids[parent]`) through the site's API and records its id in `ids`. */
export async function createNamedGroup(site: Site, ids: Record<string, string>, name: string, parent?: string): Promise<void> {
  const { createGroup } = await site.graphql(`mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }`, {
    input: { name, parentId: parent ? ids[parent] : null },
  });
  ids[name] = createGroup.id;
}

/** A browser tab: its page, every URL it asked for, and its script errors and CSP refusals. */
export interface Tab {
  page: Page;
  urls: string[];
  pageErrors: string[];
}

/** A fresh tab in a context of its own (its own session storage), 1280 × `height`; `initScript` runs before the page's own. */
export async function newTab(browser: Browser, { height = 720, initScript }: { height?: number; initScript?: string } = {}): Promise<Tab> {
  const context = await browser.newContext({ viewport: { width: 1280, height } });
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  const tab: Tab = { page, urls: recordRequests(page), pageErrors: [] };
  page.on('pageerror', (error) => tab.pageErrors.push(error.message));
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) tab.pageErrors.push(message.text());
  });
  return tab;
}

/** Opens the site's /explorer (at `hash`) in the tab and submits `key`; the page's own answer. */
export async function openExplorerWith({ page }: Tab, site: Site, key: string, hash = ''): Promise<Response | null> {
  const response = await page.goto(`${site.baseUrl}/explorer${hash}`);
  await page.fill('#key', key);
  await page.click('#key-form button[type="submit"]');
  return response;
}

/** What every tab must end with: no script error, nothing fetched from another origin. */
export async function closeTab({ page, urls, pageErrors }: Tab, site: Site): Promise<void> {
  expect(pageErrors).toEqual([]);
  expect(offSite(urls, site.baseUrl)).toEqual([]);
  await page.context().close();
}

/** The requests that went anywhere but the server (data: and blob: URLs stay in the page). */
export function offSite(urls: string[], baseUrl: string): string[] {
  const origin = new URL(baseUrl).origin;
  return urls.filter((url) => !url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).origin !== origin);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The text of an element, with Monaco's no-break spaces and line breaks made plain spaces. */
export async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().innerText()).replace(/\s+/g, ' ');
}

/** Waits until the element's text matches; fails with the last text seen. */
export async function waitForText(page: Page, selector: string, pattern: RegExp, timeoutMs = PATIENCE_MS): Promise<string> {
  let last = '';
  const seen = async () => {
    last = await textOf(page, selector).catch(() => '');
    return pattern.test(last) && last;
  };
  return waitFor(`${pattern} in ${selector}`, seen, timeoutMs, 100).catch((error: Error) => {
    throw new Error(`${error.message}; last text: ${last.slice(0, 2000)}`);
  });
}
