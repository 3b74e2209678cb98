// Queries are priced and refused before they run: depth, aliases and directives per document at
// validation (GraphQL Armor's rules, on the whole document whichever operation runs), tokens while
// parsing (graphql's `maxTokens`), and the cost (graphql-query-complexity with the `@listSize`
// model of ./cost.ts) of the one operation that runs (./operations.ts: the one `operationName`
// names) once its variables are known, before any resolver. The same plugin charges the
// credential's rate-limit budget and reports it in the response.
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type ValidationContext,
  type ValidationRule,
  getVariableValues,
} from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import type { QueryLimits } from '../config';
import { DomainError, ValidationError } from '../domain/errors';
import { checkInputBounds } from '../domain/validate';
import { QueryTooComplexError, RateLimitedError, ServiceError } from '../edge/errors';
import { type KnownError, httpAnswer, isKnown, knownError } from '../edge/failures';
import type { Metrics, RefusalReason } from '../edge/metrics';
import { type RateLimits, pointsForCost } from '../edge/traffic';
import type { GraphQLContext } from './context';
import type { CostModel } from './cost';
import { INTROSPECTION_DISABLED_MESSAGE, errorEntry, refusal } from './errors';
import { onlyOperation, selectOperation } from './operations';

/** The onReject of a GraphQL Armor rule: counted, and reported with our code and its maximum. */
function ruleRefusal(metrics: Metrics, reason: RefusalReason, code: string, maximum: number) {
  return (context: ValidationContext | null, error: GraphQLError) => {
    metrics.refused(reason);
    context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code, maximum } }));
  };
}

/** A string literal in the document is held to the bounds of any input (checkInputBounds): length, no control characters. */
function stringLiteralRule(metrics: Metrics): ValidationRule {
  return (context) => ({
    StringValue(node) {
      try {
        checkInputBounds(node.value, 'a string argument');
      } catch (error) {
        metrics.refused('input');
        const { message, details } = error as ValidationError;
        context.reportError(new GraphQLError(message, { nodes: [node], extensions: { code: 'BAD_USER_INPUT', ...details } }));
      }
    },
  });
}

/** With introspection off (GRAPHQL_INTROSPECTION), `__schema` and `__type` are refused; `__typename` is not introspection. */
function noIntrospectionRule(): ValidationRule {
  return (context) => ({
    Field(node) {
      if (node.name.value !== '__schema' && node.name.value !== '__type') return;
      context.reportError(new GraphQLError(INTROSPECTION_DISABLED_MESSAGE, { nodes: [node], extensions: { code: 'INTROSPECTION_DISABLED' } }));
    },
  });
}

/** The rules of every document, over HTTP (Apollo's own introspection rule is off: this one says what to set) and WebSocket alike. */
export function validationRules(limits: QueryLimits, metrics: Metrics): ValidationRule[] {
  const quiet = { propagateOnRejection: false, exposeLimits: true };
  return [
    ...(limits.introspection ? [] : [noIntrospectionRule()]),
    stringLiteralRule(metrics),
    maxDepthRule({ ...quiet, n: limits.maxDepth, flattenFragments: true, onReject: [ruleRefusal(metrics, 'depth', 'QUERY_TOO_DEEP', limits.maxDepth)] }),
    maxAliasesRule({ ...quiet, n: limits.maxAliases, onReject: [ruleRefusal(metrics, 'aliases', 'TOO_MANY_ALIASES', limits.maxAliases)] }),
    maxDirectivesRule({ ...quiet, n: limits.maxDirectives, onReject: [ruleRefusal(metrics, 'directives', 'TOO_MANY_DIRECTIVES', limits.maxDirectives)] }),
  ] as ValidationRule[];
}

/** True when no field produced data: every top-level value is null, or there is no data at all. */
function noData(data: Record<string, unknown> | null | undefined): boolean {
  return !data || Object.values(data).every((value) => value === null);
}

/**
 * The failure of the request itself rather than of a field (its credential, its share, the
 * database, its deadline or price): the reason its work was stopped, or the first such error.
 */
function requestFailure(work: { readonly signal: AbortSignal }, errors: readonly GraphQLError[] | undefined): KnownError | null {
  if (work.signal.reason instanceof ServiceError) return work.signal.reason;
  for (const error of errors ?? []) {
    const known = knownError(unwrapResolverError(error));
    if (known && !(known instanceof DomainError)) return known;
  }
  return null;
}

/** The node budget graphql-query-complexity walks before giving up (fragments expanded); past it the query is refused. */
const MAX_PRICED_NODES = 10_000;

/**
 * What an operation of the document could return with these variables (that operation alone, with the fragments it spreads) (bounded by checkInputBounds first, at each
 * transport), or the refusal that says why it may not run. Pricing fails closed: variables that do not coerce, a page size out of range, a document
 * too large to price, or anything else that stops pricing is a refusal, never a pass.
 */
export function priceOperation(
  schema: GraphQLSchema,
  cost: CostModel,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | null | undefined,
): number {
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 10 });
  if (coerced.errors) {
    throw new ValidationError('variables', coerced.errors.map((e) => e.message).join('; '));
  }
  try {
    return getComplexity({
      estimators: [cost.estimator],
      schema,
      query: onlyOperation(document, operation),
      variables: variables ?? {},
      maxQueryNodes: MAX_PRICED_NODES,
    });
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    if (error instanceof GraphQLError && /maximum allowed number of nodes/.test(error.message)) {
      throw new QueryTooComplexError(
        `query too complex: it selects more than ${MAX_PRICED_NODES} fields once its fragments are expanded; send a smaller document`,
        { maximum: MAX_PRICED_NODES },
      );
    }
    // An argument that does not coerce (a null where one is required, say): the request is at fault.
    if (error instanceof GraphQLError) throw new ValidationError('arguments', error.message);
    throw new QueryTooComplexError('query too complex: it could not be priced, so it does not run', {});
  }
}

export interface LimitsPluginOptions {
  schema: GraphQLSchema;
  limits: QueryLimits;
  cost: CostModel;
  rateLimits: RateLimits;
  metrics: Metrics;
}

/**
 * Prices computed before, by document, operation and variables: Apollo hands every request of the same query
 * text the same parsed document (its document store), and a client repeating a query repeats its
 * variables, so pricing runs once instead of on every request (it was 4% of a small query's CPU).
 */
class CostCache {
  private readonly byDocument = new WeakMap<DocumentNode, Map<string, number>>();
  private static readonly PER_DOCUMENT = 64;

  of(document: DocumentNode, operation: OperationDefinitionNode, variables: unknown, price: () => number): number {
    let prices = this.byDocument.get(document);
    if (!prices) this.byDocument.set(document, (prices = new Map()));
    // A document of several operations has a price for each: the one that runs is part of the key.
    const key = JSON.stringify([operation.name?.value ?? null, variables ?? null]);
    const known = prices.get(key);
    if (known !== undefined) return known;
    const nodes = price();
    if (prices.size >= CostCache.PER_DOCUMENT) prices.delete(prices.keys().next().value!);
    prices.set(key, nodes);
    return nodes;
  }
}

export function limitsPlugin(options: LimitsPluginOptions): ApolloServerPlugin<GraphQLContext> {
  const { schema, limits, cost, rateLimits, metrics } = options;
  const costs = new CostCache();
  return {
    async requestDidStart({ contextValue }) {
      const work = contextValue.work;
      let charged = false;
      const charge = async (points: number) => {
        charged = true;
        work.budget = await rateLimits.charge(work.credential!, points);
      };
      return {
        async didResolveOperation({ request, document }) {
          let operation: OperationDefinitionNode;
          try {
            // Apollo's own pick (the same rule), refused here with our codes when there is none.
            operation = selectOperation(document, request.operationName);
          } catch (error) {
            metrics.refused('operations');
            await charge(1);
            throw refusal(isKnown(error) ? error : new QueryTooComplexError('the operation to run could not be chosen, so none runs', {}));
          }
          work.operationName = operation.name?.value ?? null;
          const first = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD);
          work.operationField = `${operation.operation} ${first?.kind === Kind.FIELD ? first.name.value : ''}`.trim();
          let nodes: number;
          try {
            // Bounded before the cache or pricing reads them (POST and GET alike: GET's are parsed by Apollo).
            checkInputBounds(request.variables, 'variables');
            nodes = costs.of(document, operation, request.variables, () => priceOperation(schema, cost, document, operation, request.variables));
          } catch (error) {
            const refused = error as ValidationError | QueryTooComplexError;
            metrics.refused(refused.code === 'BAD_USER_INPUT' ? 'input' : 'cost');
            await charge(1);
            throw refusal(refused);
          }
          work.cost = nodes;
          work.objectBudget = Math.min(nodes, limits.maxCost);
          metrics.queryCost.observe(nodes);
          if (nodes > limits.maxCost) {
            metrics.refused('cost');
            await charge(1);
            throw refusal(
              new QueryTooComplexError(
                `query too complex: it could return ${nodes} objects, more than the ${limits.maxCost} allowed; ask for smaller pages or fewer nested lists`,
                { cost: nodes, maximum: limits.maxCost },
              ),
            );
          }
          try {
            await charge(pointsForCost(nodes));
          } catch (error) {
            if (!(error instanceof RateLimitedError)) throw error;
            metrics.refused('rate');
            throw refusal(error);
          }
        },

        async willSendResponse({ response, errors }) {
          if (!charged && work.credential) await charge(1).catch(() => undefined); // refused before pricing: counts as 1
          if (response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          const stopped = work.signal.reason;
          if (work.timedOut || stopped instanceof QueryTooComplexError) {
            metrics.refused(work.timedOut ? 'timeout' : 'objects');
            result.data = null;
            result.errors = [errorEntry(stopped)];
          }
          if (work.cost !== null && work.budget) {
            const { limit, remaining, used, resetAt } = work.budget;
            result.extensions = {
              ...result.extensions,
              rateLimit: { cost: pointsForCost(work.cost), queryCost: work.cost, objects: work.objects, maxQueryCost: limits.maxCost, limit, remaining, used, resetAt: resetAt.toISOString() },
            };
          }
          const failure = requestFailure(work, errors);
          if (failure && noData(result.data)) {
            const { status, headers } = httpAnswer(failure);
            response.http.status = status;
            for (const [name, value] of Object.entries(headers)) response.http.headers.set(name, value);
          }
          if (result.errors?.some((e) => e.extensions?.code === 'UNAVAILABLE')) metrics.databaseErrors.inc();
        },
      };
    },
  };
}
