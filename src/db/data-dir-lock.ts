// PGlite is one process, one connection: two processes opening the same data
// directory would corrupt it. A lock file with the holder's pid makes the second
// one fail with a clear message instead.
import { accessSync, chmodSync, closeSync, constants, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
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

/**
 * Makes every file below `dir` readable and writable by its owner alone (0600; directories 0700).
 * PGlite creates its files 0666 whatever the umask: run again once it has opened and when it closes;
 * what it creates in between is inside a 0700 directory.
 */
export function keepPrivate(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const at = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      chmodSync(at, 0o700);
      keepPrivate(at);
    } else {
      chmodSync(at, 0o600);
    }
  }
}

/**
 * The data directory holds every user's email and every key's hash: it is the service's alone.
 * It is made 0700 and its files 0600 (PGlite creates them 0666: see keepPrivate),
 * or the service refuses to start: a directory of another user's, or one it cannot change.
 */
function prepare(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    accessSync(dataDir, constants.R_OK | constants.W_OK);
  } catch (error) {
    throw new DataDirError(`DATA_DIR "${dataDir}" is not a readable and writable directory: ${(error as Error).message}`);
  }
  const owner = statSync(dataDir).uid;
  const uid = process.getuid?.();
  if (uid !== undefined && owner !== uid) {
    throw new DataDirError(`DATA_DIR "${dataDir}" belongs to user ${owner}, not to this process's user ${uid}; the embedded database must be the service's alone (chown it, or point DATA_DIR elsewhere)`);
  }
  try {
    chmodSync(dataDir, 0o700);
    keepPrivate(dataDir);
  } catch (error) {
    throw new DataDirError(`DATA_DIR "${dataDir}" cannot be made private (0700, files 0600): ${(error as Error).message}`);
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
