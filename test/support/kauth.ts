// Runs the `kauth` command as a real process (bin/kauth.js) with extra environment variables.
import { execFile } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const KAUTH = path.join(ROOT, 'bin/kauth.js');

/**
 * The timeout of a test that runs the CLI (or a server) as processes, several times: each run
 * starts Node, compiles the source with tsx and opens the database (PGlite's WASM start), a
 * second or two on a quiet machine and ten or more on a busy one.
 */
export const PROCESS_TEST_MS = 300_000;

export function kauth(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [KAUTH, ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}
