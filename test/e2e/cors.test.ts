// A frontend on another origin, in Debian's Chromium: a page served from a second port (as a
// Vite dev server would serve it) calls GraphQL and REST with an API key and opens the WebSocket;
// the same page from an origin CORS_ORIGINS does not list is blocked by the browser.
import { type Server, createServer } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { type Site, chromiumAvailable, launchBrowser, startSite } from './support';

const describeIf = chromiumAvailable('the CORS e2e test') ? describe : describe.skip;

/** The frontend: what it does with the service, defined in the page so it runs from the page's origin. */
const FRONTEND = `<!doctype html>
<html><head><meta charset="utf-8"><title>frontend</title></head><body>
<script>
  async function answer(response) {
    return { status: response.status, body: await response.json(), remaining: response.headers.get('x-ratelimit-remaining'), challenge: response.headers.get('www-authenticate') };
  }
  async function attempt(call) {
    try { return await call(); } catch (error) { return { blocked: String(error) }; }
  }
  window.callService = async (base, slug, key) => {
    const auth = key ? { authorization: 'Bearer ' + key } : {};
    return {
      graphql: await attempt(async () => answer(await fetch(base + '/graphql', {
        method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ query: '{ groups { nodes { name } } }' }),
      }))),
      rest: await attempt(async () => answer(await fetch(base + '/t/' + slug + '/api/v1/groups', { headers: auth }))),
    };
  };
  window.openSocket = (base) => new Promise((resolve) => {
    const socket = new WebSocket(base.replace('http', 'ws') + '/graphql/ws', 'graphql-transport-ws');
    socket.onopen = () => { socket.close(); resolve('open'); };
    socket.onerror = () => resolve('refused');
  });
</script></body></html>`;

/** A static server for the frontend page on its own port: its own origin. */
async function servePage(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(FRONTEND));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, origin: `http://127.0.0.1:${port}` };
}

type Calls = Record<'graphql' | 'rest', { status?: number; body?: any; remaining?: string | null; challenge?: string | null; blocked?: string }>;

describeIf('a frontend on another origin, in Chromium', () => {
  let site: Site;
  let browser: Browser;
  let listed: { server: Server; origin: string };
  let unlisted: { server: Server; origin: string };

  beforeAll(async () => {
    listed = await servePage();
    unlisted = await servePage();
    site = await startSite(['groups:read', 'groups:write'], { CORS_ORIGINS: listed.origin });
    await site.graphql(`mutation { createGroup(input: { name: "Engineering" }) { id } }`);
    browser = await launchBrowser();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await site?.stop();
    await Promise.all([listed, unlisted].map((page) => page && new Promise((resolve) => page.server.close(resolve))));
  });

  async function openFrontend(origin: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    return page;
  }

  it('calls GraphQL and REST with an API key from a page of a listed origin, and reads the rate-limit headers', async () => {
    const page = await openFrontend(listed.origin);
    const calls: Calls = await page.evaluate(([base, slug, key]) => (globalThis as any).callService(base, slug, key), [site.baseUrl, site.slug, site.key]);
    expect(calls.graphql).toMatchObject({ status: 200, body: { data: { groups: { nodes: [{ name: 'Engineering' }] } } } });
    expect(calls.rest).toMatchObject({ status: 200, body: { data: [expect.objectContaining({ name: 'Engineering' })] } });
    for (const call of Object.values(calls)) expect(Number(call.remaining)).toBeGreaterThan(0);
    await page.close();
  });

  it('lets that page read a 401 and its challenge', async () => {
    const page = await openFrontend(listed.origin);
    const calls: Calls = await page.evaluate(([base, slug]) => (globalThis as any).callService(base, slug, null), [site.baseUrl, site.slug]);
    expect(calls.graphql).toMatchObject({ status: 401, challenge: 'Bearer', body: { errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] } });
    expect(calls.rest).toMatchObject({ status: 401, challenge: 'Bearer' });
    await page.close();
  });

  it('blocks the same page from an unlisted origin', async () => {
    const page = await openFrontend(unlisted.origin);
    const calls: Calls = await page.evaluate(([base, slug, key]) => (globalThis as any).callService(base, slug, key), [site.baseUrl, site.slug, site.key]);
    expect(calls.graphql.blocked).toMatch(/Failed to fetch/);
    expect(calls.rest.blocked).toMatch(/Failed to fetch/);
    await page.close();
  });

  it('opens the WebSocket from a listed origin and not from an unlisted one', async () => {
    const fromListed = await openFrontend(listed.origin);
    expect(await fromListed.evaluate((base) => (globalThis as any).openSocket(base), site.baseUrl)).toBe('open');
    const fromUnlisted = await openFrontend(unlisted.origin);
    expect(await fromUnlisted.evaluate((base) => (globalThis as any).openSocket(base), site.baseUrl)).toBe('refused');
    await Promise.all([fromListed.close(), fromUnlisted.close()]);
  });
});
