// scripts/check-generated.js, run in a copy of the project without .git: it passes on generated
// code that matches the sources and names each file that was edited by hand, deleted or left stale.
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const NOT_COPIED = new Set(['node_modules', '.git', '.node24', 'dist', 'data', 'coverage']);

function checkGenerated(cwd: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['scripts/check-generated.js'], { cwd }, (error, _stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stderr });
    });
  });
}

describe('the generated-code check', () => {
  let copy: string;
  beforeEach(() => {
    copy = mkdtempSync(path.join(tmpdir(), 'kauth-check-generated-'));
    cpSync(ROOT, copy, { recursive: true, filter: (source) => !NOT_COPIED.has(path.relative(ROOT, source)) });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  });
  afterEach(() => rmSync(copy, { recursive: true, force: true }));

  it('passes on up-to-date generated code, without git', async () => {
    expect(await checkGenerated(copy)).toMatchObject({ code: 0 });
  }, 180_000);

  it('names a generated file edited by hand and one deleted', async () => {
    appendFileSync(path.join(copy, 'src/generated/graphql.ts'), '\nexport type HandWritten = true;\n');
    rmSync(path.join(copy, 'src/generated/prisma/enums.ts'));
    const { code, stderr } = await checkGenerated(copy);
    expect(code).toBe(1);
    expect(stderr).toContain('src/generated/graphql.ts: differs from a fresh generation');
    expect(stderr).toContain('src/generated/prisma/enums.ts: missing');
  }, 180_000);

  it('names the generated files a changed source would change', async () => {
    appendFileSync(path.join(copy, 'schema.graphql'), '\nextend type Query { "Added without regenerating." unregenerated: Int }\n');
    const { code, stderr } = await checkGenerated(copy);
    expect(code).toBe(1);
    expect(stderr).toContain('src/generated/graphql.ts: differs from a fresh generation');
  }, 180_000);
});
