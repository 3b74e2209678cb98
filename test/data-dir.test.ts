// The embedded database's directory is the service's alone: made 0700 with its files 0600, or
// the service refuses to start with one `kauth:` line (issue 25: a DATA_DIR of 0755 left PGlite's
// 0666 files, user emails in pg_wal among them, readable and writable by every local user).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/db';

/** Every path below `dir` whose mode lets its group or other users in. */
function openToOthers(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string) => {
    const stat = lstatSync(at);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0) found.push(`${path.relative(dir, at) || '.'} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const name of readdirSync(at)) walk(path.join(at, name));
  };
  walk(dir);
  return found;
}

const made: string[] = [];
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function scratch(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kauth-datadir-'));
  made.push(dir);
  return dir;
}

describe('the data directory', () => {
  it('makes an existing 0755 directory 0700 and every file in it, the database\'s own included, 0600', async () => {
    const dataDir = path.join(scratch(), 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(path.join(dataDir, 'left-behind'), 'x', { mode: 0o666 });
    chmodSync(path.join(dataDir, 'left-behind'), 0o666);
    expect(openToOthers(dataDir)).toEqual(['. 755', 'left-behind 666']);
    const db = await openDatabase({ kind: 'pglite', dataDir });
    try {
      expect(readdirSync(dataDir).length).toBeGreaterThan(2); // PGlite's own files are there
      expect(openToOthers(dataDir)).toEqual([]);
      // What PGlite writes while open is inside a 0700 directory, and made 0600 when it closes.
      await db.prisma.tenant.create({ data: { slug: 'private', name: 'Private' } });
      expect(openToOthers(dataDir).filter((entry) => !entry.includes('/'))).toEqual([]);
    } finally {
      await db.close();
    }
    expect(openToOthers(dataDir)).toEqual([]);
  }, 120_000);

  it('refuses to start on a directory of another user, with one kauth: line', () => {
    if (process.getuid?.() !== 0) return; // only root can give a directory away to test this
    const dataDir = path.join(scratch(), 'theirs');
    mkdirSync(dataDir, { mode: 0o700 });
    chownSync(dataDir, 65534, 65534);
    const started = spawnSync(process.execPath, ['--require', 'tsx/cjs', 'src/main.ts'], {
      cwd: path.resolve(__dirname, '..'),
      env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: '0', KAUTH_DEMO: '0', LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(started.status).toBe(1);
    expect(started.stderr).toMatch(new RegExp(`^kauth: DATA_DIR "${dataDir}" belongs to user 65534, not to this process's user 0; [^\\n]+\\n$`));
    expect(readdirSync(dataDir)).toEqual([]); // nothing was written into it
  }, 120_000);
});
