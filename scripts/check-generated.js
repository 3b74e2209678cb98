#!/usr/bin/env node
// Fails when the generated code in src/generated (Prisma client, GraphQL resolver types) or in
// web/explorer/generated (the explorer's typed operations) is not exactly what `npm run generate`
// makes from the current sources: generates afresh in a temporary copy of the project and compares
// the trees byte for byte. Needs no git and writes nothing here.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const GENERATED = ['src/generated', 'web/explorer/generated'];
// Not sources of the generators: dependencies, history, build output, data, the output itself.
const SKIPPED = new Set(['node_modules', '.git', '.node24', 'dist', 'data', 'coverage', ...GENERATED]);

function filesUnder(dir, prefix = '') {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(prefix, entry.name);
    return entry.isDirectory() ? filesUnder(path.join(dir, entry.name), relative) : [relative];
  });
}

/** Paths (relative to one directory of GENERATED) that differ between the two trees, each with what is wrong. */
function differences(committedDir, freshDir) {
  const committed = new Set(filesUnder(committedDir));
  const fresh = new Set(filesUnder(freshDir));
  return [...new Set([...committed, ...fresh])].sort().flatMap((file) => {
    if (!fresh.has(file)) return [`${file}: not generated any more (delete it)`];
    if (!committed.has(file)) return [`${file}: missing`];
    const same = fs.readFileSync(path.join(committedDir, file)).equals(fs.readFileSync(path.join(freshDir, file)));
    return same ? [] : [`${file}: differs from a fresh generation`];
  });
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kauth-generate-'));
try {
  fs.cpSync(ROOT, scratch, {
    recursive: true,
    filter: (source) => !SKIPPED.has(path.relative(ROOT, source).split(path.sep).join('/')),
  });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(scratch, 'node_modules'), 'dir');
  execFileSync('npm', ['run', '--silent', 'generate'], { cwd: scratch, stdio: ['ignore', 'ignore', 'inherit'] });
  const found = GENERATED.flatMap((dir) => differences(path.join(ROOT, dir), path.join(scratch, dir)).map((line) => `${dir}/${line}`));
  if (found.length > 0) {
    process.stderr.write(
      `generated code is stale or was edited by hand; run \`npm run generate\` (and commit the result):\n` +
        found.map((line) => `  ${line}\n`).join(''),
    );
    process.exitCode = 1;
  } else {
    process.stdout.write('generated code is up to date\n');
  }
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
