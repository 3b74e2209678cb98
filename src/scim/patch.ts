// PATCH (RFC 7644 §3.5.2) in the shapes identity providers send: `op` in any case, with a
// `path` or with a value object and no path, Entra's string booleans ("False"), value filters
// (`emails[type eq "work"].value`, `members[value eq "12"]`).
import { filter as matcher, parse } from 'scim2-parse-filter';
import type { MemberDelta } from '../domain/members';
import { ScimError } from './errors';
import { GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA } from './resources';

export type Op = 'add' | 'replace' | 'remove';

export interface PatchOperation {
  op: Op;
  /** Lower-cased attribute, without a core schema prefix. */
  attribute: string | null;
  /** The value filter in brackets, as written. */
  valueFilter: string | null;
  /** Lower-cased sub-attribute after the brackets or the dot. */
  sub: string | null;
  value: unknown;
}

const PATH = /^([A-Za-z$][\w$-]*)(?:\[(.+)\])?(?:\.([A-Za-z$][\w$-]*))?$/;

function parsePath(path: string, schema: string): Pick<PatchOperation, 'attribute' | 'valueFilter' | 'sub'> {
  let text = path.trim();
  const prefix = `${schema}:`;
  if (text.toLowerCase().startsWith(prefix.toLowerCase())) text = text.slice(prefix.length);
  // An extension's attribute (`urn:…:enterprise:2.0:User:department`): kept whole, to be ignored or refused.
  if (text.startsWith('urn:')) return { attribute: text.toLowerCase(), valueFilter: null, sub: null };
  const match = PATH.exec(text);
  if (!match) throw new ScimError(400, `"${path}" is not a valid attribute path`, 'invalidPath');
  return { attribute: match[1].toLowerCase(), valueFilter: match[2] ?? null, sub: match[3]?.toLowerCase() ?? null };
}

/** Checks the PatchOp envelope and reads its operations; an unknown op is invalidSyntax. */
export function readOperations(body: unknown, schema: typeof USER_SCHEMA | typeof GROUP_SCHEMA): PatchOperation[] {
  const request = body as { schemas?: unknown; Operations?: unknown } | undefined;
  if (!request || typeof request !== 'object' || !Array.isArray(request.Operations)) {
    throw new ScimError(400, `a PATCH body is {"schemas":["${PATCH_SCHEMA}"],"Operations":[…]}`, 'invalidSyntax');
  }
  if (Array.isArray(request.schemas) && !request.schemas.includes(PATCH_SCHEMA)) {
    throw new ScimError(400, `a PATCH body's schemas must be ["${PATCH_SCHEMA}"]`, 'invalidSyntax');
  }
  if (request.Operations.length > 1000) throw new ScimError(400, 'at most 1000 operations in one PATCH', 'tooMany');
  return request.Operations.map((operation: { op?: unknown; path?: unknown; value?: unknown }, i) => {
    const op = typeof operation?.op === 'string' ? operation.op.toLowerCase() : '';
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw new ScimError(400, `Operations[${i}].op must be add, replace or remove, not ${JSON.stringify(operation?.op)}`, 'invalidSyntax');
    }
    if (operation.path !== undefined && typeof operation.path !== 'string') throw new ScimError(400, `Operations[${i}].path must be a string`, 'invalidPath');
    const path = operation.path ? parsePath(operation.path, schema) : { attribute: null, valueFilter: null, sub: null };
    if (op === 'remove' && path.attribute === null) throw new ScimError(400, `Operations[${i}]: remove needs a path`, 'noTarget');
    if (op !== 'remove' && operation.value === undefined) throw new ScimError(400, `Operations[${i}]: ${op} needs a value`, 'invalidValue');
    return { op, ...path, value: operation.value };
  });
}

/** A value object without a path (`{"op":"replace","value":{"active":false,"name.givenName":"X"}}`): one operation per key. */
export function expandValueObject(operation: PatchOperation, schema: string): PatchOperation[] {
  if (operation.attribute !== null) return [operation];
  const value = operation.value;
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new ScimError(400, `${operation.op} without a path needs an object of attributes as its value`, 'invalidValue');
  }
  return Object.entries(value as Record<string, unknown>).map(([key, item]) => ({ ...operation, ...parsePath(key, schema), value: item }));
}

/** Reads an attribute ignoring its case, as SCIM attribute names are. */
export function attribute(object: unknown, name: string): unknown {
  if (!object || typeof object !== 'object') return undefined;
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : (object as Record<string, unknown>)[key];
}

/** Entra sends booleans as "True"/"False". */
export function booleanValue(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw new ScimError(400, `${field} must be true or false, not ${JSON.stringify(value)}`, 'invalidValue');
}

/** Whether a JSON object matches a value filter (`type eq "work"`), by the library's own matcher. */
export function elementMatcher(valueFilter: string): (element: Record<string, unknown>) => boolean {
  let test: (element: Record<string, unknown>) => boolean;
  try {
    test = matcher(parse(valueFilter)) as (element: Record<string, unknown>) => boolean;
  } catch (error) {
    throw new ScimError(400, `"[${valueFilter}]" is not a valid value filter: ${(error as Error).message}`, 'invalidFilter');
  }
  return (element) => test(element);
}

/** The attribute-value pairs an `eq` value filter pins (`type eq "work"` → { type: "work" }): what a new element gets. */
export function pinnedBy(valueFilter: string): Record<string, unknown> {
  const tree = parse(valueFilter) as { op: string; attrPath?: string; compValue?: unknown; filters?: unknown[] };
  const nodes = tree.op === 'and' ? (tree.filters as typeof tree[]) : [tree];
  return Object.fromEntries(nodes.filter((n) => n.op === 'eq' && n.attrPath).map((n) => [n.attrPath!, n.compValue]));
}

// ---- Group members -------------------------------------------------------------------------

/** Member ids of a `members` value: users only (an entry of type Group is refused). */
export function memberIds(value: unknown): number[] {
  const entries = Array.isArray(value) ? value : [value];
  return entries.map((entry: { value?: unknown; type?: unknown; $ref?: unknown }, i) => {
    if (!entry || typeof entry !== 'object') throw new ScimError(400, `members[${i}] must be an object with a "value"`, 'invalidValue');
    const isGroup = (typeof entry.type === 'string' && entry.type.toLowerCase() === 'group') || (typeof entry.$ref === 'string' && /\/Groups\//.test(entry.$ref));
    if (isGroup) throw new ScimError(400, `members[${i}] is a group: groups have users as members, and nest through the tree instead`, 'invalidValue');
    const text = typeof entry.value === 'number' ? String(entry.value) : entry.value;
    if (typeof text !== 'string' || !/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > 2_147_483_647) {
      throw new ScimError(400, `members[${i}].value ${JSON.stringify(entry.value)} is not a user id of this workspace`, 'invalidValue');
    }
    return Number(text);
  });
}

/** The users a `members[value eq "12"]` (or an `or` of such) names. */
function membersNamedBy(valueFilter: string): number[] {
  type Node = { op: string; attrPath?: string; compValue?: unknown; filters?: Node[] };
  let tree: Node;
  try {
    tree = parse(valueFilter) as Node;
  } catch (error) {
    throw new ScimError(400, `"members[${valueFilter}]" is not a valid path: ${(error as Error).message}`, 'invalidPath');
  }
  const nodes = tree.op.toLowerCase() === 'or' ? tree.filters ?? [] : [tree];
  return nodes.map((node) => {
    if (node.op.toLowerCase() !== 'eq' || node.attrPath?.toLowerCase() !== 'value') {
      throw new ScimError(400, `members[${valueFilter}]: only value eq "<id>" (or several joined by or) selects members`, 'invalidPath');
    }
    return memberIds([{ value: node.compValue }])[0];
  });
}

/** Member changes of one PATCH, applied in order: either the exact list, or what to add and remove. */
export class MemberChanges {
  private exact: Set<number> | null = null;
  private readonly add = new Set<number>();
  private readonly remove = new Set<number>();
  private touched = false;

  replaceWith(ids: number[]): void {
    this.touched = true;
    this.exact = new Set(ids);
  }

  added(ids: number[]): void {
    this.change(ids, true);
  }

  removed(ids: number[]): void {
    this.change(ids, false);
  }

  /** Later operations win: an id added then removed is removed, and the other way round. */
  private change(ids: number[], adding: boolean): void {
    this.touched = true;
    const [into, outOf] = adding ? [this.add, this.remove] : [this.remove, this.add];
    for (const id of ids) {
      if (this.exact && adding) this.exact.add(id);
      else if (this.exact) this.exact.delete(id);
      else {
        into.add(id);
        outOf.delete(id);
      }
    }
  }

  result(): { replace: number[] } | MemberDelta | undefined {
    if (!this.touched) return undefined;
    if (this.exact) return { replace: [...this.exact] };
    return { add: [...this.add], remove: [...this.remove] };
  }
}

/** Applies one operation on `members` (with or without a value filter). */
export function applyMemberOperation(changes: MemberChanges, operation: PatchOperation): void {
  if (operation.valueFilter !== null) {
    if (operation.op !== 'remove' || operation.sub !== null) {
      throw new ScimError(400, `members[${operation.valueFilter}] can only be removed`, 'invalidPath');
    }
    changes.removed(membersNamedBy(operation.valueFilter));
    return;
  }
  if (operation.op === 'add') changes.added(memberIds(operation.value));
  else if (operation.op === 'replace') changes.replaceWith(memberIds(operation.value ?? []));
  else if (operation.value === undefined) changes.replaceWith([]);
  else changes.removed(memberIds(operation.value));
}
