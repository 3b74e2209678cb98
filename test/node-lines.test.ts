/**
 * The Node lines the service supports (README "Node versions"): every package in the lock file
 * declares Node 22.15+ and 24 in its `engines`, so `npm ci` there prints no EBADENGINE warning;
 * package.json's `engines` names the same lines; scripts/check-engines.js finds a package that
 * refuses a version (CI runs it on each line before that line's Jest pass, scripts/test-node.sh).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// semver (a devDependency) ships no types; this is the one function the test uses.
const semver = require('semver') as { satisfies: (version: string, range: string) => boolean };
const root = path.resolve(__dirname, '..');
const script = path.join(root, 'scripts', 'check-engines.js');

function checkEngines(version: string, lockFile?: string) {
  const args = [script, version, ...(lockFile ? [lockFile] : [])];
  const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

describe('Node lines', () => {
  it('declares the supported lines, and Node 20 only as the one that merely works, in package.json', () => {
    const engines: string = require(path.join(root, 'package.json')).engines.node;
    for (const version of ['22.15.0', '22.23.5', '24.0.0', '24.22.3', '20.19.0']) {
      expect(semver.satisfies(version, engines)).toBe(true);
    }
    for (const version of ['18.20.0', '20.18.0', '22.14.0', '23.11.0']) {
      expect(semver.satisfies(version, engines)).toBe(false);
    }
  });

  it('has no package in the lock file that refuses the oldest supported 22 or 24', () => {
    for (const version of ['22.15.0', '24.0.0']) {
      const run = checkEngines(version);
      expect(run.output).toContain('every package in package-lock.json declares it');
      expect(run.status).toBe(0);
    }
  });

  it('names the packages that refuse Node 20, the line past its end of life', () => {
    const run = checkEngines('20.19.0');
    expect(run.status).toBe(1);
    expect(run.output).toMatch(/cookie@2\.\d+\.\d+ \(node >=22\)/);
  });

  it('finds a package that refuses a version, and skips one built for another platform', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kauth-engines-'));
    try {
      const lockFile = path.join(dir, 'package-lock.json');
      writeFileSync(lockFile, JSON.stringify({
        lockfileVersion: 3,
        packages: {
          '': { name: 'fixture', engines: { node: '>=1' } },
          'node_modules/only-24': { version: '1.0.0', engines: { node: '>=24' } },
          'node_modules/other-os': { version: '1.0.0', os: ['!' + process.platform], engines: { node: '>=99' } },
        },
      }));
      const refused = checkEngines('22.15.0', lockFile);
      expect(refused.status).toBe(1);
      expect(refused.output).toContain('1 packages do not declare it');
      expect(refused.output).toContain('only-24@1.0.0 (node >=24)');
      expect(refused.output).not.toContain('other-os');
      expect(checkEngines('24.0.0', lockFile).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
