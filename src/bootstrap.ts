// Shared by the server and the CLI: open (and migrate) the configured database,
// and turn start-up failures into one clear line.
import { ConfigError } from './config';
import { DataDirError, DatabaseUnavailableError, MigrationError, WriteQueueTimeoutError } from './db';
import { DomainError } from './domain/errors';

const EXPECTED = [ConfigError, DataDirError, DatabaseUnavailableError, MigrationError, DomainError, WriteQueueTimeoutError];

/** A one-line message for failures a user can fix; null for anything unexpected. */
export function explain(error: unknown): string | null {
  if (EXPECTED.some((kind) => error instanceof kind)) return (error as Error).message;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE') return `address already in use: ${(error as Error).message.replace(/^listen EADDRINUSE: address already in use /, '')} (set PORT or HOST)`;
  if (code === 'EACCES') return `permission denied: ${(error as Error).message}`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return `cannot listen on HOST: ${(error as Error).message}`;
  return null;
}

export function fail(error: unknown): never {
  const message = explain(error);
  if (message) process.stderr.write(`kauth: ${message}\n`);
  else process.stderr.write(`kauth: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
}
