#!/usr/bin/env node
// Fails when the committed generated code (Prisma client, GraphQL resolver types) is
// stale: regenerates into the work tree and asks git whether anything changed.
'use strict';
const { execSync } = require('node:child_process');

const GENERATED = ['src/generated'];
execSync('npm run --silent generate', { stdio: ['ignore', 'ignore', 'inherit'] });
const changed = execSync(`git status --porcelain -- ${GENERATED.join(' ')}`, { encoding: 'utf8' }).trim();
if (changed) {
  process.stderr.write(
    `generated code is stale; run \`npm run generate\` and commit the result:\n${changed}\n`,
  );
  process.exit(1);
}
process.stdout.write('generated code is up to date\n');
