// The browser pages the service serves: the GraphiQL playground (/graphql) and the group-tree
// explorer (/explorer). `npm run build:web` bundles them into dist/web, served under /ui/ by
// src/http/web.ts; nothing is fetched from a CDN at run time.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Plugin, defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The explorer's `gql(`...`)` calls compiled away, as the client preset's Babel plugin would: each
 * becomes the generated document its text maps to in web/explorer/generated/gql.ts, so the page
 * carries each operation once and not that file's table of every source. A text not in the table
 * is left as it is (the type check fails on it: the generated code is stale).
 */
function explorerDocuments(): Plugin {
  const generated = resolve(here, 'web/explorer/generated');
  return {
    name: 'explorer-documents',
    transform(code, id) {
      if (!id.startsWith(resolve(here, 'web/explorer')) || id.startsWith(generated) || !code.includes('gql(`')) return null;
      const table = readFileSync(resolve(generated, 'gql.ts'), 'utf8').split('const documents')[1] ?? '';
      const documents = new Map([...table.matchAll(/^ +("(?:[^"\\]|\\.)*"): types\.(\w+),$/gm)].map(([, key, name]) => [JSON.parse(key) as string, name]));
      const used = new Set<string>();
      const compiled = code.replace(/\bgql\(`((?:[^`\\$]|\$(?!\{))*)`\)/g, (call, source: string) => {
        const name = documents.get(source);
        if (!name) return call;
        used.add(name);
        return `__document_${name}`;
      });
      if (!used.size) return null;
      const names = [...used].map((name) => `${name} as __document_${name}`).join(', ');
      // At the end, so that lines keep their numbers.
      return { code: `${compiled}\nimport { ${names} } from ${JSON.stringify(resolve(generated, 'graphql.ts'))};\n`, map: null };
    },
  };
}

export default defineConfig({
  plugins: [explorerDocuments()],
  root: resolve(here, 'web'),
  base: '/ui/',
  logLevel: 'warn',
  build: {
    outDir: resolve(here, 'dist/web'),
    emptyOutDir: true,
    // Monaco (GraphiQL's editor) is large by nature; the size is reported, not warned about.
    chunkSizeWarningLimit: 8000,
    rollupOptions: {
      // React libraries' "use client" markers mean nothing in a plain bundle.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
      input: {
        playground: resolve(here, 'web/playground.html'),
        explorer: resolve(here, 'web/explorer.html'),
      },
    },
  },
});
