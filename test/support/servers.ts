// Real server processes (`src/main.ts` through tsx) for what only several processes on one
// database can show: shared budgets, feeds and subscriptions across processes.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { waitFor } from './wait';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  /** Resolves once /readyz answers 200; rejects with the process's output if it exits first. */
  ready: Promise<void>;
  /** Everything the process has written so far (stdout and stderr). */
  output(): string;
}

/** How long a server process may take to become ready (tsx compiling the source, migrations) on a busy machine. */
export const SERVER_START_MS = 120_000;

/**
 * Limits no test reaches on a busy machine, as the in-process test apps have (GENEROUS_TRAFFIC and
 * GENEROUS_POOL in ./harness.ts), for a server process's environment: how long the machine takes
 * must not turn into a 503, 429 or 504 where a test is not about limits. (Not applied by
 * startServer itself: the benchmarks that start servers run them with the deployed defaults.)
 */
export const GENEROUS_SERVER_ENV: Readonly<Record<string, string>> = {
  RATE_LIMIT_POINTS: '1000000000',
  RATE_LIMIT_ADDRESS_REQUESTS: '1000000000',
  CONCURRENCY_PER_CREDENTIAL: '1000',
  REQUEST_TIMEOUT_MS: '60000',
  DB_CONNECT_TIMEOUT_MS: '30000',
  DB_TX_MAX_WAIT_MS: '30000',
  DB_TX_TIMEOUT_MS: '60000',
  WRITE_QUEUE_WAIT_MS: '60000',
};

/** Starts `src/main.ts` on `env.PORT` (a free port if not given), without the demo workspace. */
export async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'src/main.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    env: { ...process.env, LOG_LEVEL: 'warn', KAUTH_DEMO: '0', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const ready = waitFor(
    'the server to answer /readyz',
    async () => {
      if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
      return fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    },
    SERVER_START_MS,
    200,
  ).then(
    () => undefined,
    (error: Error) => {
      throw child.exitCode === null ? new Error(`${error.message}: ${output}`) : error;
    },
  );
  return { child, port, baseUrl: `http://127.0.0.1:${port}`, ready, output: () => output };
}

/** Stops the server with SIGTERM (as a service manager would) and resolves to its exit code. */
export async function stopServer(server: ServerProcess): Promise<number | null> {
  if (server.child.exitCode !== null) return server.child.exitCode;
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
  server.child.kill('SIGTERM');
  return exited;
}
