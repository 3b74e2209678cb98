// One embedded database made and migrated per test run (global-setup), copied for each app that
// needs a fresh one: PGlite's initdb and the migrations take about 5 s, a copy about 1 s.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/db';

const TEMPLATE = 'KAUTH_TEST_PGLITE_TEMPLATE';

/** Makes the run's template (a migrated, closed data directory) and names it in the environment the workers inherit. */
export async function makePgliteTemplate(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'kauth-template-'));
  const db = await openDatabase({ kind: 'pglite', dataDir: dir });
  await db.close();
  process.env[TEMPLATE] = dir;
}

export function removePgliteTemplate(): void {
  const dir = process.env[TEMPLATE];
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** A new data directory: a copy of the run's template when there is one, else empty (migrated on open). */
export function freshPgliteDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'kauth-test-'));
  const template = process.env[TEMPLATE];
  if (template) cpSync(template, dir, { recursive: true });
  return dir;
}
