// The `kauth` command: operator tasks against the configured database (DATA_DIR or
// DATABASE_URL). Each command prints one JSON document on stdout (src/control/commands).
// When a running server holds the embedded database, the command runs on the server instead,
// through its control socket, with the same output and exit code.
import path from 'node:path';
import { databaseConfig } from './config';
import { type Database, DataDirInUseError, openDatabase } from './db';
import { runThroughServer, type Terminal } from './control/client';
import { type Invocation, follows, parseInvocation, reportFailure, runInvocation } from './control/commands';
import { controlSocketPath } from './control/protocol';

/** Process output; Ctrl-C interrupts only a command that runs until interrupted (`audit --follow`). */
function terminal(invocation: Invocation | null): Terminal {
  const interrupted = new AbortController();
  if (invocation && follows(invocation)) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => interrupted.abort());
  }
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    signal: interrupted.signal,
    interactive: process.stderr.isTTY === true,
  };
}

/** The server opens the file of `import` and `export` itself: named from the CLI's directory, not the server's. */
function withAbsoluteFile(argv: string[], invocation: Invocation): string[] {
  const file = invocation.rest[1];
  if (!['import', 'export'].includes(invocation.command) || file === undefined) return argv;
  const at = argv.lastIndexOf(file);
  return argv.map((arg, i) => (i === at ? path.resolve(file) : arg));
}

/** The database to run on; or, when a running server holds it and answers, the exit code of the command it ran there. */
async function openOrRunOnServer(argv: string[], invocation: Invocation, io: Terminal): Promise<Database | number> {
  const config = databaseConfig();
  try {
    // `migrate` reports what it applies; every other command first brings the schema up to date.
    return await openDatabase(config, { migrate: invocation.command !== 'migrate' });
  } catch (error) {
    const socketPath = error instanceof DataDirInUseError && config.kind === 'pglite' ? controlSocketPath(config.dataDir) : null;
    const exit = socketPath ? await runThroughServer(socketPath, withAbsoluteFile(argv, invocation), io) : null;
    if (exit === null) throw error;
    return exit;
  }
}

async function main(argv: string[]): Promise<number> {
  const invocation = await parseInvocation(argv, terminal(null));
  if (typeof invocation === 'number') return invocation;
  const io = terminal(invocation);
  let db: Database | number;
  try {
    db = await openOrRunOnServer(argv, invocation, io);
  } catch (error) {
    return reportFailure(error, io);
  }
  if (typeof db === 'number') return db; // the server ran it
  try {
    return await runInvocation(db, invocation, io);
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`kauth: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
