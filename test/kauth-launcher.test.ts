// bin/kauth.js chooses between the compiled dist/cli.js and the TypeScript source (through tsx):
// the source whenever any module changed after it was last compiled, so the CLI never runs stale code.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

describe('bin/kauth.js', () => {
  let dir: string;
  const write = (file: string, text: string, secondsAgo: number) => {
    const full = path.join(dir, file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
    const when = Date.now() / 1000 - secondsAgo;
    utimesSync(full, when, when);
  };
  const launch = () => execFileSync(process.execPath, [path.join(dir, 'bin/kauth.js')], { encoding: 'utf8' }).trim();

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kauth-launcher-'));
    mkdirSync(path.join(dir, 'bin'));
    copyFileSync(path.join(ROOT, 'bin/kauth.js'), path.join(dir, 'bin/kauth.js'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    write('src/cli.ts', "import { where } from './lib/where';\nconsole.log(`source ${where}`);\n", 100);
    write('src/lib/where.ts', "export const where: string = 'here';\n", 100);
    write('dist/cli.js', "console.log('compiled');\n", 50);
    write('dist/lib/where.js', "exports.where = 'here';\n", 50);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs dist/cli.js when every module was compiled after its last change', () => {
    expect(launch()).toBe('compiled');
  });

  it('runs the source when any module changed after the build, even if the build-info file is newer', () => {
    write('src/lib/where.ts', "export const where: string = 'changed';\n", 10);
    write('dist/.tsbuildinfo', '{}', 0); // a `tsc --noEmit` rewrites it without compiling anything
    expect(launch()).toBe('source changed');
  });

  it('runs the source when a module has never been compiled', () => {
    write('src/lib/new.ts', 'export {};\n', 100);
    expect(launch()).toBe('source here');
  });

  it('runs dist/cli.js in a production install, which has no src/', () => {
    rmSync(path.join(dir, 'src'), { recursive: true });
    expect(launch()).toBe('compiled');
  });
});
