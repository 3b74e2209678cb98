// Default deny: every field the API serves carries a scope requirement or an explicit @public,
// the requirement is written into its description, and a field without one is refused at runtime.
import { readFileSync } from 'node:fs';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { type GraphQLObjectType, type GraphQLSchema, graphql, introspectionFromSchema } from 'graphql';
import { makePrincipal } from '../../src/auth/principal';
import { ForbiddenError } from '../../src/domain/errors';
import type { Tenant } from '../../src/generated/prisma/client';
import { resolvers } from '../../src/graphql/resolvers';
import { SCHEMA_PATH, buildSchema } from '../../src/graphql/schema';
import { type FieldGuard, applyScopeDirective, fieldGuards, guardProblems } from '../../src/graphql/scope-directive';
import { RequestWork } from '../../src/edge/request-work';
import { ALL_SCOPES } from '../../src/policy/scopes';

const SDL = readFileSync(SCHEMA_PATH, 'utf8');
/** Query.roles and its guard, as schema.graphql writes them. */
const ROLES_FIELD = 'roles(first: Int, after: String, last: Int, before: String): RoleConnection!\n    @requiresScope(scopes: [["roles:read"]])';

/**
 * What the issue makes public: the viewer and what hangs off it; and Relay's PageInfo, which says
 * nothing of its own and is reached only through a guarded connection.
 */
const PUBLIC_FIELDS = [
  'PageInfo.endCursor',
  'PageInfo.hasNextPage',
  'PageInfo.hasPreviousPage',
  'PageInfo.startCursor',
  'Query.viewer',
  'Tenant.id',
  'Tenant.name',
  'Tenant.slug',
  'Viewer.apiKey',
  'Viewer.scopes',
  'Viewer.tenant',
];

const sdlSchema = (sdl: string) => makeExecutableSchema({ typeDefs: sdl });
const objectType = (schema: GraphQLSchema, name: string): GraphQLObjectType => schema.getType(name) as GraphQLObjectType;
const requires = (scopes: string[][], groupArg: string | null = null): FieldGuard => ({ public: false, requirement: scopes, groupArg });
const PUBLIC: FieldGuard = { public: true, requirement: null, groupArg: null };

describe('default deny: the guard of every field (src/graphql/scope-directive.ts fieldGuards)', () => {
  const guards = fieldGuards(buildSchema());

  it('finds a scope requirement on every field of every object type except the public ones', () => {
    expect(guardProblems(buildSchema())).toEqual([]);
    const withoutRequirement = [...guards].filter(([, guard]) => !guard.requirement).map(([label]) => label);
    expect(withoutRequirement.sort()).toEqual(PUBLIC_FIELDS);
  });

  it('gives root fields their own requirement, and other fields their own or their type\'s', () => {
    const pick = (labels: string[]) => Object.fromEntries(labels.map((label) => [label, guards.get(label)]));
    expect(pick(['Query.viewer', 'Query.groups', 'Query.apiKeys', 'Mutation.createGroup', 'Mutation.addGroupMember', 'Mutation.revokeApiKey'])).toEqual({
      'Query.viewer': PUBLIC,
      'Query.groups': requires([['groups:read']]),
      'Query.apiKeys': requires([['apikeys:read']]),
      'Mutation.createGroup': requires([['groups:write']], 'input.parentId'),
      'Mutation.addGroupMember': requires([['groups:members:write']], 'groupId'),
      'Mutation.revokeApiKey': requires([['apikeys:write']]),
    });
    expect(pick(['Tenant.slug', 'Group.name', 'Group.roles', 'User.id', 'User.email', 'EffectiveRole.via', 'Role.description', 'ApiKey.scopes'])).toEqual({
      'Tenant.slug': PUBLIC,
      'Group.name': requires([['groups:read']]),
      'Group.roles': requires([['roles:read']]),
      'User.id': requires([['users:read'], ['groups:read']]),
      'User.email': requires([['users:read']]),
      'EffectiveRole.via': requires([['roles:read', 'groups:read']]),
      'Role.description': requires([['roles:read']]),
      'ApiKey.scopes': requires([['apikeys:read'], ['apikeys:write']]),
    });
  });

  it('guards every field of the connections and their edges with the scopes of the items they list', () => {
    const connections: Record<string, string[][]> = {
      Group: [['groups:read']],
      User: [['users:read'], ['groups:read']],
      Role: [['roles:read']],
      ApiKey: [['apikeys:read']],
    };
    const expected: Record<string, FieldGuard> = {};
    for (const [item, scopes] of Object.entries(connections)) {
      for (const field of ['edges', 'nodes', 'pageInfo', 'totalCount']) expected[`${item}Connection.${field}`] = requires(scopes);
      for (const field of ['cursor', 'node']) expected[`${item}Edge.${field}`] = requires(scopes);
    }
    const actual = [...guards].filter(([label]) => /^(Group|User|Role|ApiKey)(Connection|Edge)\./.test(label));
    expect(Object.fromEntries(actual)).toEqual(expected);
  });

  it("gives the fields of a type an interface's requirements, the field's own before the type's", () => {
    const sdl = SDL.replace(
      'type Query {',
      `interface Badge @requiresScope(scopes: [["roles:read"]]) {
  label: String
  secret: String @requiresScope(scopes: [["users:read"]])
}
type GroupBadge implements Badge { label: String secret: String kind: String @public }

type Query {
  badge: Badge @requiresScope(scopes: [["groups:read"]])`,
    );
    const badge = [...fieldGuards(sdlSchema(sdl))].filter(([label]) => label.startsWith('GroupBadge.'));
    expect(Object.fromEntries(badge)).toEqual({
      'GroupBadge.label': requires([['roles:read']]),
      'GroupBadge.secret': requires([['users:read']]),
      'GroupBadge.kind': PUBLIC,
    });
  });

  it('reports a root field whose guard is removed', () => {
    const sdl = SDL.replace('role(id: ID!): Role @requiresScope(scopes: [["roles:read"]])', 'role(id: ID!): Role');
    expect(sdl).not.toBe(SDL);
    expect(guardProblems(sdlSchema(sdl))).toEqual(['Query.role: no @requiresScope or @public']);
  });

  it('reports a mutation whose guard is removed', () => {
    const sdl = SDL.replace(/(revokeApiKey\(id: ID!\): ApiKey!) @requiresScope\(scopes: \[\["apikeys:write"\]\]\)/, '$1');
    expect(sdl).not.toBe(SDL);
    expect(guardProblems(sdlSchema(sdl))).toEqual(['Mutation.revokeApiKey: no @requiresScope or @public']);
  });

  it('reports every field of an object type whose guard is removed', () => {
    const sdl = SDL.replace('type Role @requiresScope(scopes: [["roles:read"]]) {', 'type Role {');
    expect(sdl).not.toBe(SDL);
    expect(guardProblems(sdlSchema(sdl))).toEqual([
      'Role.id: no @requiresScope or @public',
      'Role.name: no @requiresScope or @public',
      'Role.description: no @requiresScope or @public',
    ]);
  });

  it('reports a new field added without a guard, even under a type-wide directive on Query', () => {
    const sdl = SDL.replace('type Query {', 'type Query {\n  everything: String');
    expect(guardProblems(sdlSchema(sdl))).toEqual(['Query.everything: no @requiresScope or @public']);
    const typeWide = SDL.replace('type Query {', 'type Query @requiresScope(scopes: [["groups:read"]]) {\n  everything: String');
    expect(guardProblems(sdlSchema(typeWide))).toEqual(['Query.everything: no @requiresScope or @public']);
  });

  it('reports requirements that would allow anyone or name unknown scopes or arguments', () => {
    const sdl = SDL.replace(ROLES_FIELD, ROLES_FIELD.replace('[["roles:read"]]', '[[]]'))
      .replace('user(id: ID!): User @requiresScope(scopes: [["users:read"]])', 'user(id: ID!): User @requiresScope(scopes: [["users:admin"]])')
      .replace('groupArg: "input.parentId"', 'groupArg: "input.parent"');
    expect(guardProblems(sdlSchema(sdl)).sort()).toEqual([
      'Mutation.createGroup: groupArg "input.parent" is not an argument',
      'Query.roles: an empty scope set (would allow anyone)',
      'Query.user: unknown scope "users:admin"',
    ]);
  });
});

describe('default deny: descriptions', () => {
  const schema = buildSchema();
  const introspection = introspectionFromSchema(schema);
  const guards = fieldGuards(schema);

  it("states each field's scopes, or that it is public, in its introspected description", () => {
    const missing: string[] = [];
    const saidPublic: string[] = [];
    for (const type of introspection.__schema.types) {
      if (type.kind !== 'OBJECT' || type.name.startsWith('__')) continue;
      for (const field of type.fields ?? []) {
        const label = `${type.name}.${field.name}`;
        const requirement = guards.get(label)!.requirement;
        const description = field.description ?? '';
        const wanted = requirement ? requirement.flat().map((s) => `\`${s}\``) : ['Public'];
        for (const word of wanted) if (!description.includes(word)) missing.push(`${label} lacks ${word}`);
        if (description.includes('Public: any valid credential.')) saidPublic.push(label);
      }
    }
    expect(missing).toEqual([]);
    expect(saidPublic.sort()).toEqual(PUBLIC_FIELDS);
  });

  it('keeps the written description and adds the requirement after it', () => {
    const group = schema.getQueryType()!.getFields().group;
    expect(group.description).toBe(
      'A group by id; null if it does not exist or is not visible to the credential.\n\nRequires scope `groups:read`.',
    );
    const via = objectType(schema, 'EffectiveRole').getFields().via;
    expect(via.description).toContain('Requires scope `roles:read` and `groups:read`.');
    const user = objectType(schema, 'User').getFields().id;
    expect(user.description).toBe('Requires scope `users:read`, or `groups:read`.');
  });
});

describe('default deny: at runtime', () => {
  const tenant: Tenant = { id: 1, slug: 'acme', name: 'Acme', createdAt: new Date(), groupCount: 0, userCount: 0, groupIdFloor: 0, userIdFloor: 0 };

  /** Executes against a schema built from `sdl` by the real directive, as an all-scopes credential. */
  async function run(sdl: string, extraResolvers: Record<string, Record<string, unknown>>, query: string) {
    const merged = { ...resolvers, Query: { ...resolvers.Query, ...extraResolvers.Query } } as never;
    const schema = applyScopeDirective(makeExecutableSchema({ typeDefs: sdl, resolvers: merged }));
    const contextValue = { principal: makePrincipal(tenant, ALL_SCOPES), domain: {}, loaders: {}, work: new RequestWork(60_000) };
    return graphql({ schema, source: query, contextValue });
  }

  it('refuses a field with no requirement even to a credential with every scope, without running it', async () => {
    const resolve = jest.fn(() => 'leaked');
    const result = await run(SDL.replace('type Query {', 'type Query {\n  unguarded: String'), { Query: { unguarded: resolve } }, '{ unguarded }');
    expect(result.data).toEqual({ unguarded: null });
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0].path).toEqual(['unguarded']);
    expect(result.errors![0].originalError).toBeInstanceOf(ForbiddenError);
    expect(resolve).not.toHaveBeenCalled();
  });

  it('refuses an existing field whose guard is removed, before its resolver runs', async () => {
    const resolve = jest.fn(() => []);
    const field = 'apiKeys(first: Int, after: String, last: Int, before: String): ApiKeyConnection!';
    const sdl = SDL.replace(`${field}\n    @requiresScope(scopes: [["apikeys:read"]])`, field);
    expect(sdl).not.toBe(SDL);
    const result = await run(sdl, { Query: { apiKeys: resolve } }, '{ apiKeys { nodes { id } } }');
    expect(result.data).toBeNull();
    expect((result.errors![0].originalError as ForbiddenError).code).toBe('FORBIDDEN');
    expect(resolve).not.toHaveBeenCalled();
  });

  it('refuses the fields of an object type that declares no requirement', async () => {
    const sdl = SDL.replace('type Query {', 'type Secret { value: String }\n\ntype Query {\n  secret: Secret @requiresScope(scopes: [["roles:read"]])');
    const result = await run(sdl, { Query: { secret: () => ({ value: 'leaked' }) } }, '{ secret { value } }');
    expect(result.data).toEqual({ secret: { value: null } });
    expect(result.errors!.map((e) => e.path)).toEqual([['secret', 'value']]);
    expect(result.errors![0].originalError).toBeInstanceOf(ForbiddenError);
  });

  it("applies an interface's requirements to the types that implement it", async () => {
    const sdl = SDL.replace(
      'type Query {',
      `interface Badge @requiresScope(scopes: [["roles:read"]]) {
  label: String
  secret: String @requiresScope(scopes: [["users:read"]])
}
type GroupBadge implements Badge { label: String secret: String }

type Query {
  badge: Badge @requiresScope(scopes: [["groups:read"]])`,
    );
    const merged = {
      ...resolvers,
      Badge: { __resolveType: () => 'GroupBadge' },
      Query: { ...resolvers.Query, badge: () => ({ label: 'ok', secret: 'hidden' }) },
    } as never;
    const schema = applyScopeDirective(makeExecutableSchema({ typeDefs: sdl, resolvers: merged }));
    const contextValue = { principal: makePrincipal(tenant, ['groups:read', 'roles:read']), domain: {}, loaders: {}, work: new RequestWork(60_000) };
    const result = await graphql({ schema, source: '{ badge { label ... on GroupBadge { secret } } }', contextValue });
    expect(result.data).toEqual({ badge: { label: 'ok', secret: null } });
    expect(result.errors!.map((e) => [e.path, e.extensions?.code ?? (e.originalError as ForbiddenError).code])).toEqual([
      [['badge', 'secret'], 'FORBIDDEN'],
    ]);
  });

  it('refuses to build a schema whose requirement has an empty scope set (it would allow anyone)', () => {
    const sdl = SDL.replace(ROLES_FIELD, ROLES_FIELD.replace('[["roles:read"]]', '[[]]'));
    expect(sdl).not.toBe(SDL);
    expect(() => applyScopeDirective(makeExecutableSchema({ typeDefs: sdl, resolvers: resolvers as never }))).toThrow(/Query\.roles/);
  });

  it('refuses to build a schema whose requirement names an unknown scope', () => {
    const sdl = SDL.replace(ROLES_FIELD, ROLES_FIELD.replace('[["roles:read"]]', '[["roles:reed"]]'));
    expect(sdl).not.toBe(SDL);
    expect(() => applyScopeDirective(makeExecutableSchema({ typeDefs: sdl, resolvers: resolvers as never }))).toThrow(/roles:reed/);
  });

  it('refuses to build a schema whose groupArg names no argument (the check would silently target the top level)', () => {
    const sdl = SDL.replace('groupArg: "groupId")', 'groupArg: "group")');
    expect(sdl).not.toBe(SDL);
    expect(() => applyScopeDirective(makeExecutableSchema({ typeDefs: sdl, resolvers: resolvers as never }))).toThrow(/groupArg "group"/);
  });
});
