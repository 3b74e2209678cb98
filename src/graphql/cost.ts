// What a query could return, priced before it runs (GitHub's node limit, IBM's and Apollo's
// `@listSize`): objects count 1, scalars 0, and a list multiplies what is below it by its
// bound. A list's bound is its page-size argument (`slicingArguments`), or its declared
// maximum (`assumedSize`), which is enforced when it resolves so the price stays true.
import { MapperKind, getDirective, mapSchema } from '@graphql-tools/utils';
import {
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  defaultFieldResolver,
  getNamedType,
  getNullableType,
  isLeafType,
  isListType,
  isObjectType,
} from 'graphql';
import type { ComplexityEstimator } from 'graphql-query-complexity';
import { CodedError } from '../coded-error';
import { ValidationError } from '../domain/errors';
import { MAX_CONNECTION_PAGE } from '../domain/pages';
import type { GraphQLContext } from './context';
import { failLater } from './scope-directive';

/** A list field holding more than its declared maximum: that field fails, the rest of the query does not. */
export class ListTooLargeError extends CodedError {
  readonly code = 'LIST_TOO_LARGE' as const;
  constructor(label: string, count: number, maximum: number) {
    super(`${label} has ${count} items, more than the ${maximum} this field may return; read it a page at a time through a connection (first/after)`, {
      count,
      maximum,
    });
  }
}

interface ListSize {
  assumedSize: number | null;
  slicingArguments: string[];
  sizedFields: string[];
}

export interface CostModel {
  estimator: ComplexityEstimator;
}

function listSizeOf(schema: GraphQLSchema, field: GraphQLField<unknown, unknown>): ListSize | null {
  const directive = getDirective(schema, field, 'listSize')?.[0];
  if (!directive) return null;
  return { assumedSize: directive.assumedSize ?? null, slicingArguments: directive.slicingArguments ?? [], sizedFields: directive.sizedFields ?? [] };
}

const returnsList = (field: GraphQLField<unknown, unknown>) => isListType(getNullableType(field.type));
const returnsObjects = (field: GraphQLField<unknown, unknown>) => !isLeafType(getNamedType(field.type));

/** Every field's `@listSize`, checking that every list of objects has a bound. `overrides` replace assumed sizes (`Group.ancestors` follows MAX_GROUP_DEPTH). */
function collectListSizes(schema: GraphQLSchema, overrides: Record<string, number>): { sizes: Map<string, ListSize>; sizedByParent: Set<string> } {
  const sizes = new Map<string, ListSize>();
  const sizedByParent = new Set<string>();
  const types = Object.values(schema.getTypeMap()).filter((t) => isObjectType(t) && !t.name.startsWith('__'));
  for (const type of types) {
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const size = listSizeOf(schema, field);
      if (!size) continue;
      const label = `${type.name}.${field.name}`;
      sizes.set(label, label in overrides ? { ...size, assumedSize: overrides[label] } : size);
      for (const sized of size.sizedFields) sizedByParent.add(`${getNamedType(field.type).name}.${sized}`);
    }
  }
  for (const type of types) {
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const label = `${type.name}.${field.name}`;
      if (returnsList(field) && returnsObjects(field) && !sizes.has(label) && !sizedByParent.has(label)) {
        throw new Error(`${label} is a list without a bound: give it @listSize(assumedSize: …) or a page-size argument`);
      }
    }
  }
  return { sizes, sizedByParent };
}

/**
 * The number a slicing argument asks for: the largest one given (defaults included). A page size
 * below 0 or above the maximum is refused here, while pricing: a negative one would lower the price.
 */
function sliceOf(size: ListSize, args: Record<string, unknown>, label: string): number | null {
  const given: number[] = [];
  for (const name of size.slicingArguments) {
    const value = args[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_CONNECTION_PAGE) {
      throw new ValidationError(name, `${label}(${name}:) must be an integer between 0 and ${MAX_CONNECTION_PAGE}, got ${JSON.stringify(value)}`, {
        maximum: MAX_CONNECTION_PAGE,
      });
    }
    given.push(value);
  }
  return given.length > 0 ? Math.max(...given) : null;
}

/** Every field's `@cost(weight:)`, by `Type.field`: a price set by the work it does, not the objects it returns. */
function collectWeights(schema: GraphQLSchema): Map<string, number> {
  const weights = new Map<string, number>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const weight = getDirective(schema, field, 'cost')?.[0]?.weight;
      if (typeof weight === 'number') weights.set(`${type.name}.${field.name}`, weight);
    }
  }
  return weights;
}

export function costModel(schema: GraphQLSchema, overrides: Record<string, number> = {}): CostModel {
  const { sizes, sizedByParent } = collectListSizes(schema, overrides);
  const weights = collectWeights(schema);
  const estimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
    if (type.name.startsWith('__')) return 0;
    const label = `${type.name}.${field.name}`;
    const weight = weights.get(label);
    if (weight !== undefined) return weight + childComplexity;
    if (!returnsObjects(field)) return 0;
    const size = sizes.get(label);
    const count = size ? (sliceOf(size, args, label) ?? size.assumedSize ?? 1) : 1;
    if (sizedByParent.has(label)) return 1 + childComplexity; // its page field multiplied already
    // A page of 0 still answers its pageInfo and the like, priced once: hence at least one.
    if (size && size.sizedFields.length > 0) return 1 + Math.max(count, 1) * childComplexity;
    if (returnsList(field)) return count * (1 + childComplexity);
    return 1 + childComplexity;
  };
  return { estimator };
}

/** How many objects a resolved value is: a list's length, one object, or none. */
function objectsIn(value: unknown): number {
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + objectsIn(item), 0);
  return value === null || value === undefined ? 0 : 1;
}

/**
 * Enforces the price at run time. Lists that have no page-size argument are held to their
 * declared maximum, so their price is an upper bound; and every field that returns objects
 * counts them into the request's work, which stops the request once it passes its price
 * (src/edge/request-work.ts): the second line of defence if a price is ever wrong.
 */
export function enforcePrices(schema: GraphQLSchema, overrides: Record<string, number> = {}): GraphQLSchema {
  const { sizes } = collectListSizes(schema, overrides);
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => {
      if (isLeafType(getNamedType(field.type))) return field;
      const label = `${typeName}.${fieldName}`;
      const size = sizes.get(label);
      const maximum = size && size.slicingArguments.length === 0 ? size.assumedSize : null;
      const resolve = (field.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, GraphQLContext>;
      const counted = (value: unknown, ctx: GraphQLContext) => {
        if (maximum && Array.isArray(value) && value.length > maximum) throw new ListTooLargeError(label, value.length, maximum);
        ctx.work.countObjects(objectsIn(value));
        return value;
      };
      return {
        ...field,
        resolve: failLater((source, args, ctx: GraphQLContext, info) => {
          const value = resolve(source, args, ctx, info);
          return value instanceof Promise ? value.then((v) => counted(v, ctx)) : counted(value, ctx);
        }),
      };
    },
  });
}
