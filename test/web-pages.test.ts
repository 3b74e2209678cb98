// The browser pages over HTTP (the browser itself is in test/e2e): who gets the playground, the
// headers it carries, the assets, KAUTH_PLAYGROUND; and the playground's saved operations, run
// against the API as a user would run them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import Fastify from 'fastify';
import { CONTENT_SECURITY_POLICY, WEB_ROOT, mountWebPages } from '../src/http/web';
import { EXAMPLES } from '../web/playground/examples';
import { parse, validate } from 'graphql';
import { buildSchema } from '../src/graphql/schema';
import { Harness, MAX_GROUP_DEPTH, type Workspace } from './support/harness';

const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

function withHarness(name: string, app: ConstructorParameters<typeof Harness>[1], suite: (h: Harness) => void): void {
  describe(name, () => {
    const h = new Harness('pglite', app);
    beforeAll(() => h.start(), 120_000);
    afterAll(() => h.stop());
    suite(h);
  });
}

withHarness('browser pages with the playground on', { app: { playground: true } }, (h) => {
  it('gives a browser at /graphql the playground, with a same-origin CSP, and needs no credentials', async () => {
    const page = await h.request('GET', '/graphql', { headers: BROWSER });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.body).toContain('GraphQL playground');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    // Every source the policy names is this origin (or an inline style / data: image); nothing else.
    for (const directive of CONTENT_SECURITY_POLICY.split('; ')) {
      const sources = directive.split(' ').slice(1);
      expect(sources.every((source) => ["'self'", "'none'", "'unsafe-inline'", 'data:'].includes(source))).toBe(true);
    }
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/script-src[^;]*unsafe/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('leaves GraphQL clients on GET /graphql as they were', async () => {
    const json = await h.request('GET', '/graphql', { headers: { accept: 'application/json' } });
    expect(json.status).toBe(401);
    expect(json.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    // A GET carrying a query is an operation, whatever the Accept header says.
    const operation = await h.request('GET', `/graphql?query=${encodeURIComponent('{ viewer { scopes } }')}`, { headers: BROWSER });
    expect(operation.status).toBe(401);
    const ws = await h.workspace();
    const post = await ws.gql('{ viewer { tenant { slug } } }');
    expect(post.body.data.viewer.tenant.slug).toBe(ws.tenant.slug);
  });

  it('points a browser at / to the playground, and serves the explorer and the hashed assets', async () => {
    const root = await fetch(`${h.baseUrl}/`, { headers: BROWSER, redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/graphql');
    expect((await h.request('GET', '/', { headers: { accept: 'application/json' } })).status).toBe(404);

    const explorer = await h.request('GET', '/explorer', { headers: BROWSER });
    expect(explorer.status).toBe(200);
    expect(explorer.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);

    const script = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(String(explorer.body))?.[1];
    expect(script).toBeDefined();
    const asset = await h.request('GET', script!);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    // Only the built assets: nothing above dist/web/assets is reachable.
    for (const url of ['/ui/assets/../playground.html', '/ui/assets/%2e%2e/%2e%2e/package.json', '/ui/assets/nope.js']) {
      expect((await h.request('GET', url)).status).toBe(404);
    }
  });
});

withHarness('browser pages with the playground off', { app: { playground: false } }, (h) => {
  it('gives a browser what any unauthenticated request gets, and no pages', async () => {
    const page = await h.request('GET', '/graphql', { headers: BROWSER });
    expect(page.status).toBe(401);
    expect(page.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(page.headers.get('content-security-policy')).toBeNull();
    for (const url of ['/', '/explorer', `/ui/assets/x.js`]) expect((await h.request('GET', url, { headers: BROWSER })).status).toBe(404);
  });
});

describe('browser pages when the bundle is not built', () => {
  const empty = mkdtempSync(path.join(tmpdir(), 'kauth-web-'));
  const app = Fastify();
  let baseUrl = '';
  beforeAll(async () => {
    await mountWebPages(app, { enabled: true, root: empty });
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    rmSync(empty, { recursive: true, force: true });
  });

  it('says how to build it instead of failing obscurely', async () => {
    const page = await fetch(`${baseUrl}/graphql`, { headers: BROWSER });
    expect(page.status).toBe(503);
    expect(await page.text()).toMatch(/npm run build:web/);
  });
});

describe('KAUTH_PLAYGROUND', () => {
  it('is on by default outside production, off by default in production, and can be set either way', () => {
    expect(loadConfig({}).playground).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production' }).playground).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', KAUTH_PLAYGROUND: '1' }).playground).toBe(true);
    expect(loadConfig({ KAUTH_PLAYGROUND: '0' }).playground).toBe(false);
    expect(() => loadConfig({ KAUTH_PLAYGROUND: 'yes' })).toThrow(/KAUTH_PLAYGROUND must be 1 or 0/);
  });

  it('serves the bundle from dist/web', () => {
    expect(WEB_ROOT).toBe(path.resolve(__dirname, '../dist/web'));
  });
});

withHarness("the playground's saved operations", {}, (h) => {
  let ws: Workspace;
  let ids: { group: string; child: string; user: string; other: string };

  beforeAll(async () => {
    ws = await h.workspace();
    const group = await ws.group('Engineering');
    ids = { group, child: await ws.group('Platform', group), user: await ws.user('Ann'), other: await ws.user('Bo') };
  });

  /** Each example with its variables pointed at this workspace's ids. */
  function variablesFor(index: number): Record<string, unknown> {
    const given = JSON.parse(EXAMPLES[index].variables ?? '{}');
    if ('userId' in given) given.userId = ids.user;
    if ('groupId' in given) given.groupId = ids.child;
    if ('userIds' in given) given.userIds = [ids.user, ids.other];
    if (given.input?.scopes) given.input.scopes = given.input.scopes.map((scope: string) => scope.replace(/@\d+$/, `@${ids.child}`));
    return given;
  }

  const operations = EXAMPLES.map((example, index) => {
    const [, type, name] = /(query|mutation|subscription) (\w+)/.exec(example.query)!;
    return { index, type, name };
  });

  it.each(operations.filter((op) => op.type !== 'subscription').map((op) => [op.name, op.index]))(
    '%s runs with an all-scopes key: valid, within the cost limit, no errors',
    async (_name, index) => {
      const result = await ws.gql(EXAMPLES[index as number].query, variablesFor(index as number));
      expect(result.body.errors).toBeUndefined();
      expect(result.status).toBe(200);
      expect(result.body.data).toBeTruthy();
    },
  );

  it.each(operations.filter((op) => op.type === 'subscription').map((op) => [op.name, op.index]))(
    '%s is a valid subscription of the schema (it runs over the WebSocket: test/e2e)',
    (_name, index) => {
      const schema = buildSchema(MAX_GROUP_DEPTH);
      expect(validate(schema, parse(EXAMPLES[index as number].query))).toEqual([]);
    },
  );
});
