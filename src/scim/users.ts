// /Users: identity providers create, find, update, deactivate and delete the workspace's users.
import type { FastifyInstance } from 'fastify';
import type { DomainContext } from '../domain/context';
import { searchUsers } from '../domain/search';
import * as users from '../domain/users';
import { ScimError } from './errors';
import { USER_ATTRIBUTES, parseFilter } from './filter';
import { type PatchOperation, attribute, booleanValue, elementMatcher, expandValueObject, pinnedBy, readOperations } from './patch';
import { USER_SCHEMA, expectedVersion, userResource } from './resources';
import { type ScimRoutes, listResponse, pageOf, resourceId, respond } from './respond';

/** Attributes of RFC 7643's User (and its enterprise extension) that the service does not keep: accepted and ignored. */
const NOT_KEPT = new Set([
  'nickname', 'profileurl', 'title', 'usertype', 'preferredlanguage', 'locale', 'timezone', 'password', 'phonenumbers',
  'ims', 'photos', 'addresses', 'entitlements', 'roles', 'x509certificates', 'groups', 'schemas', 'id', 'meta',
]);
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user';

/** A user's attributes as SCIM writes them, before the domain checks them. */
interface UserState {
  userName: unknown;
  externalId: unknown;
  name: unknown;
  givenName: unknown;
  familyName: unknown;
  emails: Record<string, unknown>[];
  active: boolean;
}

function emailsOf(value: unknown): Record<string, unknown>[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((entry) => {
    if (!entry || typeof entry !== 'object') throw new ScimError(400, 'emails must be a list of {"value", "type", "primary"}', 'invalidValue');
    const primary = attribute(entry, 'primary');
    return { value: attribute(entry, 'value'), type: attribute(entry, 'type'), primary: primary === undefined ? false : booleanValue(primary, 'emails.primary') };
  });
}

/** The state a POST or PUT body describes: every attribute it leaves out is cleared (`active`: true). */
function stateFromBody(body: unknown): UserState {
  if (!body || typeof body !== 'object') throw new ScimError(400, 'the request body must be a User resource', 'invalidSyntax');
  const name = attribute(body, 'name');
  const givenName = attribute(name, 'givenName');
  const familyName = attribute(name, 'familyName');
  const displayName = attribute(body, 'displayName');
  const active = attribute(body, 'active');
  const joined = [givenName, familyName].filter((part) => typeof part === 'string' && part.trim() !== '').join(' ');
  return {
    userName: attribute(body, 'userName'),
    externalId: attribute(body, 'externalId'),
    name: displayName ?? (joined || null),
    givenName,
    familyName,
    emails: emailsOf(attribute(body, 'emails')),
    active: active === undefined || active === null ? true : booleanValue(active, 'active'),
  };
}

function stateOf(user: users.User): UserState {
  const profile = users.profileOf(user);
  return { ...profile, emails: profile.emails.map((email) => ({ ...email })) };
}

function applyToEmails(state: UserState, operation: PatchOperation): void {
  const { op, valueFilter, sub, value } = operation;
  if (valueFilter === null && sub === null) {
    const given = emailsOf(value);
    // Addresses are compared ignoring case, as they are stored.
    const listed = (email: Record<string, unknown>) => given.some((other) => String(other.value).toLowerCase() === String(email.value).toLowerCase());
    if (op === 'replace') state.emails = given;
    else if (op === 'add') state.emails = [...state.emails.filter((email) => !listed(email)), ...given];
    else if (value === undefined) state.emails = [];
    else state.emails = state.emails.filter((email) => !listed(email));
    return;
  }
  const matches = valueFilter === null ? () => true : elementMatcher(valueFilter);
  const matched = state.emails.filter(matches);
  if (op === 'remove') {
    state.emails = sub === null || sub === 'value' ? state.emails.filter((e) => !matches(e)) : state.emails.map((e) => (matches(e) ? { ...e, [sub]: null } : e));
    return;
  }
  if (sub === null) {
    state.emails = [...state.emails.filter((e) => !matches(e)), ...emailsOf(value)];
  } else if (matched.length > 0) {
    for (const email of matched) email[sub] = sub === 'primary' ? booleanValue(value, 'emails.primary') : value;
  } else {
    // `replace emails[type eq "work"].value` on a user without a work email adds one (as Entra expects).
    state.emails.push({ ...(valueFilter ? pinnedBy(valueFilter) : {}), [sub]: value });
  }
}

function applyToUser(state: UserState, operation: PatchOperation): void {
  const { op, attribute: name, sub, value } = operation;
  const cleared = op === 'remove' ? null : value;
  switch (name) {
    case 'username':
      state.userName = cleared;
      return;
    case 'externalid':
      state.externalId = cleared;
      return;
    case 'displayname':
      state.name = cleared;
      return;
    case 'active':
      state.active = op === 'remove' ? true : booleanValue(value, 'active');
      return;
    case 'name': {
      const parts = sub === null ? (op === 'remove' ? { givenname: null, familyname: null } : (value as Record<string, unknown>)) : { [sub]: cleared };
      if (!parts || typeof parts !== 'object') throw new ScimError(400, 'name must be an object', 'invalidValue');
      const given = attribute(parts, 'givenName');
      const family = attribute(parts, 'familyName');
      // Sub-attributes a value does not name stay as they are (RFC 7644 §3.5.2.3).
      if (given !== undefined) state.givenName = given;
      if (family !== undefined) state.familyName = family;
      return;
    }
    case 'emails':
      applyToEmails(state, operation);
      return;
    default:
      if (name === null || NOT_KEPT.has(name) || name.startsWith(ENTERPRISE)) return;
      throw new ScimError(400, `"${name}" is not an attribute of a User`, 'invalidPath');
  }
}

function patched(user: users.User, body: unknown): UserState {
  const state = stateOf(user);
  for (const operation of readOperations(body, USER_SCHEMA)) {
    for (const each of expandValueObject(operation, USER_SCHEMA)) applyToUser(state, each);
  }
  return state;
}

async function findUser(ctx: DomainContext, id: number): Promise<users.User> {
  const [user] = await users.usersByIds(ctx, [id]);
  if (!user) throw new ScimError(404, `User ${id} not found`);
  return user;
}

export function userRoutes(app: FastifyInstance, routes: ScimRoutes): void {
  const read = { scope: 'users:read' } as const;
  const write = { scope: 'users:write' } as const;
  const { domainOf, base } = routes;

  app.get('/Users', { config: read }, async (request, reply) => {
    const query = request.query as Record<string, string | undefined>;
    const page = pageOf(query);
    const found = await searchUsers(domainOf(request), parseFilter(query.filter, USER_ATTRIBUTES), page);
    return listResponse(reply, request, found.total, page, found.nodes.map((user) => userResource(user, base(request))), USER_SCHEMA);
  });

  app.post('/Users', { config: write }, async (request, reply) => {
    const user = await users.provisionUser(domainOf(request), stateFromBody(request.body));
    return respond(reply, request, userResource(user, base(request)), USER_SCHEMA, 201);
  });

  app.get('/Users/:id', { config: read }, async (request, reply) => {
    const user = await findUser(domainOf(request), resourceId(request, 'User'));
    return respond(reply, request, userResource(user, base(request)), USER_SCHEMA);
  });

  app.put('/Users/:id', { config: write }, async (request, reply) => {
    const ifMatch = expectedVersion(request.headers['if-match']);
    const user = await users.updateUser(domainOf(request), resourceId(request, 'User'), stateFromBody(request.body), ifMatch);
    return respond(reply, request, userResource(user, base(request)), USER_SCHEMA);
  });

  app.patch('/Users/:id', { config: write }, async (request, reply) => {
    const ifMatch = expectedVersion(request.headers['if-match']);
    const user = await users.changeUser(domainOf(request), resourceId(request, 'User'), (current) => patched(current, request.body), ifMatch);
    return respond(reply, request, userResource(user, base(request)), USER_SCHEMA);
  });

  app.delete('/Users/:id', { config: write }, async (request, reply) => {
    await users.deleteUser(domainOf(request), resourceId(request, 'User'), expectedVersion(request.headers['if-match']));
    return reply.code(204).send();
  });
}
