// PGlite is one process, one connection: two processes opening the same data
// directory would corrupt it. A lock file with the holder's pid makes the second
// one fail with a clear message instead.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync, accessSync, constants } from 'node:fs';
import path from 'node:path';

export class DataDirError extends Error {}

/** The directory is locked by a live process: a running server, whose control socket may answer instead. */
export class DataDirInUseError extends DataDirError {
  constructor(dataDir: string, holder: number) {
    super(
      `the embedded database in "${dataDir}" is in use by process ${holder} (a running kauth server?). ` +
        'Stop it first, or point DATA_DIR elsewhere.',
    );
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function prepare(dataDir: string): void {
  try {
    // PGlite creates its files world-writable; the directory keeps other local users out.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    accessSync(dataDir, constants.R_OK | constants.W_OK);
  } catch (error) {
    throw new DataDirError(`DATA_DIR "${dataDir}" is not a readable and writable directory: ${(error as Error).message}`);
  }
}

/** Takes the lock or throws; returns the function that releases it. */
export function lockDataDir(dataDir: string): () => void {
  prepare(dataDir);
  const lockPath = path.join(dataDir, 'kauth.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DataDirError(`cannot create ${lockPath}: ${(error as Error).message}`);
      }
      const holder = Number(readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new DataDirInUseError(dataDir, holder);
      }
      rmSync(lockPath, { force: true }); // left behind by a process that died
    }
  }
  throw new DataDirError(`cannot lock "${dataDir}"`);
}
