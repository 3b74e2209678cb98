#!/usr/bin/env node
// The `kauth` command. Runs the compiled dist/cli.js (`npm run build`), which needs only the
// production dependencies; falls back to the TypeScript source through tsx (a dev dependency),
// so `npx kauth …` also works right after `npm ci` with no build step.
// dist/cli.js is used when it exists and every module under src/ has been compiled since it last
// changed (a production install without src/ always uses dist); a stale dist is still used if tsx
// is absent. The check is per file: tsc's incremental build rewrites only the outputs of changed
// files, and its build-info file is also rewritten by a `tsc --noEmit` that compiles nothing.
'use strict';
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const distDir = path.join(root, 'dist');
const distCli = path.join(distDir, 'cli.js');
const srcDir = path.join(root, 'src');

/** True if some .ts module below `dir` has no compiled .js in dist/ at least as new as itself. */
function hasStaleModule(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (hasStaleModule(full)) return true;
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const compiled = path.join(distDir, path.relative(srcDir, full)).replace(/\.ts$/, '.js');
      if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(full).mtimeMs) return true;
    }
  }
  return false;
}

function distIsCurrent() {
  return !existsSync(srcDir) || !hasStaleModule(srcDir);
}

function tsxApi() {
  try {
    return require('tsx/cjs/api');
  } catch {
    return null;
  }
}

const hasDist = existsSync(distCli);
const tsx = hasDist && distIsCurrent() ? null : tsxApi();
if (tsx) {
  tsx.register();
  require('../src/cli.ts');
} else if (hasDist) {
  require(distCli);
} else {
  process.stderr.write('kauth: neither dist/cli.js (run `npm run build`) nor tsx (a dev dependency) is installed\n');
  process.exit(1);
}
