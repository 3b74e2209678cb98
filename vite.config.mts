// The browser pages the service serves: the GraphiQL playground (/graphql) and the group-tree
// explorer (/explorer). `npm run build:web` bundles them into dist/web, served under /ui/ by
// src/http/web.ts; nothing is fetched from a CDN at run time.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
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
