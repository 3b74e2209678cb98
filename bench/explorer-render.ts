// How fast the tree explorer shows a 1,000-group workspace, and how big it is. A real server
// (embedded PGlite, like `npm start`) with 100 roots × 9 children = 1,000 groups and one member
// each, seeded through the GraphQL API; Debian's Chromium on /explorer. Measured, RUNS times each,
// in a fresh browser context (cold cache, empty session storage):
//   submit → roots:  from submitting the pasted key to the frame after the first page of roots is
//                    in the DOM (the key checked with `viewer`, then `groups(rootsOnly: true)`);
//   open → roots:    from navigation start, the key already in session storage (a reload), to the same.
// Then the bytes of the explorer's JS and CSS in dist/web, raw and gzipped.
//   npm run build:web && npm run bench:explorer
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { type Site, launchBrowser, startSite } from '../test/e2e/support';
import { percentile, runBench } from './support';

const ROOTS = 100;
const CHILDREN_PER_ROOT = 9;
const RUNS = 5;
/** The API's alias limit (GRAPHQL_MAX_ALIASES) caps how many writes go in one request. */
const BATCH = 30;
const DIST = path.resolve(__dirname, '../dist/web');

/** Runs `field(i)` for i < count, BATCH aliased mutations a request; returns each result's id. */
async function createMany(site: Site, count: number, field: (i: number) => string): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += BATCH) {
    const fields = Array.from({ length: Math.min(BATCH, count - start) }, (_, j) => `m${j}: ${field(start + j)} { id }`);
    const data = await site.graphql<Record<string, { id: string }>>(`mutation { ${fields.join(' ')} }`);
    ids.push(...fields.map((_, j) => data[`m${j}`].id));
  }
  return ids;
}

async function seed(site: Site): Promise<void> {
  const roots = await createMany(site, ROOTS, (i) => `createGroup(input: { name: "Division ${i + 1}" })`);
  const children = await createMany(site, ROOTS * CHILDREN_PER_ROOT, (i) => {
    const parent = roots[Math.floor(i / CHILDREN_PER_ROOT)];
    return `createGroup(input: { name: "Team ${i + 1}", parentId: "${parent}" })`;
  });
  const groups = [...roots, ...children];
  const users = await createMany(site, groups.length, (i) => `createUser(input: { name: "User ${i + 1}", email: "user${i + 1}@example.com" })`);
  await createMany(site, groups.length, (i) => `addGroupMember(groupId: "${groups[i]}", userId: "${users[i]}")`);
}

/**
 * Runs in the page before its own script (a string: this file is type-checked without the DOM
 * library): `rootsShown` resolves with `performance.now()` at the frame after the first roots are
 * in the DOM. `performance.now()` counts from navigation start.
 */
const WATCH_ROOTS = `
  window.rootsShown = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (!document.querySelector('#tree > [role="treeitem"]')) return;
      observer.disconnect();
      requestAnimationFrame(() => resolve(performance.now()));
    });
    observer.observe(document, { childList: true, subtree: true });
  });
`;

async function submitToRoots(browser: Browser, site: Site): Promise<number> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(WATCH_ROOTS);
  await page.goto(`${site.baseUrl}/explorer`, { waitUntil: 'load' });
  await page.fill('#key', site.key);
  const submitted = await page.evaluate<number>(`document.querySelector('#key-form button[type="submit"]').click(), performance.now()`);
  const shown = await page.evaluate<number>('window.rootsShown');
  await context.close();
  return shown - submitted;
}

async function openToRoots(browser: Browser, site: Site): Promise<number> {
  const context = await browser.newContext();
  const page = await context.newPage();
  // The key is in session storage before the page's own script runs, as after a reload.
  await page.addInitScript(`sessionStorage.setItem('kauth-explorer-key', ${JSON.stringify(site.key)}); ${WATCH_ROOTS}`);
  await page.goto(`${site.baseUrl}/explorer`, { waitUntil: 'commit' });
  const shown = await page.evaluate<number>('window.rootsShown');
  await context.close();
  return shown;
}

/** The explorer's own assets, as its built page links them. */
function bundleSize(): { files: string[]; bytes: number; gzipped: number } {
  const html = readFileSync(path.join(DIST, 'explorer.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\/ui\/(assets\/[^"]+\.(?:js|css))"/g)].map((match) => match[1]);
  const contents = files.map((file) => readFileSync(path.join(DIST, file)));
  return {
    files,
    bytes: contents.reduce((sum, content) => sum + content.length, 0),
    gzipped: contents.reduce((sum, content) => sum + gzipSync(content, { level: 9 }).length, 0),
  };
}

async function main() {
  const built = statSync(path.join(DIST, 'explorer.html'), { throwIfNoEntry: false });
  if (!built) throw new Error('dist/web is not built: run `npm run build:web` first');
  const site = await startSite(['groups:read', 'groups:write', 'groups:members:write', 'users:write', 'roles:read']);
  const browser = await launchBrowser();
  try {
    const seeding = Date.now();
    await seed(site);
    const { groups } = await site.graphql<{ groups: { total: number } }>('{ groups(limit: 1) { total } }');
    console.log(`workspace: ${groups.total} groups (${ROOTS} roots × ${CHILDREN_PER_ROOT} children + the roots), 1 member each; seeded through the API in ${((Date.now() - seeding) / 1000).toFixed(1)} s`);
    console.log(`backend: embedded PGlite, one server process; Chromium ${browser.version()} headless; dist/web built ${built.mtime.toISOString()}`);
    await submitToRoots(browser, site); // warm-up: the server's first queries, the browser's first start
    const submit: number[] = [];
    const open: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      submit.push(await submitToRoots(browser, site));
      open.push(await openToRoots(browser, site));
    }
    const show = (values: number[]) => `median ${percentile(values, 50).toFixed(0)} ms (runs: ${values.map((v) => v.toFixed(0)).join(', ')})`;
    console.log(`submit key → first page of roots rendered: ${show(submit)}`);
    console.log(`open /explorer (key in session) → roots rendered: ${show(open)}`);
    const size = bundleSize();
    console.log(`bundle: ${size.bytes.toLocaleString('en')} bytes JS+CSS, ${size.gzipped.toLocaleString('en')} gzipped (${size.files.join(', ')})`);
  } finally {
    await browser.close();
    await site.stop();
  }
}

runBench(main);
