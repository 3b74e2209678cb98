// `npm start` builds only what changed (scripts/build-changed.js), here on a small project of its
// own: a copy of the script beside a src/ of three modules, this checkout's tsconfig.json and
// node_modules. Only the server part is driven (the browser pages' vite build is the same rule
// on web/ and takes a minute).
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROCESS_TEST_MS, ROOT } from './support/kauth';

let project: string;

function build(): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(project, 'scripts/build-changed.js'), '--server'], (error, _stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stderr }),
    );
  });
}

const write = (file: string, text: string) => {
  mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
  writeFileSync(path.join(project, file), text);
};
const output = (file: string) => readFileSync(path.join(project, 'dist', file), 'utf8');

beforeAll(() => {
  project = mkdtempSync(path.join(tmpdir(), 'kauth-build-changed-'));
  cpSync(path.join(ROOT, 'scripts/build-changed.js'), path.join(project, 'scripts/build-changed.js'));
  cpSync(path.join(ROOT, 'tsconfig.json'), path.join(project, 'tsconfig.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'));
  write('src/main.ts', "import { greeting } from './greeting';\nexport const main = (): string => greeting('kauth');\n");
  write('src/greeting.ts', "import type { Clock } from './clock';\nexport const greeting = (name: string, _clock?: Clock): string => `hello ${name}`;\n");
  write('src/clock.ts', 'export interface Clock { now(): Date }\nexport const epoch = 0;\n');
});

afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('scripts/build-changed.js (the server part)', () => {
  it(
    'builds every module the first time, nothing when nothing changed, only the edited module after an edit',
    async () => {
      const first = await build();
      expect(first).toMatchObject({ code: 0 });
      expect(first.stderr).toContain('transpiled 3 of 3 server modules');
      expect(output('main.js')).toContain('require("./greeting")');
      expect(output('greeting.js')).not.toContain('./clock'); // a type-only import leaves no require
      expect(existsSync(path.join(project, 'dist/main.js.map'))).toBe(true);

      const again = await build();
      expect(again).toEqual({ code: 0, stderr: '' });

      write('src/greeting.ts', 'export const greeting = (name: string): string => `hi ${name}`;\n');
      const edited = await build();
      expect(edited.stderr).toContain('transpiled 1 of 3 server modules');
      expect(output('greeting.js')).toContain('hi ${name}');
    },
    PROCESS_TEST_MS,
  );

  it('removes the output of a deleted module and rebuilds an output deleted by hand', async () => {
    rmSync(path.join(project, 'src/clock.ts'));
    rmSync(path.join(project, 'dist/main.js'));
    const result = await build();
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('transpiled 1 of 2 server modules');
    expect(existsSync(path.join(project, 'dist/clock.js'))).toBe(false);
    expect(existsSync(path.join(project, 'dist/main.js'))).toBe(true);
  }, PROCESS_TEST_MS);

  it('fails on a syntax error, names the file, and tries again on the next start', async () => {
    write('src/main.ts', 'export const main = (: string => 1;\n');
    const broken = await build();
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/src\/main\.ts.*error TS/);
    write('src/main.ts', "export const main = (): string => 'fixed';\n");
    const fixed = await build();
    expect(fixed.stderr).toContain('transpiled 1 of 2 server modules');
    expect(output('main.js')).toContain("'fixed'");
  }, PROCESS_TEST_MS);
});
