// The files `kauth import --from` reads (README "Import and export"): a kauth-workspace file as it
// is, or a directory's own export converted to one (./keycloak, ./csv), which then goes through the
// same checks, plan and one transaction. Errors name their place in the file the operator gave.
import { ValidationError } from '../../errors';
import { type WorkspaceFile, fileError, parseWorkspaceFile, readWorkspaceFile } from '../format';
import { convertCsv } from './csv';
import { convertKeycloakRealm } from './keycloak';
import type { Places } from './places';

export { convertCsv, parseCsv } from './csv';
export { convertKeycloakRealm } from './keycloak';

export const IMPORT_SOURCES = ['kauth', 'keycloak', 'csv'] as const;
export type ImportSource = (typeof IMPORT_SOURCES)[number];

/** `--from` as given, or else `csv` for a file named *.csv and `kauth` for any other. */
export function importSourceOf(from: string | undefined, fileName: string): ImportSource {
  if (from === undefined) return /\.csv$/i.test(fileName) ? 'csv' : 'kauth';
  if (!(IMPORT_SOURCES as readonly string[]).includes(from)) {
    throw new ValidationError('from', `--from must be one of ${IMPORT_SOURCES.join(', ')}, got "${from}"`);
  }
  return from as ImportSource;
}

export interface ImportFile {
  file: WorkspaceFile;
  /** An error of the import's plan, placed in the source file (a converted file's pointers mean nothing to the operator). */
  relocate(error: unknown): unknown;
}

function converted({ document, places }: { document: unknown; places: Places }): ImportFile {
  try {
    return { file: parseWorkspaceFile(document), relocate: (error) => places.relocate(error) };
  } catch (error) {
    throw places.relocate(error);
  }
}

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw fileError('', `not JSON: ${(error as Error).message}`);
  }
}

/** Reads the text of a file of the given source as a kauth-workspace file; nothing is written here. */
export function readImportFile(text: string, source: ImportSource): ImportFile {
  switch (source) {
    case 'kauth':
      return { file: readWorkspaceFile(text), relocate: (error) => error };
    case 'keycloak':
      return converted(convertKeycloakRealm(json(text)));
    case 'csv':
      return converted(convertCsv(text));
  }
}
