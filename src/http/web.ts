// The browser pages: the GraphiQL playground (a browser asking for /graphql) and the group-tree
// explorer (/explorer), both bundled by `npm run build:web` into dist/web and served from there
// under /ui/. Nothing loads from another origin, and the Content-Security-Policy says so.
// KAUTH_PLAYGROUND turns both off (the default with NODE_ENV=production): then nothing here is
// mounted and a browser at /graphql gets what any unauthenticated request gets.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** dist/web, from src/http (tests, tsx) and dist/http (the build) alike. */
export const WEB_ROOT = path.resolve(__dirname, '../../dist/web');

/**
 * Own origin only. Styles allow inline: Monaco (GraphiQL's editor) and React set style
 * attributes and insert <style> elements at run time; no script, font, image, worker or
 * connection may come from anywhere but this origin ('self' covers ws: to the same host).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export interface WebOptions {
  enabled: boolean;
  /** Where the built pages are; defaults to dist/web. */
  root?: string;
}

/** A browser navigating to the URL, as opposed to a GraphQL client (which asks for JSON). */
function wantsPage(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  const query = request.query as Record<string, unknown> | undefined;
  return request.method === 'GET' && accept.includes('text/html') && query?.query === undefined;
}

export async function mountWebPages(app: FastifyInstance, options: WebOptions): Promise<void> {
  if (!options.enabled) return;
  const root = options.root ?? WEB_ROOT;
  const pages = { playground: path.join(root, 'playground.html'), explorer: path.join(root, 'explorer.html') };
  const built = existsSync(pages.playground) && existsSync(pages.explorer);
  if (!built) app.log.warn({ root }, 'the playground and explorer are not built: run `npm run build:web` (npm start does)');

  // Read on each request (a few hundred bytes): a rebuild's new asset names show without a restart.
  const sendPage = async (reply: FastifyReply, page: keyof typeof pages) => {
    const html = await readFile(pages[page], 'utf8').catch(() => null);
    if (html === null) return reply.code(503).type('text/plain; charset=utf-8').send('The browser pages are not built: run `npm run build:web`.\n');
    return reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(html);
  };

  // GET /graphql belongs to Apollo (for GraphQL-over-HTTP GETs); a browser's navigation is
  // answered before it, so the page needs no credentials and a GraphQL client sees no change.
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.split('?')[0] === '/graphql' && wantsPage(request)) return sendPage(reply, 'playground');
  });
  app.get('/', async (request, reply) => (wantsPage(request) ? reply.redirect('/graphql') : reply.callNotFound()));
  app.get('/explorer', async (_request, reply) => sendPage(reply, 'explorer'));
  await app.register(fastifyStatic, {
    root: path.join(root, 'assets'),
    prefix: '/ui/assets/',
    index: false,
    // File names carry a content hash: a new build has new names.
    immutable: true,
    maxAge: '365d',
    setHeaders: (res) => {
      res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
      res.setHeader('x-content-type-options', 'nosniff');
    },
  });
}
