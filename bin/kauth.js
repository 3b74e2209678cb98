#!/usr/bin/env node
// The `kauth` command. Runs the compiled dist/cli.js (`npm run build`), which needs only the
// production dependencies; falls back to the TypeScript source through tsx (a dev dependency),
// so `npx kauth …` also works right after `npm ci` with no build step.
// dist/cli.js is used when it exists and no file under src/ is newer than the last build (a
// production install without src/ always uses dist); a stale dist is still used if tsx is absent.
'use strict';
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const distCli = path.join(root, 'dist', 'cli.js');
const srcDir = path.join(root, 'src');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

function distIsCurrent() {
  if (!existsSync(srcDir)) return true;
  // tsc's incremental build rewrites only changed outputs, but always its build-info file.
  const buildInfo = path.join(root, 'dist', '.tsbuildinfo');
  const built = statSync(existsSync(buildInfo) ? buildInfo : distCli).mtimeMs;
  return newestMtime(srcDir) <= built;
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
