// Input checks shared by every entry point (GraphQL, REST, CLI).
import { ValidationError } from './errors';

const MAX_ID = 2_147_483_647;

/** Parses an id given as a string or number; ids are positive 32-bit integers. */
export function parseId(value: unknown, field: string): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > MAX_ID) {
    throw new ValidationError(field, `${field} must be a positive integer id, got ${JSON.stringify(value)}`);
  }
  return Number(text);
}

export function parseIds(values: readonly unknown[], field: string): number[] {
  return values.map((value, index) => parseId(value, `${field}[${index}]`));
}

// Names are one line of text; PostgreSQL text cannot hold NUL at all.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const NUL = /\u0000/;
// A name carries no control character (Cc: C0, DEL, C1 such as U+0085) and no line or paragraph separator.
const NAME_BREAKERS = /[\p{Cc}\p{Zl}\p{Zp}]/u;
// Bidi embeddings, overrides, isolates and marks reorder what is displayed around a name (spoofing).
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
// A name must show something: a letter, digit, punctuation mark or symbol that is neither
// default-ignorable (U+200B, the Hangul fillers U+115F, U+1160, U+3164, U+FFA0…: drawn as nothing)
// nor a blank-rendering filler (U+2800 BRAILLE PATTERN BLANK, a symbol drawn as a space).
const VISIBLE = /(?![\p{Default_Ignorable_Code_Point}\u2800])[\p{L}\p{N}\p{P}\p{S}]/u;

/** Refuses control and separator characters, bidi controls, and a name with nothing visible in it; `trimmed` is not blank. */
function checkDisplayable(trimmed: string, field: string): void {
  if (NAME_BREAKERS.test(trimmed)) {
    throw new ValidationError(field, `${field} must not contain control characters or line and paragraph separators (Unicode Cc, Zl, Zp)`);
  }
  if (BIDI_CONTROLS.test(trimmed)) {
    throw new ValidationError(field, `${field} must not contain bidirectional control characters (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C)`);
  }
  if (!VISIBLE.test(trimmed)) {
    throw new ValidationError(field, `${field} must contain at least one visible character (a letter, digit, punctuation mark or symbol that is not blank or default-ignorable)`);
  }
}

/** Trims and checks a required name; returns the trimmed value. */
export function requiredName(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string') throw new ValidationError(field, `${field} must be a string`);
  if (CONTROL_CHARACTERS.test(value)) throw new ValidationError(field, `${field} must not contain control characters`);
  const trimmed = value.trim();
  if (trimmed.length === 0) throw new ValidationError(field, `${field} must not be blank`);
  checkDisplayable(trimmed, field);
  if ([...trimmed].length > maxLength) {
    throw new ValidationError(field, `${field} must be at most ${maxLength} characters after trimming`, { maxLength });
  }
  return trimmed;
}

/** An optional name (a user's): like optionalText, and what is given must be displayable like a required name. */
export function optionalName(value: unknown, field: string, maxLength: number): string | null | undefined {
  const text = optionalText(value, field, maxLength);
  if (text) checkDisplayable(text, field);
  return text;
}

/** An optional free-text field: null or undefined stay as they are, blank becomes null. */
export function optionalText(value: unknown, field: string, maxLength: number): string | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') throw new ValidationError(field, `${field} must be a string or null`);
  if (NUL.test(value)) throw new ValidationError(field, `${field} must not contain NUL characters`);
  const trimmed = value.trim();
  if ([...trimmed].length > maxLength) {
    throw new ValidationError(field, `${field} must be at most ${maxLength} characters`, { maxLength });
  }
  return trimmed === '' ? null : trimmed;
}

export interface PageArgs {
  offset: number;
  limit: number;
}

export const MAX_PAGE_SIZE = 100;

export function pageArgs(offset: unknown, limit: unknown, defaults: PageArgs = { offset: 0, limit: 20 }): PageArgs {
  const o = offset ?? defaults.offset;
  const l = limit ?? defaults.limit;
  if (!Number.isInteger(o) || (o as number) < 0) throw new ValidationError('offset', 'offset must be an integer >= 0');
  if (!Number.isInteger(l) || (l as number) < 1 || (l as number) > MAX_PAGE_SIZE) {
    throw new ValidationError('limit', `limit must be an integer between 1 and ${MAX_PAGE_SIZE}`);
  }
  return { offset: o as number, limit: l as number };
}

/** Characters of a search pattern or a filter's text (GraphQL `search:`, REST `search`, audit `actor`). */
export const MAX_SEARCH = 200;

/** A search pattern: trimmed, at most MAX_SEARCH characters, no control characters; blank is null (no search). */
export function searchPattern(value: string | null | undefined, field = 'search'): string | null {
  if (value === undefined || value === null) return null;
  if (CONTROL_CHARACTERS.test(value)) throw new ValidationError(field, `${field} must not contain control characters`);
  const trimmed = value.trim();
  if ([...trimmed].length > MAX_SEARCH) throw new ValidationError(field, `${field} must be at most ${MAX_SEARCH} characters`, { maxLength: MAX_SEARCH });
  return trimmed === '' ? null : trimmed;
}

/**
 * Bounds on anything a client sends, checked at every edge before it is used (GraphQL variables
 * and literals, REST and SCIM bodies and query strings): each string at most MAX_INPUT_STRING
 * characters and free of control characters other than tab and line breaks, nesting at most
 * MAX_INPUT_DEPTH. Fields have tighter maxima of their own (names, descriptions, searches).
 */
export const MAX_INPUT_STRING = 10_000;
export const MAX_INPUT_DEPTH = 12;
const INPUT_CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Walks `value` without recursion (a 200,000-deep array must not overflow the stack); throws ValidationError at the first breach. */
export function checkInputBounds(value: unknown, where: string, details: Record<string, unknown> = {}): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: where, depth: 0 }];
  while (stack.length > 0) {
    const { value: item, path, depth } = stack.pop()!;
    if (typeof item === 'string') {
      if (item.length > MAX_INPUT_STRING) throw new ValidationError(path, `${path} is longer than ${MAX_INPUT_STRING} characters`, { ...details, maxLength: MAX_INPUT_STRING });
      if (INPUT_CONTROLS.test(item)) throw new ValidationError(path, `${path} must not contain NUL or other control characters (tab and line breaks are allowed)`, details);
      continue;
    }
    if (item === null || typeof item !== 'object') continue;
    if (depth >= MAX_INPUT_DEPTH) throw new ValidationError(path, `${path} is nested deeper than ${MAX_INPUT_DEPTH} levels`, { ...details, maximum: MAX_INPUT_DEPTH });
    const entries = Array.isArray(item) ? item.map((v, i) => [String(i), v] as const) : Object.entries(item);
    for (const [key, child] of entries) {
      if (key.length > MAX_INPUT_STRING || INPUT_CONTROLS.test(key)) throw new ValidationError(path, `${path} has a key that is too long or holds control characters`, details);
      stack.push({ value: child, path: path ? `${path}.${key}` : key, depth: depth + 1 });
    }
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normaliseEmail(value: unknown, field = 'email'): string {
  if (typeof value !== 'string') throw new ValidationError(field, `${field} must be a string`);
  const email = value.trim().toLowerCase();
  if (email.length > 320 || !EMAIL.test(email) || CONTROL_CHARACTERS.test(email)) throw new ValidationError(field, `${field} is not a valid email address`);
  return email;
}

/** A Prisma `contains` filter matching `search` literally, ignoring case (Prisma does not escape LIKE wildcards). */
export function containsText(search: string) {
  return { contains: search.replace(/[\\%_]/g, (c) => `\\${c}`), mode: 'insensitive' as const };
}

/** Refuses a change that would make a path (root..group) of `pathLength` groups, past the workspace's depth limit. */
export function checkDepth(limits: { maxGroupDepth: number }, pathLength: number): void {
  if (pathLength > limits.maxGroupDepth) {
    throw new ValidationError(
      'parentId',
      `groups can be nested at most ${limits.maxGroupDepth} levels deep (MAX_GROUP_DEPTH=${limits.maxGroupDepth}); this change would make ${pathLength}`,
      { maxDepth: limits.maxGroupDepth },
    );
  }
}
