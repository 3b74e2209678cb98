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

/** Trims and checks a required name; returns the trimmed value. */
export function requiredName(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string') throw new ValidationError(field, `${field} must be a string`);
  if (CONTROL_CHARACTERS.test(value)) throw new ValidationError(field, `${field} must not contain control characters`);
  const trimmed = value.trim();
  if (trimmed.length === 0) throw new ValidationError(field, `${field} must not be blank`);
  if ([...trimmed].length > maxLength) {
    throw new ValidationError(field, `${field} must be at most ${maxLength} characters after trimming`, { maxLength });
  }
  return trimmed;
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
