// A Keycloak realm export (`kc.sh export --realm <realm> --users same_file`, Keycloak 26; README
// "Import and export") converted to a kauth-workspace file. The fields read are those of Keycloak's
// representations (org.keycloak.representations.idm): RealmRepresentation `realm`, `roles.realm`,
// `groups`, `users`; GroupRepresentation `id`, `name`, `description`, `subGroups`, `realmRoles`;
// UserRepresentation `id`, `username`, `email`, `firstName`, `lastName`, `enabled`, `groups`
// (paths), `realmRoles`, `serviceAccountClientId`. Everything else (clients, client roles,
// attributes, credentials…) is left aside. Every error names its JSON pointer in the realm file.
import { FORMAT, FORMAT_VERSION, type FileGroup, type FileMembership, type FileRole, type FileRoleAssignment, type FileUser, fileError } from '../format';
import { Places } from './places';

/** Realm roles every realm has, given to every user: not roles of the organisation. */
const BUILT_IN_ROLES = ['offline_access', 'uma_authorization'];

type Json = Record<string, unknown>;

function object(value: unknown, pointer: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fileError(pointer, 'must be an object');
  return value as Json;
}

function list(value: unknown, pointer: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw fileError(pointer, 'must be an array');
  return value;
}

function text(value: unknown, pointer: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw fileError(pointer, 'must be a non-blank string');
  return value;
}

const optionalText = (value: unknown, pointer: string): string | null => (value === undefined || value === null || value === '' ? null : text(value, pointer));

/** A group's path as Keycloak writes it: its names from the root, a "/" inside a name escaped as "~/". */
const pathStep = (name: string) => `/${name.replace(/\//g, '~/')}`;

interface Conversion {
  places: Places;
  groups: FileGroup[];
  users: FileUser[];
  roles: FileRole[];
  memberships: FileMembership[];
  roleAssignments: FileRoleAssignment[];
  /** Group id by path. */
  groupAt: Map<string, string>;
  /** Realm roles imported (the built-in ones are not). */
  roleNames: Set<string>;
  builtIn: Set<string>;
}

function convertRoles(realm: Json, c: Conversion): void {
  const roles = realm.roles === undefined || realm.roles === null ? {} : object(realm.roles, '/roles');
  list(roles.realm, '/roles/realm').forEach((value, i) => {
    const pointer = `/roles/realm/${i}`;
    const role = object(value, pointer);
    const name = text(role.name, `${pointer}/name`);
    if (c.builtIn.has(name)) return;
    c.places.set(`/roles/${c.roles.length}`, { at: pointer, fields: { name: `${pointer}/name`, description: `${pointer}/description` } });
    c.roles.push({ name, description: optionalText(role.description, `${pointer}/description`) });
    c.roleNames.add(name);
  });
}

/** `realmRoles` of a group or user: the imported roles given to it; a role the realm does not define is an error. */
function assignRoles(value: unknown, pointer: string, c: Conversion, holder: { group: string | null; user: string | null }): void {
  list(value, pointer).forEach((role, i) => {
    const name = text(role, `${pointer}/${i}`);
    if (c.builtIn.has(name)) return;
    if (!c.roleNames.has(name)) throw fileError(`${pointer}/${i}`, `no realm role ${JSON.stringify(name)} in /roles/realm`);
    c.places.set(`/roleAssignments/${c.roleAssignments.length}`, { at: `${pointer}/${i}` });
    c.roleAssignments.push({ role: name, ...holder });
  });
}

function convertGroups(value: unknown, pointer: string, parent: { id: string; path: string } | null, c: Conversion): void {
  list(value, pointer).forEach((item, i) => {
    const at = `${pointer}/${i}`;
    const group = object(item, at);
    const id = text(group.id, `${at}/id`);
    const name = text(group.name, `${at}/name`);
    const path = `${parent?.path ?? ''}${pathStep(name)}`;
    if (c.groupAt.has(path)) throw fileError(`${at}/name`, `a second group at the path ${JSON.stringify(path)}`);
    c.groupAt.set(path, id);
    c.places.set(`/groups/${c.groups.length}`, { at, fields: { externalId: `${at}/id`, name: `${at}/name`, description: `${at}/description` } });
    c.groups.push({ externalId: id, name, description: optionalText(group.description, `${at}/description`), parent: parent?.id ?? null });
    assignRoles(group.realmRoles, `${at}/realmRoles`, c, { group: id, user: null });
    convertGroups(group.subGroups, `${at}/subGroups`, { id, path }, c);
  });
}

function fullName(first: string | null, last: string | null): string | null {
  const name = [first, last].filter((part) => part !== null).join(' ');
  return name === '' ? null : name;
}

function convertUsers(realm: Json, c: Conversion): void {
  list(realm.users, '/users').forEach((item, i) => {
    const at = `/users/${i}`;
    const user = object(item, at);
    // A client's service account is a user in Keycloak, not a person of the directory.
    if (user.serviceAccountClientId !== undefined && user.serviceAccountClientId !== null) return;
    const id = text(user.id, `${at}/id`);
    if (user.enabled !== undefined && typeof user.enabled !== 'boolean') throw fileError(`${at}/enabled`, 'must be true or false');
    const givenName = optionalText(user.firstName, `${at}/firstName`);
    const familyName = optionalText(user.lastName, `${at}/lastName`);
    c.places.set(`/users/${c.users.length}`, {
      at,
      fields: { externalId: `${at}/id`, userName: `${at}/username`, email: `${at}/email`, givenName: `${at}/firstName`, familyName: `${at}/lastName`, name: `${at}/firstName` },
    });
    c.users.push({
      externalId: id,
      userName: text(user.username, `${at}/username`),
      email: optionalText(user.email, `${at}/email`),
      name: fullName(givenName, familyName),
      givenName,
      familyName,
      active: user.enabled ?? true,
    });
    list(user.groups, `${at}/groups`).forEach((path, g) => {
      const group = c.groupAt.get(text(path, `${at}/groups/${g}`));
      if (group === undefined) throw fileError(`${at}/groups/${g}`, `no group at path ${JSON.stringify(path)}`);
      c.places.set(`/memberships/${c.memberships.length}`, { at: `${at}/groups/${g}` });
      c.memberships.push({ group, user: id });
    });
    assignRoles(user.realmRoles, `${at}/realmRoles`, c, { group: null, user: id });
  });
}

/**
 * Converts a parsed realm export to a kauth-workspace document: groups by Keycloak id (nested by
 * `subGroups`), users by Keycloak id (`enabled` → active), realm roles by name except the built-in
 * ones (`default-roles-<realm>`, `offline_access`, `uma_authorization`), a group's and a user's
 * realm roles as role assignments, a user's group paths as memberships.
 */
export function convertKeycloakRealm(document: unknown): { document: unknown; places: Places } {
  const realm = object(document, '');
  const realmName = text(realm.realm, '/realm');
  const defaultRole = realm.defaultRole === undefined || realm.defaultRole === null ? {} : object(realm.defaultRole, '/defaultRole');
  const builtIn = new Set([...BUILT_IN_ROLES, `default-roles-${realmName.toLowerCase()}`]);
  if (typeof defaultRole.name === 'string') builtIn.add(defaultRole.name);
  const c: Conversion = {
    places: new Places(),
    groups: [],
    users: [],
    roles: [],
    memberships: [],
    roleAssignments: [],
    groupAt: new Map(),
    roleNames: new Set(),
    builtIn,
  };
  convertRoles(realm, c);
  convertGroups(realm.groups, '/groups', null, c);
  convertUsers(realm, c);
  const { groups, users, roles, memberships, roleAssignments } = c;
  return { document: { format: FORMAT, version: FORMAT_VERSION, groups, users, roles, memberships, roleAssignments }, places: c.places };
}
