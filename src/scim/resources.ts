// Users and groups as SCIM resources (RFC 7643), and the `attributes` / `excludedAttributes`
// projection of a response.
import type { Group } from '../domain/groups';
import type { User, UserEmail } from '../domain/users';
import { ScimError } from './errors';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
/** Our extension: a group's place in the tree. */
export const TREE_SCHEMA = 'urn:kauth:params:scim:schemas:extension:tree:2.0:Group';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

export type Resource = Record<string, unknown> & { id: string; schemas: string[] };

export const versionTag = (version: number) => `W/"${version}"`;

/** The version an If-Match header names; null without one or with `*` (any version). */
export function expectedVersion(ifMatch: string | undefined): number | null {
  if (ifMatch === undefined || ifMatch.trim() === '*') return null;
  const match = /^\s*(?:W\/)?"([0-9]{1,9})"\s*$/.exec(ifMatch);
  // A tag this server never handed out matches no version: the write is refused as stale.
  return match ? Number(match[1]) : -1;
}

function meta(resourceType: 'User' | 'Group', row: { id: number; createdAt: Date; updatedAt: Date; version: number }, base: string) {
  return {
    resourceType,
    created: row.createdAt.toISOString(),
    lastModified: row.updatedAt.toISOString(),
    location: `${base}/${resourceType}s/${row.id}`,
    version: versionTag(row.version),
  };
}

/** Only the attributes that have a value: SCIM leaves unassigned attributes out. */
function present<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null && value !== undefined)) as Partial<T>;
}

export function userResource(user: User, base: string): Resource {
  const emails = (user.emails as unknown as UserEmail[]).map((email) => present({ value: email.value, type: email.type, primary: email.primary || undefined }));
  const name = present({ givenName: user.givenName, familyName: user.familyName });
  return {
    schemas: [USER_SCHEMA],
    id: String(user.id),
    ...present({ externalId: user.externalId }),
    userName: user.userName,
    ...(Object.keys(name).length > 0 ? { name } : {}),
    ...present({ displayName: user.name }),
    ...(emails.length > 0 ? { emails } : {}),
    active: user.active,
    meta: meta('User', user, base),
  };
}

export interface GroupView {
  group: Group;
  /** Direct members, deactivated ones included; undefined when the response leaves members out. */
  members?: User[];
  /** The ancestors' ids the credential may see, nearest first. */
  ancestorIds: number[];
}

export function groupResource({ group, members, ancestorIds }: GroupView, base: string): Resource {
  return {
    schemas: [GROUP_SCHEMA, TREE_SCHEMA],
    id: String(group.id),
    ...present({ externalId: group.externalId }),
    displayName: group.name,
    ...(members
      ? { members: members.map((user) => ({ value: String(user.id), display: user.name ?? user.userName, type: 'User', $ref: `${base}/Users/${user.id}` })) }
      : {}),
    [TREE_SCHEMA]: { parentId: ancestorIds.length > 0 ? String(ancestorIds[0]) : null, ancestorIds: ancestorIds.map(String) },
    meta: meta('Group', group, base),
  };
}

/** An attribute path as `attributes` lists it, lower-cased: ["name", "givenname"], or [extension urn, "parentid"]. */
function attributePath(text: string, coreSchema: string): string[] {
  const lower = text.trim().toLowerCase();
  const core = `${coreSchema.toLowerCase()}:`;
  if (lower.startsWith(core)) return lower.slice(core.length).split('.');
  const ext = `${TREE_SCHEMA.toLowerCase()}:`;
  if (lower.startsWith(ext)) return [TREE_SCHEMA.toLowerCase(), ...lower.slice(ext.length).split('.')];
  if (lower === TREE_SCHEMA.toLowerCase()) return [lower];
  if (!/^[a-z$][a-z0-9$_-]*(\.[a-z$][a-z0-9$_-]*)?$/.test(lower)) throw new ScimError(400, `"${text}" is not an attribute name`, 'invalidValue');
  return lower.split('.');
}

export function parseAttributeList(value: string | undefined, coreSchema: string): string[][] | null {
  if (value === undefined || value.trim() === '') return null;
  return value.split(',').map((name) => attributePath(name, coreSchema));
}

const ALWAYS = new Set(['id', 'schemas']);

function pick(value: unknown, subs: Set<string> | true): unknown {
  if (subs === true) return value;
  const keep = (object: Record<string, unknown>) => Object.fromEntries(Object.entries(object).filter(([key]) => subs.has(key.toLowerCase())));
  if (Array.isArray(value)) return value.map((item) => (item && typeof item === 'object' ? keep(item as Record<string, unknown>) : item));
  return value && typeof value === 'object' ? keep(value as Record<string, unknown>) : value;
}

/** The resource with only the asked attributes (`attributes`) or without the excluded ones; id and schemas always stay. */
export function project(resource: Resource, attributes: string[][] | null, excluded: string[][] | null): Resource {
  if (attributes) {
    const wanted = new Map<string, Set<string> | true>();
    for (const [top, sub] of attributes) {
      const current = wanted.get(top);
      if (sub === undefined || current === true) wanted.set(top, true);
      else wanted.set(top, new Set([...(current ?? []), sub]));
    }
    return Object.fromEntries(
      Object.entries(resource).flatMap(([key, value]) => {
        if (ALWAYS.has(key)) return [[key, value]];
        const subs = wanted.get(key.toLowerCase());
        return subs === undefined ? [] : [[key, pick(value, subs)]];
      }),
    ) as Resource;
  }
  if (!excluded) return resource;
  const out: Record<string, unknown> = { ...resource };
  for (const [top, sub] of excluded) {
    const key = Object.keys(out).find((k) => k.toLowerCase() === top);
    if (!key || ALWAYS.has(key)) continue;
    if (sub === undefined) {
      delete out[key];
      continue;
    }
    const drop = (object: Record<string, unknown>) => Object.fromEntries(Object.entries(object).filter(([k]) => k.toLowerCase() !== sub));
    const value = out[key];
    out[key] = Array.isArray(value) ? value.map((item) => drop(item as Record<string, unknown>)) : drop(value as Record<string, unknown>);
  }
  return out as Resource;
}

/** Whether a response leaves a group's members out (Entra asks for groups with excludedAttributes=members). */
export function wantsMembers(attributes: string[][] | null, excluded: string[][] | null): boolean {
  if (attributes) return attributes.some(([top]) => top === 'members');
  return !(excluded ?? []).some(([top, sub]) => top === 'members' && sub === undefined);
}
