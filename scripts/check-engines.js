#!/usr/bin/env node
// Which installed packages do not declare the given Node version in `engines.node`: the packages
// `npm ci` would print EBADENGINE for on that version. Reads package-lock.json only (no install).
// Usage: node scripts/check-engines.js [version [lock file]]   (default: this Node, the project's
// package-lock.json); exits 1 if any package refuses it.
// Packages for another platform (os/cpu) are skipped, as npm skips installing them.
'use strict';
const path = require('node:path');
const semver = require('semver');

const version = semver.coerce(process.argv[2] || process.version).version;
const lock = require(path.resolve(process.argv[3] || path.join(__dirname, '..', 'package-lock.json')));

const fitsPlatform = (list, value) => {
  if (!Array.isArray(list) || list.length === 0) return true;
  const denied = list.filter((entry) => entry.startsWith('!')).map((entry) => entry.slice(1));
  const allowed = list.filter((entry) => !entry.startsWith('!'));
  return !denied.includes(value) && (allowed.length === 0 || allowed.includes(value));
};

const refusing = [];
for (const [location, entry] of Object.entries(lock.packages)) {
  if (location === '' || !entry.engines || typeof entry.engines.node !== 'string') continue;
  if (!fitsPlatform(entry.os, process.platform) || !fitsPlatform(entry.cpu, process.arch)) continue;
  if (!semver.satisfies(version, entry.engines.node, { includePrerelease: true })) {
    refusing.push(`${location.replace(/^.*node_modules\//, '')}@${entry.version} (node ${entry.engines.node}${entry.dev ? ', dev' : ''})`);
  }
}

if (refusing.length === 0) {
  console.log(`Node ${version}: every package in package-lock.json declares it`);
} else {
  console.log(`Node ${version}: ${refusing.length} packages do not declare it (npm ci prints EBADENGINE for each):`);
  for (const line of refusing) console.log(`  ${line}`);
  process.exitCode = 1;
}
