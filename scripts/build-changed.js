#!/usr/bin/env node
// Builds only the parts of dist/ whose sources changed since they were last built: the server
// (`tsc`, itself incremental through dist/.tsbuildinfo) and the browser pages (`vite build`).
// Each part's sources are fingerprinted by content (paths and bytes, not mtimes: a fresh clone or a
// `touch` changes no content) and the fingerprint of the last successful build is kept in
// dist/.build-stamp.json. `npm start` runs this before `node dist/main.js`.
// Usage: node scripts/build-changed.js [--server] [--web] [--force]   (no part named: both;
// --force: build them whatever the stamp says, as `npm run build` does)
'use strict';
const { createHash } = require('node:crypto');
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const stampFile = path.join(root, 'dist', '.build-stamp.json');

/** What each part is built from, what proves it was built, and how to build it. */
const PARTS = {
  server: {
    sources: 'src',
    inputs: ['src', 'tsconfig.json', 'package-lock.json'],
    outputs: ['dist/main.js', 'dist/cli.js'],
    build(built) {
      // tsc trusts its build-info file: with outputs gone it would emit nothing.
      if (!built) rmSync(path.join(root, 'dist', '.tsbuildinfo'), { force: true });
      run('typescript', 'bin/tsc', ['-p', 'tsconfig.json']);
    },
  },
  web: {
    sources: 'web',
    inputs: ['web', 'vite.config.mts', 'package-lock.json'],
    outputs: ['dist/web/playground.html', 'dist/web/explorer.html'],
    build: () => run('vite', 'bin/vite.js', ['build']),
  },
};

/** Runs a package's command-line script (a dev dependency) with this Node. */
function run(pkg, script, args) {
  const file = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), script);
  execFileSync(process.execPath, [file, ...args], { cwd: root, stdio: 'inherit' });
}

/** The files of each input (a file, or every file below a directory), sorted, relative to the root. */
function listInputs(inputs) {
  const files = [];
  for (const input of inputs) {
    const full = path.join(root, input);
    if (!existsSync(full)) continue;
    if (!statSync(full).isDirectory()) {
      files.push(input);
      continue;
    }
    for (const entry of readdirSync(full, { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) files.push(path.relative(root, path.join(entry.parentPath, entry.name)));
    }
  }
  return files.sort();
}

function fingerprint(inputs) {
  const hash = createHash('sha256');
  for (const file of listInputs(inputs)) {
    hash.update(file.split(path.sep).join('/')).update('\0').update(readFileSync(path.join(root, file))).update('\0');
  }
  return hash.digest('hex');
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return {};
  }
}

function main() {
  const asked = Object.keys(PARTS).filter((name) => process.argv.includes(`--${name}`));
  const names = asked.length > 0 ? asked : Object.keys(PARTS);
  const force = process.argv.includes('--force');
  const stamp = readStamp();
  for (const name of names) {
    const part = PARTS[name];
    const current = fingerprint(part.inputs);
    const built = part.outputs.every((output) => existsSync(path.join(root, output)));
    // An install that ships dist/ without the sources has nothing to rebuild from.
    const shipped = built && !existsSync(path.join(root, part.sources));
    if (shipped || (built && stamp[name] === current && !force)) continue;
    const started = Date.now();
    process.stderr.write(`build-changed: building the ${name} (${!built ? 'not built yet' : force ? '--force' : 'sources changed'})\n`);
    part.build(built);
    process.stderr.write(`build-changed: ${name} built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    stamp[name] = current;
    mkdirSync(path.dirname(stampFile), { recursive: true });
    writeFileSync(stampFile, `${JSON.stringify(stamp, null, 2)}\n`);
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`build-changed: ${error.status ? `the build failed (exit ${error.status})` : error.message}\n`);
  process.exit(1);
}
