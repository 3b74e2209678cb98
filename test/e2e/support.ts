// End-to-end support: a real server process on its own embedded database, a workspace and a key
// made by the `kauth` command before it starts, and Debian's Chromium driven by playwright-core.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
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
