#!/usr/bin/env node
// Builds only what changed in dist/ since the last build, for `npm start`:
// - the server: each module of src/ whose content changed (or whose output is missing) is
//   transpiled alone with TypeScript's transpileModule, which gives the same output as tsc for
//   this code base (every module compiles in isolation: the tests' @swc/jest relies on it too);
//   outputs of deleted modules are removed. A change of tsconfig.json or of the lock file (a new
//   TypeScript) transpiles every module. Types are not checked here: `npm run build` (tsc),
//   `npm run typecheck` and `npm test` check them.
// - the browser pages: `vite build` when anything under web/, vite.config.mts or the lock file
//   changed.
// Contents are compared, not mtimes (a fresh clone or a `touch` changes no content), against the
// hashes of the last build kept in dist/.build-stamp.json.
// Usage: node scripts/build-changed.js [--server] [--web] [--force]
//   no part named: both; --force: the full build whatever the stamp says (the server with tsc,
//   type-checked), as `npm run build` does.
'use strict';
const { createHash } = require('node:crypto');
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const stampFile = path.join(dist, '.build-stamp.json');

const sha256 = (...chunks) => {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk).update('\0');
  return hash.digest('hex');
};
const fileHash = (relative) => sha256(readFileSync(path.join(root, relative)));
const log = (text) => process.stderr.write(`build-changed: ${text}\n`);

/** Runs a package's command-line script (a dev dependency) with this Node. */
function run(pkg, script, args) {
  const file = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), script);
  execFileSync(process.execPath, [file, ...args], { cwd: root, stdio: 'inherit' });
}

/** Every file below `relative` (a directory) or `relative` itself, relative to the root, sorted. */
function filesOf(relative) {
  const full = path.join(root, relative);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [relative];
  return readdirSync(full, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** src/x/y.ts → dist/x/y.js (tsconfig: rootDir src, outDir dist). */
const outputOf = (source) => path.join(dist, path.relative('src', source)).replace(/\.ts$/, '.js');

function buildServer(previous, force) {
  const settings = sha256(...['tsconfig.json', 'package-lock.json'].filter((f) => existsSync(path.join(root, f))).map(fileHash));
  const modules = filesOf('src').filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));
  const hashes = Object.fromEntries(modules.map((file) => [file, fileHash(file)]));
  const next = { settings, modules: hashes };
  if (force) {
    log('building the server (tsc)');
    // tsc trusts its build-info file: an output deleted since would not be written again.
    if (!modules.every((file) => existsSync(outputOf(file)))) rmSync(path.join(dist, '.tsbuildinfo'), { force: true });
    run('typescript', 'bin/tsc', ['-p', 'tsconfig.json']);
    return next;
  }
  const everything = previous?.settings !== settings;
  const changed = modules.filter((file) => everything || previous.modules[file] !== hashes[file] || !existsSync(outputOf(file)));
  const deleted = Object.keys(previous?.modules ?? {}).filter((file) => !(file in hashes));
  for (const file of deleted) {
    for (const output of [outputOf(file), `${outputOf(file)}.map`]) rmSync(output, { force: true });
  }
  if (changed.length > 0) {
    const started = Date.now();
    const ts = require('typescript');
    const config = ts.parseJsonConfigFileContent(ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile).config, ts.sys, root);
    for (const file of changed) {
      const fileName = path.join(root, file);
      const { outputText, sourceMapText, diagnostics } = ts.transpileModule(readFileSync(fileName, 'utf8'), {
        compilerOptions: config.options,
        fileName,
        reportDiagnostics: true,
      });
      const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
      if (errors.length > 0) {
        throw new Error(ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }));
      }
      mkdirSync(path.dirname(outputOf(file)), { recursive: true });
      writeFileSync(outputOf(file), outputText);
      if (sourceMapText) writeFileSync(`${outputOf(file)}.map`, sourceMapText);
    }
    log(`transpiled ${changed.length} of ${modules.length} server modules in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  if (deleted.length > 0) log(`removed the output of ${deleted.length} deleted server modules`);
  return next;
}

function buildWeb(previous, force) {
  const inputs = ['web', 'vite.config.mts', 'package-lock.json'].flatMap(filesOf);
  const current = sha256(...inputs.flatMap((file) => [file.split(path.sep).join('/'), readFileSync(path.join(root, file))]));
  const built = ['playground.html', 'explorer.html'].every((page) => existsSync(path.join(dist, 'web', page)));
  // An install that ships dist/ without web/ has nothing to rebuild from.
  const shipped = built && !existsSync(path.join(root, 'web'));
  if (shipped || (built && previous === current && !force)) return previous;
  const started = Date.now();
  log(`building the browser pages (vite build: ${!built ? 'not built yet' : force ? '--force' : 'web/ changed'})`);
  run('vite', 'bin/vite.js', ['build']);
  log(`browser pages built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return current;
}

function main() {
  const force = process.argv.includes('--force');
  const asked = ['server', 'web'].filter((part) => process.argv.includes(`--${part}`));
  const parts = asked.length > 0 ? asked : ['server', 'web'];
  let stamp = {};
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    // No stamp: nothing is known to be built.
  }
  const save = () => {
    mkdirSync(dist, { recursive: true });
    writeFileSync(stampFile, `${JSON.stringify(stamp)}\n`);
  };
  // A production install ships dist/ without src/: nothing to build from.
  if (parts.includes('server') && (existsSync(path.join(root, 'src')) || force)) {
    stamp.server = buildServer(stamp.server, force);
    save();
  }
  if (parts.includes('web')) {
    stamp.web = buildWeb(stamp.web, force);
    save();
  }
}

try {
  main();
} catch (error) {
  log(error.status ? `the build failed (exit ${error.status})` : error.message);
  process.exit(1);
}
