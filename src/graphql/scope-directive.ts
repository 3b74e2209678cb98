// Applies @requiresScope / @public to every field of the schema, once, when it is built.
// A field is guarded by its own directive, else by its type's; a field with neither is
// denied (default deny). The decisions themselves are src/policy/scopes.ts: `satisfies`, and
// OBJECT_RULES for what a type means to the scopes (a Group's path, one's own ApiKey).
import { MapperKind, getDirective, mapSchema } from '@graphql-tools/utils';
import {
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
  defaultFieldResolver,
  getNamedType,
  isInputObjectType,
  isObjectType,
} from 'graphql';
import { isVisible } from '../domain/context';
import { ForbiddenError } from '../domain/errors';
import { OBJECT_RULES, type ObjectRule, isScopeName, objectRuleOf, satisfies } from '../policy/scopes';
import type { GraphQLContext } from './context';

export type Requirement = string[][];

export interface FieldGuard {
  public: boolean;
  requirement: Requirement | null;
  groupArg: string | null;
}

const UNGUARDED: FieldGuard = { public: false, requirement: null, groupArg: null };

function rootTypeNames(schema: GraphQLSchema): string[] {
  return [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((t) => (t ? [t.name] : []));
}

/**
 * The guard that applies to a field of an object type: its own directive, else the same field's
 * on an interface the type implements, else its type's, else an interface type's, else none.
 * Root fields (Query, Mutation) never inherit: a type-wide directive there would be too easy to
 * widen by accident, so each carries its own.
 */
export function guardOf(schema: GraphQLSchema, typeName: string, fieldName: string): FieldGuard {
  const type = schema.getType(typeName) as GraphQLObjectType;
  const interfaces = type.getInterfaces();
  const fieldNodes = [type.getFields()[fieldName], ...interfaces.flatMap((i) => i.getFields()[fieldName] ?? [])];
  for (const node of fieldNodes) {
    const own = getDirective(schema, node, 'requiresScope')?.[0];
    if (own) return { public: false, requirement: own.scopes, groupArg: own.groupArg ?? null };
    if (getDirective(schema, node, 'public')?.[0]) return { public: true, requirement: null, groupArg: null };
  }
  if (rootTypeNames(schema).includes(typeName)) return UNGUARDED;
  for (const node of [type, ...interfaces]) {
    const typeReq = getDirective(schema, node, 'requiresScope')?.[0];
    if (typeReq) return { public: false, requirement: typeReq.scopes, groupArg: null };
    if (getDirective(schema, node, 'public')?.[0]) return { public: true, requirement: null, groupArg: null };
  }
  return UNGUARDED;
}

function objectTypes(schema: GraphQLSchema): GraphQLObjectType[] {
  return Object.values(schema.getTypeMap()).filter((t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith('__'));
}

/** The guard of every field of every object type of the schema, by `Type.field`. */
export function fieldGuards(schema: GraphQLSchema): Map<string, FieldGuard> {
  const guards = new Map<string, FieldGuard>();
  for (const type of objectTypes(schema)) {
    for (const field of Object.keys(type.getFields())) guards.set(`${type.name}.${field}`, guardOf(schema, type.name, field));
  }
  return guards;
}

/** Does `groupArg` ("input.parentId") name an argument, or a field of an input argument, of the field? */
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

/** Why a guard could not be checked as written: `[[]]` would even allow anyone. */
function uncheckable(label: string, guard: FieldGuard, field: GraphQLField<unknown, unknown>): string[] {
  const problems: string[] = [];
  const requirement = guard.requirement ?? [];
  if (guard.requirement?.length === 0) problems.push(`${label}: requires an empty list of scope sets`);
  if (requirement.some((set) => set.length === 0)) problems.push(`${label}: an empty scope set (would allow anyone)`);
  for (const scope of requirement.flat()) if (!isScopeName(scope)) problems.push(`${label}: unknown scope "${scope}"`);
  if (guard.groupArg && !namesAnArgument(field, guard.groupArg)) problems.push(`${label}: groupArg "${guard.groupArg}" is not an argument`);
  // Reads are never refused for a restriction: the domain filters them, so a group outside the
  // subtree is "not found" rather than a FORBIDDEN that would reveal it exists.
  if (guard.groupArg && label.startsWith('Query.')) problems.push(`${label}: groupArg is for mutations only`);
  return problems;
}

function unusableGuards(schema: GraphQLSchema, guards: Map<string, FieldGuard>): string[] {
  const problems = [...guards].flatMap(([label, guard]) => {
    const [typeName, fieldName] = label.split('.');
    return uncheckable(label, guard, (schema.getType(typeName) as GraphQLObjectType).getFields()[fieldName]);
  });
  for (const typeName of Object.keys(OBJECT_RULES)) {
    if (!isObjectType(schema.getType(typeName))) problems.push(`OBJECT_RULES names ${typeName}, which is not an object type of the schema`);
  }
  return problems;
}

/**
 * Everything wrong with the schema's guards: each field with none (denied to everyone at
 * runtime), and each requirement that could never be checked (the schema does not build).
 */
export function guardProblems(schema: GraphQLSchema): string[] {
  const guards = fieldGuards(schema);
  const unguarded = [...guards].filter(([, g]) => !g.public && !g.requirement).map(([label]) => `${label}: no @requiresScope or @public`);
  return [...unguarded, ...unusableGuards(schema, guards)];
}

export function describeRequirement(requirement: Requirement): string {
  const sets = requirement.map((set) => set.map((s) => `\`${s}\``).join(' and '));
  return sets.length === 1 ? `Requires scope ${sets[0]}.` : `Requires scope ${sets.join(', or ')}.`;
}

function argAt(args: Record<string, unknown>, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((value, key) => (value == null ? undefined : (value as Record<string, unknown>)[key]), args);
}

function deny(requirement: Requirement, label: string): never {
  throw new ForbiddenError(`not allowed: ${label} ${describeRequirement(requirement).toLowerCase()}`, requirement);
}

/**
 * The group a restricted scope is checked against: the object itself when its type is a group,
 * or the group named by `groupArg` (null = the top level). undefined: not group-specific,
 * or an id the resolver will reject itself (malformed, unknown, or a group the principal cannot read).
 */
async function targetPath(
  guard: FieldGuard,
  rule: ObjectRule,
  source: unknown,
  args: Record<string, unknown>,
  ctx: GraphQLContext,
): Promise<readonly number[] | null | undefined> {
  if (rule.groupPath) return rule.groupPath(source);
  if (!guard.groupArg) return undefined;
  const raw = argAt(args, guard.groupArg);
  if (raw === undefined || raw === null) return null;
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647) return undefined;
  const group = await ctx.loaders.groupForAuthorization.load(id);
  // A group it cannot read is left to the domain's "not found", the answer for an unknown id.
  return group && isVisible(ctx.domain.access, group.path) ? group.path : undefined;
}

/**
 * Past the request's deadline, or once its client is gone, no further field resolves. Now and
 * then a field waits for the event loop's next turn, so that a disconnect is heard mid-execution.
 */
function stoppable(resolve: GraphQLFieldResolver<unknown, GraphQLContext>): GraphQLFieldResolver<unknown, GraphQLContext> {
  return (source, args, ctx, info) => {
    ctx.work.check();
    if (!ctx.work.yieldDue()) return resolve(source, args, ctx, info);
    return ctx.work.nextTurn().then(() => {
      ctx.work.check();
      return resolve(source, args, ctx, info);
    });
  };
}

/**
 * A field fails by a rejected promise, never by a synchronous throw. graphql 16 leaves a sibling's
 * rejection unhandled when a list's items mix the two (an earlier item's field pending, a later
 * one's throwing: graphql-js#4643, fixed in 17), and an unhandled rejection ends the process.
 */
export function failLater<S, C>(resolve: GraphQLFieldResolver<S, C>): GraphQLFieldResolver<S, C> {
  return (source, args, ctx, info) => {
    try {
      return resolve(source, args, ctx, info);
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

function guardResolver(
  guard: FieldGuard,
  typeName: string,
  label: string,
  resolve: GraphQLFieldResolver<unknown, GraphQLContext>,
): GraphQLFieldResolver<unknown, GraphQLContext> {
  if (guard.public) return resolve;
  const requirement = guard.requirement;
  if (!requirement) {
    return () => {
      throw new ForbiddenError(`not allowed: ${label} declares no scope requirement`, []);
    };
  }
  const rule = objectRuleOf(typeName);
  if (guard.groupArg) {
    return async (source, args, ctx, info) => {
      const path = await targetPath(guard, rule, source, args, ctx);
      if (!satisfies(ctx.principal.grants, requirement, path)) deny(requirement, label);
      return resolve(source, args, ctx, info);
    };
  }
  return (source, args, ctx, info) => {
    const path = rule.groupPath?.(source);
    if (!satisfies(ctx.principal.grants, requirement, path) && !rule.readableBy?.(source, ctx.principal)) deny(requirement, label);
    return resolve(source, args, ctx, info);
  };
}

/** Guards every field; throws, naming each, if a requirement could never be checked. */
export function applyScopeDirective(schema: GraphQLSchema): GraphQLSchema {
  const guards = fieldGuards(schema);
  const problems = unusableGuards(schema, guards);
  if (problems.length > 0) throw new Error(`unusable @requiresScope: ${problems.join('; ')}`);
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      const label = `${typeName}.${fieldName}`;
      const guard = guards.get(label)!;
      const note = guard.public ? 'Public: any valid credential.' : guard.requirement ? describeRequirement(guard.requirement) : '';
      const guarded = (resolve: GraphQLFieldResolver<unknown, GraphQLContext>) => failLater(guardResolver(guard, typeName, label, stoppable(resolve)));
      return {
        ...field,
        description: [field.description, note].filter(Boolean).join('\n\n'),
        resolve: guarded((field.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, GraphQLContext>),
        // A subscription is refused when it starts, not only on each event it would deliver.
        ...(field.subscribe ? { subscribe: guarded(field.subscribe as GraphQLFieldResolver<unknown, GraphQLContext>) } : {}),
      };
    },
  });
}
