// The control socket's protocol, shared by the server (./socket) and the CLI (./client).
//
// While a server holds the embedded database, the `kauth` CLI cannot open it (PGlite is one
// process); it runs its command on the server instead, through the Unix socket DATA_DIR/kauth.sock
// (mode 0600 in the 0700 data directory: only the user who runs the server can connect).
// One command per connection, newline-delimited JSON in UTF-8:
//   CLI → server   one line {"argv":["key","list","acme"]}: exactly that key, an array of strings,
//                  at most MAX_REQUEST_CHARS, sent within REQUEST_TIMEOUT_MS of connecting.
//   server → CLI   {"stdout":"…"} and {"stderr":"…"} frames, in the order the command writes them,
//                  then {"exit":<code>}, and the server ends the connection. A request it cannot
//                  accept gets one {"error":"…"} frame instead and the connection is closed.
// The CLI closing the connection (Ctrl-C) stops the command's streaming (`audit --follow`).
import path from 'node:path';

const SOCKET_FILE = 'kauth.sock';

export const MAX_REQUEST_CHARS = 64 * 1024;

export const REQUEST_TIMEOUT_MS = 5000;

/** The longest path a Unix socket can bind (sun_path less its terminating NUL). */
const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

export type Frame = { stdout: string } | { stderr: string } | { exit: number } | { error: string };

/** The control socket of a data directory; null when its path is too long for a Unix socket. */
export function controlSocketPath(dataDir: string): string | null {
  const socketPath = path.join(dataDir, SOCKET_FILE);
  return Buffer.byteLength(socketPath) <= MAX_SOCKET_PATH_BYTES ? socketPath : null;
}

export class LineTooLongError extends Error {}

/** Splits text arriving in chunks into lines, in time linear in its length however the chunks fall. */
export class LineReader {
  private pieces: string[] = [];
  private pendingLength = 0;

  constructor(private readonly maxLength = Number.POSITIVE_INFINITY) {}

  /** The lines `chunk` completes; throws LineTooLongError once a line grows past maxLength. */
  push(chunk: string): string[] {
    const lines: string[] = [];
    let from = 0;
    for (let newline = chunk.indexOf('\n'); newline !== -1; newline = chunk.indexOf('\n', from)) {
      this.append(chunk.slice(from, newline));
      lines.push(this.pieces.join(''));
      this.pieces = [];
      this.pendingLength = 0;
      from = newline + 1;
    }
    this.append(chunk.slice(from));
    return lines;
  }

  private append(piece: string): void {
    this.pendingLength += piece.length;
    if (this.pendingLength > this.maxLength) throw new LineTooLongError(`a line longer than ${this.maxLength} characters`);
    if (piece) this.pieces.push(piece);
  }
}
