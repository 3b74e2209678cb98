// Default deny: every field the API serves carries a scope requirement or an explicit @public,
// the requirement is written into its description, and a field without one is refused at runtime.
import { readFileSync } from 'node:fs';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { getDirective } from '@graphql-tools/utils';
import {
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  graphql,
  introspectionFromSchema,
  isInputObjectType,
  isObjectType,
} from 'graphql';
import { makePrincipal } from '../../src/auth/principal';
import { ALL_SCOPES, isScopeName } from '../../src/auth/scopes';
import { ForbiddenError } from '../../src/domain/errors';
import type { Tenant } from '../../src/generated/prisma/client';
import { resolvers } from '../../src/graphql/resolvers';
import { SCHEMA_PATH, buildSchema } from '../../src/graphql/schema';
import { applyScopeDirective } from '../../src/graphql/scope-directive';
import { RequestWork } from '../../src/http/request-work';

const SDL = readFileSync(SCHEMA_PATH, 'utf8');

interface Requirement {
  scopes: string[][];
  groupArg?: string;
}

const requirementOf = (schema: GraphQLSchema, node: Parameters<typeof getDirective>[1]): Requirement | undefined =>
  getDirective(schema, node, 'requiresScope')?.[0] as Requirement | undefined;
const isPublic = (schema: GraphQLSchema, node: Parameters<typeof getDirective>[1]): boolean =>
  Boolean(getDirective(schema, node, 'public')?.[0]);

function rootTypeNames(schema: GraphQLSchema): string[] {
  return [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((t) => (t ? [t.name] : []));
}

function objectTypes(schema: GraphQLSchema): GraphQLObjectType[] {
  return Object.values(schema.getTypeMap()).filter((t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith('__'));
}

const objectType = (schema: GraphQLSchema, name: string): GraphQLObjectType => schema.getType(name) as GraphQLObjectType;

/** Does `groupArg` ("input.parentId") name an argument (or input field) of the field? */
function namesAnArgument(field: GraphQLField<unknown, unknown>, groupArg: string): boolean {
  const [argName, ...rest] = groupArg.split('.');
  let type = field.args.find((a) => a.name === argName)?.type;
  for (const part of rest) {
    const named = type && getNamedType(type);
    if (!named || !isInputObjectType(named)) return false;
    type = named.getFields()[part]?.type;
  }
  return type !== undefined;
}

function problemsOf(label: string, requirement: Requirement, field: GraphQLField<unknown, unknown> | null): string[] {
  const problems: string[] = [];
  if (requirement.scopes.length === 0) problems.push(`${label}: requires an empty list of scope sets`);
  for (const set of requirement.scopes) {
    if (set.length === 0) problems.push(`${label}: an empty scope set (would allow anyone)`);
    for (const scope of set) if (!isScopeName(scope)) problems.push(`${label}: unknown scope "${scope}"`);
  }
  if (requirement.groupArg !== undefined && (field === null || !namesAnArgument(field, requirement.groupArg))) {
    problems.push(`${label}: groupArg "${requirement.groupArg}" is not an argument`);
  }
  return problems;
}

/**
 * Every field that is not covered: root fields need their own @requiresScope or @public (a
 * type-wide directive on Query or Mutation would be too easy to widen by accident); other
 * fields may inherit their type's. Also reports requirements that could never be checked.
 */
function uncoveredFields(schema: GraphQLSchema): string[] {
  const roots = rootTypeNames(schema);
  const problems: string[] = [];
  for (const type of objectTypes(schema)) {
    const isRoot = roots.includes(type.name);
    const typeRequirement = isRoot ? undefined : requirementOf(schema, type);
    const typePublic = !isRoot && isPublic(schema, type);
    if (typeRequirement) problems.push(...problemsOf(type.name, typeRequirement, null));
    for (const field of Object.values(type.getFields())) {
      const label = `${type.name}.${field.name}`;
      const own = requirementOf(schema, field);
      if (own) problems.push(...problemsOf(label, own, field));
      if (!own && !isPublic(schema, field) && !typeRequirement && !typePublic) problems.push(`${label}: no @requiresScope or @public`);
    }
  }
  return problems;
}

const sdlSchema = (sdl: string) => makeExecutableSchema({ typeDefs: sdl });

describe('default deny: the schema walk', () => {
  it('finds a scope requirement or @public on every field of every object type', () => {
    expect(uncoveredFields(buildSchema())).toEqual([]);
  });

  it('walks every Query and Mutation field and every object type of the schema', () => {
    const schema = buildSchema();
    expect(Object.keys(schema.getQueryType()!.getFields()).length).toBeGreaterThanOrEqual(8);
    expect(Object.keys(schema.getMutationType()!.getFields()).length).toBeGreaterThanOrEqual(14);
    expect(objectTypes(schema).map((t) => t.name)).toEqual(expect.arrayContaining(['Group', 'User', 'Role', 'ApiKey', 'Viewer']));
  });

  it('only marks the viewer and what hangs off it as public', () => {
    const schema = buildSchema();
    const publicRootFields = rootTypeNames(schema).flatMap((name) =>
      Object.values(objectType(schema, name).getFields())
        .filter((f) => isPublic(schema, f))
        .map((f) => `${name}.${f.name}`),
    );
    expect(publicRootFields).toEqual(['Query.viewer']);
    expect(objectTypes(schema).filter((t) => isPublic(schema, t)).map((t) => t.name).sort()).toEqual(['Tenant', 'Viewer']);
  });

  it('reports a root field whose guard is removed', () => {
    const sdl = SDL.replace('role(id: ID!): Role @requiresScope(scopes: [["roles:read"]])', 'role(id: ID!): Role');
    expect(sdl).not.toBe(SDL);
    expect(uncoveredFields(sdlSchema(sdl))).toEqual(['Query.role: no @requiresScope or @public']);
  });

  it('reports a mutation whose guard is removed', () => {
    const sdl = SDL.replace(/(revokeApiKey\(id: ID!\): ApiKey!) @requiresScope\(scopes: \[\["apikeys:write"\]\]\)/, '$1');
    expect(sdl).not.toBe(SDL);
    expect(uncoveredFields(sdlSchema(sdl))).toEqual(['Mutation.revokeApiKey: no @requiresScope or @public']);
  });

  it('reports every field of an object type whose guard is removed', () => {
    const sdl = SDL.replace('type Role @requiresScope(scopes: [["roles:read"]]) {', 'type Role {');
    expect(sdl).not.toBe(SDL);
    expect(uncoveredFields(sdlSchema(sdl))).toEqual([
      'Role.id: no @requiresScope or @public',
      'Role.name: no @requiresScope or @public',
      'Role.description: no @requiresScope or @public',
    ]);
  });

  it('reports a new field added without a guard', () => {
    const sdl = SDL.replace('type Query {', 'type Query {\n  everything: String');
    expect(uncoveredFields(sdlSchema(sdl))).toEqual(['Query.everything: no @requiresScope or @public']);
  });

  it('reports requirements that would allow anyone or name unknown scopes or arguments', () => {
    const sdl = SDL.replace('roles: [Role!]! @requiresScope(scopes: [["roles:read"]])', 'roles: [Role!]! @requiresScope(scopes: [[]])')
      .replace('user(id: ID!): User @requiresScope(scopes: [["users:read"]])', 'user(id: ID!): User @requiresScope(scopes: [["users:admin"]])')
      .replace('groupArg: "input.parentId"', 'groupArg: "input.parent"');
    expect(uncoveredFields(sdlSchema(sdl)).sort()).toEqual([
      'Mutation.createGroup: groupArg "input.parent" is not an argument',
      'Query.roles: an empty scope set (would allow anyone)',
      'Query.user: unknown scope "users:admin"',
    ]);
  });
});

describe('default deny: descriptions', () => {
  const introspection = introspectionFromSchema(buildSchema());
  const schema = buildSchema();

  it("states each guarded field's scopes in its introspected description", () => {
    const missing: string[] = [];
    for (const type of introspection.__schema.types) {
      if (type.kind !== 'OBJECT' || type.name.startsWith('__')) continue;
      const owner = objectType(schema, type.name);
      for (const field of type.fields ?? []) {
        const source = owner.getFields()[field.name];
        const requirement = requirementOf(schema, source) ?? (isPublic(schema, source) ? undefined : requirementOf(schema, owner));
        const description = field.description ?? '';
        const wanted = requirement ? requirement.scopes.flat().map((s) => `\`${s}\``) : ['Public'];
        for (const word of wanted) if (!description.includes(word)) missing.push(`${type.name}.${field.name} lacks ${word}`);
      }
    }
    expect(missing).toEqual([]);
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
  const tenant: Tenant = { id: 1, slug: 'acme', name: 'Acme', createdAt: new Date() };

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
    const sdl = SDL.replace('apiKeys: [ApiKey!]! @requiresScope(scopes: [["apikeys:read"]])', 'apiKeys: [ApiKey!]!');
    expect(sdl).not.toBe(SDL);
    const result = await run(sdl, { Query: { apiKeys: resolve } }, '{ apiKeys { id } }');
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
    const sdl = SDL.replace('roles: [Role!]! @requiresScope(scopes: [["roles:read"]])', 'roles: [Role!]! @requiresScope(scopes: [[]])');
    expect(() => applyScopeDirective(makeExecutableSchema({ typeDefs: sdl, resolvers: resolvers as never }))).toThrow(/Query\.roles/);
  });

  it('refuses to build a schema whose requirement names an unknown scope', () => {
    const sdl = SDL.replace('roles: [Role!]! @requiresScope(scopes: [["roles:read"]])', 'roles: [Role!]! @requiresScope(scopes: [["roles:reed"]])');
    expect(() => applyScopeDirective(makeExecutableSchema({ typeDefs: sdl, resolvers: resolvers as never }))).toThrow(/roles:reed/);
  });

  it('refuses to build a schema whose groupArg names no argument (the check would silently target the top level)', () => {
    const sdl = SDL.replace('groupArg: "groupId")', 'groupArg: "group")');
    expect(sdl).not.toBe(SDL);
    expect(() => applyScopeDirective(makeExecutableSchema({ typeDefs: sdl, resolvers: resolvers as never }))).toThrow(/groupArg "group"/);
  });
});
