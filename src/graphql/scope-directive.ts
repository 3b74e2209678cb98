// Applies @requiresScope / @public to every field of the schema, once, when it is built.
// A field is guarded by its own directive, else by its type's; a field with neither is
// denied (default deny). The decision itself is src/auth/scopes.ts `satisfies`.
import { MapperKind, getDirective, mapSchema } from '@graphql-tools/utils';
import {
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  defaultFieldResolver,
  isObjectType,
} from 'graphql';
import { isScopeName, satisfies } from '../auth/scopes';
import { isVisible } from '../domain/context';
import { ForbiddenError } from '../domain/errors';
import type { Group } from '../generated/prisma/client';
import type { GraphQLContext } from './context';

export type Requirement = string[][];

export interface FieldGuard {
  public: boolean;
  requirement: Requirement | null;
  groupArg: string | null;
}

/**
 * The guard that applies to a field: its own directive, else the same field's on an interface
 * the type implements, else its type's, else an interface type's, else none.
 */
export function guardOf(schema: GraphQLSchema, typeName: string, fieldName: string, field: GraphQLFieldConfig<unknown, unknown>): FieldGuard {
  const type = schema.getType(typeName)!;
  const interfaces = isObjectType(type) ? type.getInterfaces() : [];
  const fieldNodes = [field, ...interfaces.flatMap((i) => i.getFields()[fieldName] ?? [])];
  for (const node of fieldNodes) {
    const own = getDirective(schema, node, 'requiresScope')?.[0];
    if (own) return { public: false, requirement: own.scopes, groupArg: own.groupArg ?? null };
    if (getDirective(schema, node, 'public')?.[0]) return { public: true, requirement: null, groupArg: null };
  }
  for (const node of [type, ...interfaces]) {
    const typeReq = getDirective(schema, node, 'requiresScope')?.[0];
    if (typeReq) return { public: false, requirement: typeReq.scopes, groupArg: null };
    if (getDirective(schema, node, 'public')?.[0]) return { public: true, requirement: null, groupArg: null };
  }
  return { public: false, requirement: null, groupArg: null };
}

export function describeRequirement(requirement: Requirement): string {
  const sets = requirement.map((set) => set.map((s) => `\`${s}\``).join(' and '));
  return sets.length === 1 ? `Requires scope ${sets[0]}.` : `Requires scope ${sets.join(', or ')}.`;
}

function argAt(args: Record<string, unknown>, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((value, key) => (value == null ? undefined : (value as Record<string, unknown>)[key]), args);
}

function deny(requirement: Requirement, fieldName: string): never {
  throw new ForbiddenError(`not allowed: ${fieldName} ${describeRequirement(requirement).toLowerCase()}`, requirement);
}

/**
 * The group a restricted scope is checked against: the object itself for fields of Group,
 * or the group named by `groupArg` (null = the top level). undefined: not group-specific,
 * or an id the resolver will reject itself (malformed, unknown, or a group the principal cannot read).
 */
async function targetPath(
  guard: FieldGuard,
  typeName: string,
  source: unknown,
  args: Record<string, unknown>,
  ctx: GraphQLContext,
): Promise<readonly number[] | null | undefined> {
  if (typeName === 'Group') return (source as Group).path;
  if (!guard.groupArg) return undefined;
  const raw = argAt(args, guard.groupArg);
  if (raw === undefined || raw === null) return null;
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647) return undefined;
  const group = await ctx.loaders.groupForAuthorization.load(id);
  // A group it cannot read is left to the domain's "not found", the answer for an unknown id.
  return group && isVisible(ctx.domain.access, group.path) ? group.path : undefined;
}

function isOwnKey(typeName: string, source: unknown, ctx: GraphQLContext): boolean {
  return typeName === 'ApiKey' && ctx.principal.apiKey !== null && (source as { id: number }).id === ctx.principal.apiKey.id;
}

/** A requirement that cannot be checked is a schema bug: `[[]]` would even allow anyone. */
function assertCheckable(label: string, guard: FieldGuard, field: GraphQLFieldConfig<unknown, unknown>): void {
  const requirement = guard.requirement;
  if (requirement && (requirement.length === 0 || requirement.some((set) => set.length === 0))) {
    throw new Error(`@requiresScope on ${label} has an empty scope set`);
  }
  const unknown = (requirement ?? []).flat().filter((scope) => !isScopeName(scope));
  if (unknown.length > 0) throw new Error(`@requiresScope on ${label} names unknown scopes: ${unknown.join(', ')}`);
  if (guard.groupArg && !(guard.groupArg.split('.')[0] in (field.args ?? {}))) {
    throw new Error(`@requiresScope on ${label} has groupArg "${guard.groupArg}", which is not an argument`);
  }
  // Reads are never refused for a restriction: the domain filters them, so a group outside the
  // subtree is "not found" rather than a FORBIDDEN that would reveal it exists.
  if (guard.groupArg && label.startsWith('Query.')) {
    throw new Error(`@requiresScope on ${label}: groupArg is for mutations only`);
  }
}

/** Past the request's deadline, or once its client is gone, no further field resolves. */
function stoppable(resolve: GraphQLFieldResolver<unknown, GraphQLContext>): GraphQLFieldResolver<unknown, GraphQLContext> {
  return (source, args, ctx, info) => {
    ctx.work.check();
    return resolve(source, args, ctx, info);
  };
}

function guardResolver(
  guard: FieldGuard,
  typeName: string,
  fieldName: string,
  resolve: GraphQLFieldResolver<unknown, GraphQLContext>,
): GraphQLFieldResolver<unknown, GraphQLContext> {
  const label = `${typeName}.${fieldName}`;
  if (guard.public) return resolve;
  const requirement = guard.requirement;
  if (!requirement) {
    return () => {
      throw new ForbiddenError(`not allowed: ${label} declares no scope requirement`, []);
    };
  }
  if (guard.groupArg) {
    return async (source, args, ctx, info) => {
      const path = await targetPath(guard, typeName, source, args, ctx);
      if (!satisfies(ctx.principal.grants, requirement, path)) deny(requirement, label);
      return resolve(source, args, ctx, info);
    };
  }
  return (source, args, ctx, info) => {
    const path = typeName === 'Group' ? (source as Group).path : undefined;
    if (!satisfies(ctx.principal.grants, requirement, path) && !isOwnKey(typeName, source, ctx)) deny(requirement, label);
    return resolve(source, args, ctx, info);
  };
}

export function applyScopeDirective(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const guard = guardOf(schema, typeName, fieldName, field);
      assertCheckable(`${typeName}.${fieldName}`, guard, field);
      const note = guard.public ? 'Public: any valid credential.' : guard.requirement ? describeRequirement(guard.requirement) : '';
      return {
        ...field,
        description: [field.description, note].filter(Boolean).join('\n\n'),
        resolve: guardResolver(guard, typeName, fieldName, stoppable((field.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, GraphQLContext>)),
      };
    },
  });
}
