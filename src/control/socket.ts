// The server's side of the control socket (protocol in ./protocol): runs `kauth` commands sent by
// the CLI on the server's own open database, so the CLI works while the server holds DATA_DIR.
// A connection can do nothing but run one kauth command: the request is parsed strictly, bounded
// in size and time, and a failing command is reported to its caller, never thrown at the server.
import { once } from 'node:events';
import { chmodSync, lstatSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Database } from '../db';
import { type CommandIO, runCommand } from './commands';
import { type Frame, LineReader, LineTooLongError, MAX_REQUEST_CHARS, REQUEST_TIMEOUT_MS, controlSocketPath } from './protocol';

/** How long closing waits for the last frames to reach clients that still read. */
const FLUSH_ON_CLOSE_MS = 1000;

/** Commands running at once; further connections are refused until one ends. */
const MAX_CONNECTIONS = 32;

export interface Log {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface ControlSocket {
  /** Stops accepting, interrupts streaming commands, waits for running ones, removes the socket file. */
  close(): Promise<void>;
}

class BadRequest extends Error {}

/** The argv of a request line: {"argv":[strings]} and nothing else. */
function parseRequest(line: string): string[] {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    throw new BadRequest('the request is not JSON');
  }
  const argv = (request as { argv?: unknown } | null)?.argv;
  const onlyArgv = typeof request === 'object' && request !== null && !Array.isArray(request) && Object.keys(request).join() === 'argv';
  if (!onlyArgv || !Array.isArray(argv) || !argv.every((arg) => typeof arg === 'string')) {
    throw new BadRequest('the request must be {"argv":[…strings]}');
  }
  return argv;
}

/** The first line the client sends, within the time and size limits. */
function readRequest(socket: Socket, interrupted: AbortSignal): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines = new LineReader(MAX_REQUEST_CHARS);
    const settle = (outcome: () => void) => {
      socket.off('data', onData).off('timeout', onTimeout);
      interrupted.removeEventListener('abort', onInterrupt);
      socket.setTimeout(0);
      socket.resume(); // anything sent after the request is read and dropped, so its end is seen
      outcome();
    };
    const onData = (chunk: string) => {
      try {
        const [line] = lines.push(chunk);
        if (line !== undefined) settle(() => resolve(parseRequest(line)));
      } catch (error) {
        const reason = error instanceof LineTooLongError ? new BadRequest(`the request is longer than ${MAX_REQUEST_CHARS} characters`) : error;
        settle(() => reject(reason));
      }
    };
    const onTimeout = () => settle(() => reject(new BadRequest(`no request within ${REQUEST_TIMEOUT_MS} ms`)));
    const onInterrupt = () => settle(() => reject(new BadRequest('the connection ended before a request')));
    socket.setEncoding('utf8');
    socket.setTimeout(REQUEST_TIMEOUT_MS);
    socket.on('data', onData).on('timeout', onTimeout);
    interrupted.addEventListener('abort', onInterrupt, { once: true });
  });
}

/** Writes one frame, waiting while the client reads slowly unless interrupted; a departed client's frames are dropped. */
async function send(socket: Socket, frame: Frame, interrupted: AbortSignal): Promise<void> {
  if (!socket.writable) return;
  if (socket.write(`${JSON.stringify(frame)}\n`)) return;
  await once(socket, 'drain', { signal: interrupted }).catch(() => undefined);
}

/** One connection: read the request, run the command, stream its output, end with its exit code. */
async function serve(socket: Socket, db: Database, log: Log, stopping: AbortSignal): Promise<void> {
  // The command is interrupted when the client leaves (Ctrl-C closes the socket) or the server stops.
  const interrupted = new AbortController();
  const interrupt = () => interrupted.abort();
  socket.on('end', interrupt).on('close', interrupt).on('error', interrupt);
  stopping.addEventListener('abort', interrupt, { once: true });
  try {
    let argv: string[];
    try {
      argv = await readRequest(socket, interrupted.signal);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      await send(socket, { error: error.message }, interrupted.signal);
      return;
    }
    const started = Date.now();
    const io: CommandIO = {
      stdout: (text) => send(socket, { stdout: text }, interrupted.signal),
      stderr: (text) => send(socket, { stderr: text }, interrupted.signal),
      signal: interrupted.signal,
    };
    const exit = await runCommand(db, argv, io);
    // A streaming command stops when the server does: say why rather than end in silence.
    if (stopping.aborted) await io.stderr('kauth: the server is stopping\n');
    await send(socket, { exit }, interrupted.signal);
    log.info({ command: argv.slice(0, 2).join(' '), exit, ms: Date.now() - started }, 'control socket: command finished');
  } finally {
    stopping.removeEventListener('abort', interrupt);
    socket.end(() => socket.destroy());
  }
}

/** Binds `socketPath` owner-only from the start: no moment exists where another user could connect. */
async function listenPrivately(server: Server, socketPath: string): Promise<void> {
  // The bind happens inside listen(), synchronously, so the umask covers exactly this socket file.
  const previous = process.umask(0o077);
  try {
    server.listen(socketPath);
  } finally {
    process.umask(previous);
  }
  await once(server, 'listening');
  chmodSync(socketPath, 0o600);
}

/**
 * Listens on DATA_DIR/kauth.sock for `kauth` commands, run on `db`. Call only while holding the
 * data directory's lock (the database is open): a socket file left there is then stale. Resolves
 * to null, with a warning, when the socket cannot be made: the CLI then reports the directory held.
 */
export async function listenForCommands(db: Database, dataDir: string, log: Log): Promise<ControlSocket | null> {
  const socketPath = controlSocketPath(dataDir);
  if (!socketPath) {
    log.warn({ dataDir }, 'control socket: the path of DATA_DIR/kauth.sock is too long for a Unix socket; the kauth CLI cannot run commands while this server runs');
    return null;
  }
  if (lstatSync(socketPath, { throwIfNoEntry: false })?.isSocket()) rmSync(socketPath);
  const stopping = new AbortController();
  const running = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const done = serve(socket, db, log, stopping.signal)
      .catch((error: unknown) => {
        log.error({ err: error }, 'control socket: connection failed');
        socket.destroy();
      })
      .finally(() => running.delete(done));
    running.add(done);
  });
  server.maxConnections = MAX_CONNECTIONS;
  try {
    await listenPrivately(server, socketPath);
  } catch (error) {
    log.warn({ err: error, socketPath }, 'control socket: cannot listen; the kauth CLI cannot run commands while this server runs');
    return null;
  }
  log.info({ socketPath }, 'control socket: the kauth CLI runs its commands here');
  return {
    close: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      stopping.abort();
      await Promise.all(running);
      // Last frames get a moment to reach their clients; a client that does not read them is dropped.
      await Promise.race([closed, delay(FLUSH_ON_CLOSE_MS, undefined, { ref: false })]);
      for (const socket of sockets) socket.destroy();
      await closed;
      rmSync(socketPath, { force: true });
    },
  };
}
