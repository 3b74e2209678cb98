// The CLI's side of the control socket (protocol in ./protocol): sends its command line to the
// server that holds the data directory and relays the answer as if it had run the command itself.
import { connect } from 'node:net';
import { type Frame, LineReader } from './protocol';

/** Where relayed output goes: the CLI's own stdout and stderr, written synchronously. */
export interface Terminal {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Aborted on Ctrl-C: the connection is closed, which stops the command on the server. */
  signal: AbortSignal;
  /** stderr is a terminal (progress is drawn in place when the command runs in this process). */
  interactive?: boolean;
}

/** The exit code the frame ends the command with; null while more frames are to come. */
function relay(frame: Frame, terminal: Terminal): number | null {
  if ('stdout' in frame && typeof frame.stdout === 'string') terminal.stdout(frame.stdout);
  else if ('stderr' in frame && typeof frame.stderr === 'string') terminal.stderr(frame.stderr);
  else if ('exit' in frame && Number.isInteger(frame.exit)) return frame.exit;
  else if ('error' in frame && typeof frame.error === 'string') {
    terminal.stderr(`kauth: the server refused the command: ${frame.error}\n`);
    return 1;
  } else throw new Error('not a frame');
  return null;
}

/**
 * Runs `argv` on the server listening at `socketPath` and relays its output; resolves to the
 * command's exit code, or to null when no server accepts the connection.
 */
export function runThroughServer(socketPath: string, argv: string[], terminal: Terminal): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let connected = false;
    let finished = false;
    const finish = (code: number | null) => {
      if (finished) return;
      finished = true;
      terminal.signal.removeEventListener('abort', interrupt);
      socket.destroy();
      resolve(code);
    };
    // Like `audit --follow` run locally, an interrupted command exits 0.
    const interrupt = () => finish(0);
    terminal.signal.addEventListener('abort', interrupt, { once: true });

    const lines = new LineReader();
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify({ argv })}\n`);
    });
    socket.on('data', (chunk: string) => {
      for (const line of lines.push(chunk)) {
        let code: number | null;
        try {
          code = relay(JSON.parse(line) as Frame, terminal);
        } catch {
          terminal.stderr(`kauth: unexpected answer from the server on ${socketPath}\n`);
          code = 1;
        }
        if (code !== null) return finish(code);
      }
    });
    socket.on('error', () => undefined); // 'close' follows and decides
    socket.on('close', () => {
      if (connected && !finished) terminal.stderr('kauth: the server closed the connection before the command finished\n');
      finish(connected ? 1 : null);
    });
  });
}
