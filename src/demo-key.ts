// The demo workspace's admin key goes to a file only its owner can read, never through the
// logger: log storage keeps what it is given, and a key in it is a key anyone with the logs holds.
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const DEMO_KEY_FILE = 'demo-admin-key';

/** Writes `key` to `<dataDir>/demo-admin-key`, readable by the owner only; returns the file's path. */
export function writeDemoKey(dataDir: string, key: string): string {
  const file = path.resolve(dataDir, DEMO_KEY_FILE);
  // A file or symlink left there is removed, not reused: 'wx' (O_EXCL) creates a new file with mode 0600
  // from the start, so the key is never readable by others, not even between a write and a chmod.
  rmSync(file, { force: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}
