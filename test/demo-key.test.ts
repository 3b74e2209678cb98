// The demo admin key is written to a file only its owner can read, never logged.
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeDemoKey } from '../src/demo-key';

const KEY = `kauth_demo_${'A'.repeat(40)}`;

describe('writeDemoKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'kauth-demo-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the key to <DATA_DIR>/demo-admin-key, readable and writable by its owner only, and returns that path', () => {
    const file = writeDemoKey(dir, KEY);
    expect(file).toBe(path.join(dir, 'demo-admin-key'));
    expect(readFileSync(file, 'utf8').trim()).toBe(KEY);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('replaces a file left there by an earlier start, with mode 0600 whatever the old one had', () => {
    const file = path.join(dir, 'demo-admin-key');
    writeFileSync(file, 'kauth_demo_old\n', { mode: 0o644 });
    expect(writeDemoKey(dir, KEY)).toBe(file);
    expect(readFileSync(file, 'utf8').trim()).toBe(KEY);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('does not follow a symlink planted at that path', () => {
    const elsewhere = path.join(dir, 'elsewhere');
    writeFileSync(elsewhere, 'untouched', { mode: 0o644 });
    symlinkSync(elsewhere, path.join(dir, 'demo-admin-key'));
    const file = writeDemoKey(dir, KEY);
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
    expect(readFileSync(elsewhere, 'utf8')).toBe('untouched');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('fails rather than write elsewhere when DATA_DIR does not exist', () => {
    expect(() => writeDemoKey(path.join(dir, 'missing'), KEY)).toThrow();
    expect(existsSync(path.join(dir, 'missing'))).toBe(false);
  });
});
