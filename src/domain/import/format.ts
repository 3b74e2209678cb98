// The workspace file (`kauth import` / `kauth export`, README "Import and export"): its shape,
// version 1, checked whole before anything is written. Every error names its place in the file as
// a JSON pointer (`/groups/12/parent`), the ValidationError's `field`.
import { ValidationError } from '../errors';
import { MAX_DESCRIPTION, MAX_GROUP_NAME } from '../groups';
import { normaliseEmail, optionalName, optionalText, requiredName } from '../validate';

export const FORMAT = 'kauth-workspace';
export const FORMAT_VERSION = 1;

/** Longest external id (a group's, a user's), as SCIM allows for groups. */
const MAX_EXTERNAL_ID = 255;
const MAX_USER_TEXT = 255;
const MAX_ROLE_NAME = 255;

export interface FileGroup {
  externalId: string;
  name: string;
  description: string | null;
  /** The parent's externalId (in the file, or a group of the workspace); null: a root. */
  parent: string | null;
}

export interface FileUser {
  externalId: string;
  userName: string;
  email: string | null;
  name: string | null;
  givenName: string | null;
  familyName: string | null;
  active: boolean;
}

export interface FileRole {
  name: string;
  description: string | null;
}

export interface FileMembership {
  group: string;
  user: string;
}

/** A role given to the members of a group (`group`) or to one user (`user`): exactly one of the two. */
export interface FileRoleAssignment {
  role: string;
  group: string | null;
  user: string | null;
}

export interface WorkspaceFile {
  format: typeof FORMAT;
  version: typeof FORMAT_VERSION;
  groups: FileGroup[];
  users: FileUser[];
  roles: FileRole[];
  memberships: FileMembership[];
  roleAssignments: FileRoleAssignment[];
}

/** An error at `pointer` in the file: BAD_USER_INPUT whose field is the pointer. */
export function fileError(pointer: string, message: string): ValidationError {
  return new ValidationError(pointer || '/', `${pointer || '/'}: ${message}`, { pointer: pointer || '/' });
}

/** Runs a field check of the domain (requiredName, normaliseEmail…) and places its error at `pointer`. */
function at<T>(pointer: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof ValidationError) throw fileError(pointer, error.message);
    throw error;
  }
}

function object(value: unknown, pointer: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fileError(pointer, 'must be an object');
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw fileError(`${pointer}/${escapePointer(key)}`, `unknown field (expected ${allowed.join(', ')})`);
  }
  return value as Record<string, unknown>;
}

function list(value: unknown, pointer: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw fileError(pointer, 'must be an array');
  return value;
}

/** An identifier: a non-blank string without control characters, at most `max` characters, kept as given. */
function reference(value: unknown, pointer: string, max = MAX_EXTERNAL_ID): string {
  if (typeof value !== 'string' || value.trim() === '') throw fileError(pointer, 'must be a non-blank string');
  if (/[\u0000-\u001f\u007f]/.test(value)) throw fileError(pointer, 'must not contain control characters');
  if ([...value].length > max) throw fileError(pointer, `must be at most ${max} characters`);
  return value;
}

function optionalReference(value: unknown, pointer: string): string | null {
  return value === undefined || value === null ? null : reference(value, pointer);
}

export const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

function parseGroup(value: unknown, pointer: string): FileGroup {
  const g = object(value, pointer, ['externalId', 'name', 'description', 'parent']);
  return {
    externalId: reference(g.externalId, `${pointer}/externalId`),
    name: at(`${pointer}/name`, () => requiredName(g.name, 'name', MAX_GROUP_NAME)),
    description: at(`${pointer}/description`, () => optionalText(g.description, 'description', MAX_DESCRIPTION) ?? null),
    parent: optionalReference(g.parent, `${pointer}/parent`),
  };
}

function parseUser(value: unknown, pointer: string): FileUser {
  const u = object(value, pointer, ['externalId', 'userName', 'email', 'name', 'givenName', 'familyName', 'active']);
  const userName = at(`${pointer}/userName`, () => optionalName(u.userName, 'userName', MAX_USER_TEXT));
  if (!userName) throw fileError(`${pointer}/userName`, 'userName is required');
  if (u.active !== undefined && typeof u.active !== 'boolean') throw fileError(`${pointer}/active`, 'must be true or false');
  return {
    externalId: reference(u.externalId, `${pointer}/externalId`),
    userName,
    email: u.email === undefined || u.email === null ? null : at(`${pointer}/email`, () => normaliseEmail(u.email)),
    name: at(`${pointer}/name`, () => optionalName(u.name, 'name', MAX_USER_TEXT) ?? null),
    givenName: at(`${pointer}/givenName`, () => optionalName(u.givenName, 'givenName', MAX_USER_TEXT) ?? null),
    familyName: at(`${pointer}/familyName`, () => optionalName(u.familyName, 'familyName', MAX_USER_TEXT) ?? null),
    active: u.active ?? true,
  };
}

function parseRole(value: unknown, pointer: string): FileRole {
  const r = object(value, pointer, ['name', 'description']);
  return {
    name: at(`${pointer}/name`, () => requiredName(r.name, 'name', MAX_ROLE_NAME)),
    description: at(`${pointer}/description`, () => optionalText(r.description, 'description', MAX_DESCRIPTION) ?? null),
  };
}

function parseMembership(value: unknown, pointer: string): FileMembership {
  const m = object(value, pointer, ['group', 'user']);
  return { group: reference(m.group, `${pointer}/group`), user: reference(m.user, `${pointer}/user`) };
}

function parseAssignment(value: unknown, pointer: string): FileRoleAssignment {
  const a = object(value, pointer, ['role', 'group', 'user']);
  const group = optionalReference(a.group, `${pointer}/group`);
  const user = optionalReference(a.user, `${pointer}/user`);
  if ((group === null) === (user === null)) throw fileError(pointer, 'names exactly one of "group" and "user"');
  return { role: reference(a.role, `${pointer}/role`, MAX_ROLE_NAME).trim(), group, user };
}

/** Refuses a second entry with the same key: the first one's pointer is named too. */
function requireDistinct<T>(items: readonly T[], key: (item: T) => string, base: string, field: string, what: string): void {
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const k = key(item);
    const first = seen.get(k);
    if (first !== undefined) throw fileError(`${base}/${index}/${field}`, `${what} ${JSON.stringify(k)} is already used at ${base}/${first}`);
    seen.set(k, index);
  });
}

/**
 * Checks a parsed JSON document against format version 1 and returns it normalised (names
 * trimmed, emails lower-cased, absent optional fields null). Only the file itself is checked
 * here; what it refers to in the workspace is checked by the import's plan, before any write.
 */
export function parseWorkspaceFile(document: unknown): WorkspaceFile {
  const top = object(document, '', ['format', 'version', 'groups', 'users', 'roles', 'memberships', 'roleAssignments']);
  if (top.format !== FORMAT) throw fileError('/format', `must be "${FORMAT}"`);
  if (top.version !== FORMAT_VERSION) throw fileError('/version', `must be ${FORMAT_VERSION} (the only version this service reads)`);
  const file: WorkspaceFile = {
    format: FORMAT,
    version: FORMAT_VERSION,
    groups: list(top.groups, '/groups').map((g, i) => parseGroup(g, `/groups/${i}`)),
    users: list(top.users, '/users').map((u, i) => parseUser(u, `/users/${i}`)),
    roles: list(top.roles, '/roles').map((r, i) => parseRole(r, `/roles/${i}`)),
    memberships: list(top.memberships, '/memberships').map((m, i) => parseMembership(m, `/memberships/${i}`)),
    roleAssignments: list(top.roleAssignments, '/roleAssignments').map((a, i) => parseAssignment(a, `/roleAssignments/${i}`)),
  };
  requireDistinct(file.groups, (g) => g.externalId, '/groups', 'externalId', 'the externalId');
  requireDistinct(file.users, (u) => u.externalId, '/users', 'externalId', 'the externalId');
  requireDistinct(file.roles, (r) => r.name, '/roles', 'name', 'the role name');
  return file;
}

/** Parses the text of a file: JSON errors are reported as the file's, at its top. */
export function readWorkspaceFile(text: string): WorkspaceFile {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw fileError('', `not JSON: ${(error as Error).message}`);
  }
  return parseWorkspaceFile(document);
}
