#!/usr/bin/env node
// The `kauth` command. Runs the TypeScript source through tsx, so `npx kauth …`
// works right after `npm ci` with no build step.
'use strict';
require('tsx/cjs/api').register();
require('../src/cli.ts');
