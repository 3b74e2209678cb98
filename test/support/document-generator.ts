// Random GraphQL documents for property tests, built by walking the schema: queries and
// subscriptions of random depth (past the depth limit at times), aliases (past the alias limit at
// times), inline and named fragments including the fragment-chain attack, and arguments from edge
// values, written inline or passed as variables that may be null, missing or of the wrong type.
// Never mutations. Every document parses, and the printer aliases clashing fields so that it also
// validates: what refuses a document is a limit, a bad value (a variable, a page size, a cursor, an
// id) or, on purpose, a DateTime literal that is not a date.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  buildSchema,
  getNamedType,
  isAbstractType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
} from 'graphql';

export interface KnownIds {
  groupIds: string[];
  userIds: string[];
  roleIds: string[];
  /** Cursors the server handed out, for `after` and `before` (among invented ones). */
  cursors?: string[];
}

export interface GeneratedDocument {
  query: string;
  variables: Record<string, unknown> | null;
  kind: 'query' | 'subscription';
}

export function readSchema(path = join(__dirname, '../../schema.graphql')): GraphQLSchema {
  return buildSchema(readFileSync(path, 'utf8'));
}

/** Documents over `schema`'s Query and Subscription roots, naming the ids given among invented ones. */
export function documents(schema: GraphQLSchema, ids: KnownIds): fc.Arbitrary<GeneratedDocument> {
  const walker = new Walker(schema, ids);
  return fc
    .oneof({ arbitrary: walker.query(), weight: 9 }, { arbitrary: walker.subscription(), weight: 1 })
    .map((operation) => new Printer().print(operation));
}

// ---- What is generated: a document before it is printed ----

/** An input value, as a literal in the document and as JSON in the variables. */
interface Value {
  literal: string;
  json: unknown;
}

type ArgValue =
  | { kind: 'literal'; value: Value }
  /** `given` null: the variable is left out of the variables object. */
  | { kind: 'variable'; type: string; defaultValue: Value | null; given: { json: unknown } | null };

interface Arg {
  name: string;
  value: ArgValue;
}

interface Field {
  kind: 'field';
  /** The type the field is selected on: two types' fields of one name are different fields. */
  on: string;
  name: string;
  args: Arg[];
  selections: Selection[] | null;
}

type Selection =
  | Field
  /** `count` copies of the variants in turn, each under an alias of its own. */
  | { kind: 'aliased'; variants: Field[]; count: number }
  | { kind: 'inline'; typeCondition: string | null; directive: string | null; selections: Selection[] }
  | { kind: 'spread'; fragment: Fragment };

interface Fragment {
  typeName: string;
  selections: Selection[];
}

interface Operation {
  kind: 'query' | 'subscription';
  selections: Selection[];
  /** What to send when no variable has a value: `null` or `{}`. */
  noVariablesAsNull: boolean;
}

// ---- Values ----

const PAGE_SIZES = [0, 1, 5, 100];
/** Page sizes the server must refuse (at most 100, never below 0). */
const BAD_PAGE_SIZES = [101, -1, -2_000_000_000, 2_147_483_647];
const INVENTED_IDS = ['0', '-1', 'abc', '99999999'];
const STRINGS = ['', 'a\u0000b', 'Engineering', '%', '_', '\\', "o'neil", 'Ünïcødé ✓'];
const LONG_STRING = 'x'.repeat(5000);
const DATES = ['2024-01-01T00:00:00Z', '2999-12-31T23:59:59.999Z', 'yesterday', ''];

/** An array nested 1,000 deep: what a JSON parser or a coercion walking it recursively has to survive. */
const DEEP_ARRAY = (() => {
  let value: unknown = 'x';
  for (let i = 0; i < 1000; i += 1) value = [value];
  return value;
})();

/** Variable values that are wrong for most types. */
const WRONG_VALUES: unknown[] = ['five', 3.5, 2_147_483_648, true, {}, [], { nested: { deeper: [1] } }, DEEP_ARRAY];

const NULL: Value = { literal: 'null', json: null };

const literalOf = (json: unknown): Value => ({ literal: typeof json === 'string' ? JSON.stringify(json) : String(json), json });

class Walker {
  private readonly selectionMemo = new Map<string, fc.Arbitrary<Selection[]>>();
  private readonly fieldMemo = new Map<string, fc.Arbitrary<Field>>();
  private readonly reachMemo = new Map<string, number>();
  private chain: fc.Arbitrary<Selection> | null = null;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly ids: KnownIds,
  ) {}

  /** Depth 1 to 14 (the limit is 12); shrinks towards shallow documents. */
  query(): fc.Arbitrary<Operation> {
    const root = this.schema.getQueryType()!;
    const byDepth = Array.from({ length: 14 }, (_, i) => this.selections(root, i + 1));
    return fc.record({
      kind: fc.constant('query' as const),
      selections: fc.oneof({ withCrossShrink: true }, ...byDepth, this.chainAttack(root)),
      noVariablesAsNull: fc.boolean(),
    });
  }

  /** One root field (a subscription may have no more), 1 to 14 levels deep in all. */
  subscription(): fc.Arbitrary<Operation> {
    const root = this.schema.getSubscriptionType()!;
    const fields = Object.values(root.getFields());
    const byDepth = Array.from({ length: 14 }, (_, i) => fc.oneof(...fields.map((f) => this.field(root, f, i))));
    return fc.record({
      kind: fc.constant('subscription' as const),
      selections: fc.oneof({ withCrossShrink: true }, ...byDepth).map((field) => [field]),
      noVariablesAsNull: fc.boolean(),
    });
  }

  /** The deepest a selection from `type` can go, counting its own level; cycles count as unbounded. */
  private reach(type: GraphQLNamedType, visiting = new Set<string>()): number {
    const known = this.reachMemo.get(type.name);
    if (known !== undefined) return known;
    if (!isCompositeType(type)) return 0;
    if (visiting.has(type.name)) return Infinity;
    visiting.add(type.name);
    const children = this.possibleChildren(type).map((t) => this.reach(t, visiting));
    visiting.delete(type.name);
    const reach = 1 + Math.max(0, ...children);
    if (visiting.size === 0) this.reachMemo.set(type.name, reach);
    return reach;
  }

  private possibleChildren(type: GraphQLCompositeType): GraphQLNamedType[] {
    if (isAbstractType(type)) return [...this.schema.getPossibleTypes(type)];
    return Object.values(type.getFields()).map((f) => getNamedType(f.type));
  }

  private fieldsOf(type: GraphQLCompositeType): GraphQLField<unknown, unknown>[] {
    return 'getFields' in type ? Object.values(type.getFields()) : [];
  }

  /**
   * A selection set on `type` exactly `depth` levels deep (or as deep as the type allows): one
   * field goes all the way down, and a few shallow extras sit beside it.
   */
  private selections(type: GraphQLCompositeType, depth: number): fc.Arbitrary<Selection[]> {
    const levels = Math.max(1, Math.min(depth, this.reach(type)));
    const key = `${type.name}:${levels}`;
    const known = this.selectionMemo.get(key);
    if (known) return known;
    let arbitrary: fc.Arbitrary<Selection[]>;
    if (levels === 1) {
      arbitrary = fc.array(this.leaf(type), { minLength: 1, maxLength: 3 });
    } else {
      const spine = isAbstractType(type)
        ? fc.constantFrom(...this.schema.getPossibleTypes(type)).chain((member) => this.selections(member, levels).map((s) => this.inline(member.name, s)))
        : fc.oneof(
            ...this.fieldsOf(type)
              .filter((f) => this.reach(getNamedType(f.type)) >= levels - 1)
              .map((f) => this.field(type, f, levels - 1)),
          );
      arbitrary = fc
        .tuple(spine, fc.array(this.extra(type, levels), { maxLength: 3 }), fc.nat())
        .map(([main, extras, at]) => {
          const all = [...extras];
          all.splice(at % (extras.length + 1), 0, main);
          return all;
        });
    }
    this.selectionMemo.set(key, arbitrary);
    return arbitrary;
  }

  private inline(typeCondition: string | null, selections: Selection[], directive: string | null = null): Selection {
    return { kind: 'inline', typeCondition, directive, selections };
  }

  /** A scalar field of `type` (with its arguments, if any), or `__typename`. */
  private leaf(type: GraphQLCompositeType): fc.Arbitrary<Field> {
    const leaves = this.fieldsOf(type).filter((f) => !isCompositeType(getNamedType(f.type)));
    const typename = fc.constant<Field>({ kind: 'field', on: type.name, name: '__typename', args: [], selections: null });
    return leaves.length === 0 ? typename : fc.oneof({ arbitrary: typename, weight: 1 }, { arbitrary: fc.oneof(...leaves.map((f) => this.field(type, f, 0))), weight: 4 });
  }

  /** What sits beside the deep field of a selection set `levels` deep: always shallower. */
  private extra(type: GraphQLCompositeType, levels: number): fc.Arbitrary<Selection> {
    const shallow = Math.min(2, levels - 1);
    const composite = this.fieldsOf(type).filter((f) => isCompositeType(getNamedType(f.type)));
    const anyField = fc.oneof(this.leaf(type), ...composite.map((f) => this.field(type, f, shallow)));
    // Aliased copies select only scalars below them: copies of copies would multiply the document's size.
    const copyable = fc.oneof(this.leaf(type), ...composite.map((f) => this.field(type, f, 1)));
    const options: fc.WeightedArbitrary<Selection>[] = [
      { arbitrary: this.leaf(type), weight: 4 },
      { arbitrary: anyField, weight: 2 },
      {
        arbitrary: fc
          .record({
            typeCondition: fc.constantFrom(null, type.name),
            directive: fc.constantFrom(null, null, '@skip(if: true)', '@include(if: false)', '@include(if: true)'),
            selections: this.selections(type, shallow),
          })
          .map(({ typeCondition, directive, selections }) => this.inline(typeCondition, selections, directive)),
        weight: 1,
      },
      { arbitrary: this.selections(type, shallow).map((selections) => ({ kind: 'spread' as const, fragment: { typeName: type.name, selections } })), weight: 1 },
      {
        arbitrary: fc
          .record({ variants: fc.array(copyable, { minLength: 1, maxLength: 3 }), count: fc.oneof({ arbitrary: fc.integer({ min: 2, max: 4 }), weight: 3 }, { arbitrary: fc.integer({ min: 2, max: 40 }), weight: 1 }) })
          .map(({ variants, count }) => ({ kind: 'aliased' as const, variants, count })),
        weight: 1,
      },
    ];
    // The chain's bottom is four levels deep (a page, its nodes, two levels below them).
    if (type.name === 'Group' && levels >= 4) options.push({ arbitrary: this.fragmentChain(), weight: 1 });
    return fc.oneof(...options);
  }

  /** `field` of `parent` with arguments, and a selection set `childLevels` deep if it returns objects. */
  private field(parent: GraphQLCompositeType, field: GraphQLField<unknown, unknown>, childLevels: number): fc.Arbitrary<Field> {
    const key = `${parent.name}.${field.name}:${childLevels}`;
    const known = this.fieldMemo.get(key);
    if (known) return known;
    const child = getNamedType(field.type);
    const arbitrary = fc
      .record({
        args: this.args(field),
        selections: isCompositeType(child) ? this.below(child, childLevels) : fc.constant(null),
      })
      .map(({ args, selections }): Field => ({ kind: 'field', on: parent.name, name: field.name, args, selections }));
    this.fieldMemo.set(key, arbitrary);
    return arbitrary;
  }

  /** Mostly `levels` deep; scalars alone at times, which is also what shrinking tries first. */
  private below(type: GraphQLCompositeType, levels: number): fc.Arbitrary<Selection[] | null> {
    if (levels <= 1) return this.selections(type, 1);
    return fc.oneof({ withCrossShrink: true }, { arbitrary: this.selections(type, 1), weight: 1 }, { arbitrary: this.selections(type, levels), weight: 20 });
  }

  private args(field: GraphQLField<unknown, unknown>): fc.Arbitrary<Arg[]> {
    const each = field.args.map((arg) => {
      const given = this.arg(field, arg);
      const required = isNonNullType(arg.type) && arg.defaultValue === undefined;
      // Left out two times in three: every argument given at once is mostly a refusal (first with last, bad cursors).
      return required ? given : fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(null), weight: 2 }, { arbitrary: given, weight: 1 });
    });
    return fc.tuple(...each).map((args) => args.filter((a): a is Arg => a !== null));
  }

  private arg(field: GraphQLField<unknown, unknown>, arg: GraphQLArgument): fc.Arbitrary<Arg> {
    const values = this.values(arg.type, field.name, arg.name);
    const literal = values.map((value): ArgValue => ({ kind: 'literal', value }));
    const variable = fc
      .record({
        defaultValue: fc.option(values, { nil: null }),
        given: fc.oneof(
          { arbitrary: values.map((v) => ({ json: v.json })), weight: 3 },
          { arbitrary: fc.constant({ json: null }), weight: 1 },
          { arbitrary: fc.constant(null), weight: 1 },
          { arbitrary: fc.constantFrom(...WRONG_VALUES).map((json) => ({ json })), weight: 1 },
        ),
      })
      .map(({ defaultValue, given }): ArgValue => ({ kind: 'variable', type: String(arg.type), defaultValue, given }));
    return fc.oneof({ arbitrary: literal, weight: 3 }, { arbitrary: variable, weight: 1 }).map((value) => ({ name: arg.name, value }));
  }

  /** Values of an input type, ordinary and edge ones; `fieldName`/`argName` pick which ids (and cursors) fit. */
  private values(type: GraphQLInputType, fieldName: string, argName: string): fc.Arbitrary<Value> {
    if (isNonNullType(type)) return this.values(type.ofType, fieldName, argName).filter((v) => v.json !== null);
    const nullable = (inner: fc.Arbitrary<Value>) => fc.oneof({ arbitrary: inner, weight: 5 }, { arbitrary: fc.constant(NULL), weight: 1 });
    if (isListType(type)) {
      const items = fc.array(this.values(type.ofType, fieldName, argName), { maxLength: 3 });
      return nullable(items.map((list) => ({ literal: `[${list.map((v) => v.literal).join(', ')}]`, json: list.map((v) => v.json) })));
    }
    if (isEnumType(type)) return nullable(fc.constantFrom(...type.getValues().map((v) => ({ literal: v.name, json: v.name }))));
    if (isInputObjectType(type)) {
      const fields = Object.values(type.getFields()).map((f) => {
        const value = this.values(f.type, fieldName, f.name).map((v) => [f.name, v] as const);
        return isNonNullType(f.type) && f.defaultValue === undefined ? value : fc.option(value, { nil: null });
      });
      const object = fc.tuple(...fields).map((entries) => {
        const given = entries.filter((e): e is readonly [string, Value] => e !== null);
        return {
          literal: `{${given.map(([name, v]) => `${name}: ${v.literal}`).join(', ')}}`,
          json: Object.fromEntries(given.map(([name, v]) => [name, v.json])),
        };
      });
      return nullable(object);
    }
    return nullable(this.scalar(type.name, fieldName, argName).map(literalOf));
  }

  private scalar(typeName: string, fieldName: string, argName: string): fc.Arbitrary<unknown> {
    switch (typeName) {
      case 'Int':
        return fc.oneof({ arbitrary: fc.constantFrom(...PAGE_SIZES), weight: 3 }, { arbitrary: fc.constantFrom(...BAD_PAGE_SIZES), weight: 1 });
      case 'Float':
        return fc.constantFrom(0, 1.5, -1, 1e300);
      case 'Boolean':
        return fc.boolean();
      case 'ID':
        return fc.constantFrom(...this.idsFor(fieldName, argName), ...INVENTED_IDS);
      case 'DateTime':
        return fc.constantFrom(...DATES);
      case 'String':
        if ((argName === 'after' || argName === 'before') && this.ids.cursors?.length) {
          return fc.oneof({ arbitrary: fc.constantFrom(...this.ids.cursors), weight: 2 }, { arbitrary: this.text(), weight: 1 });
        }
        return this.text();
      default:
        return this.text();
    }
  }

  private text(): fc.Arbitrary<string> {
    return fc.oneof({ arbitrary: fc.constantFrom(...STRINGS), weight: 4 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 2 }, { arbitrary: fc.constant(LONG_STRING), weight: 1 });
  }

  /** Real ids of the kind an argument names (`user(id:)`, `parentId`, `root`…), with groups as the default. */
  private idsFor(fieldName: string, argName: string): string[] {
    const named = argName === 'id' ? fieldName : argName;
    const ids = /user/i.test(named) ? this.ids.userIds : /role/i.test(named) ? this.ids.roleIds : this.ids.groupIds;
    return ids.length > 0 ? ids : INVENTED_IDS;
  }

  /**
   * The known attack: fragments F1…Fn, each spreading the one before it `fanout` times, with a
   * heavy selection at the bottom (full pages of descendants, children, inherited members); most
   * often four fragments of ten spreads.
   */
  private fragmentChain(): fc.Arbitrary<Selection> {
    this.chain ??= this.buildFragmentChain();
    return this.chain;
  }

  private buildFragmentChain(): fc.Arbitrary<Selection> {
    const group = this.schema.getType('Group');
    if (!isObjectType(group)) return fc.constant<Selection>({ kind: 'field', on: 'Query', name: '__typename', args: [], selections: null });
    const fullPage = (name: string, extra: Arg[] = []): fc.Arbitrary<Field> => {
      const connection = getNamedType(group.getFields()[name].type) as GraphQLObjectType;
      const node = getNamedType(connection.getFields().nodes.type) as GraphQLObjectType;
      return this.selections(node, 2).map((nodes) => ({
        kind: 'field',
        on: group.name,
        name,
        args: [...extra, literalArg('first', 100)],
        selections: [{ kind: 'field', on: connection.name, name: 'nodes', args: [], selections: nodes }],
      }));
    };
    const bottom = fc.array(fc.oneof(fullPage('descendants'), fullPage('children'), fullPage('members', [literalArg('inherited', true)])), { minLength: 1, maxLength: 2 });
    return fc
      .record({
        length: fc.oneof(fc.constant(4), fc.integer({ min: 1, max: 5 })),
        fanout: fc.oneof(fc.constant(10), fc.integer({ min: 1, max: 10 })),
        bottom,
      })
      .map(({ length, fanout, bottom: selections }) => {
        let fragment: Fragment = { typeName: group.name, selections };
        for (let k = 1; k < length; k += 1) {
          const below = fragment;
          fragment = { typeName: group.name, selections: Array.from({ length: fanout }, () => ({ kind: 'spread' as const, fragment: below })) };
        }
        return { kind: 'spread' as const, fragment };
      });
  }

  /** The attack as a whole query: a chain spread into a group looked up by id, or into a page of groups. */
  private chainAttack(root: GraphQLObjectType): fc.Arbitrary<Selection[]> {
    const group = root.getFields().group;
    const groups = root.getFields().groups;
    if (!group || !groups) return fc.constant([]);
    const connection = getNamedType(groups.type) as GraphQLObjectType;
    const byId = fc.tuple(this.args(group), this.fragmentChain()).map(([args, spread]): Selection[] => [{ kind: 'field', on: root.name, name: 'group', args, selections: [spread] }]);
    const page = this.fragmentChain().map((spread): Selection[] => [
      {
        kind: 'field',
        on: root.name,
        name: 'groups',
        args: [literalArg('first', 100)],
        selections: [{ kind: 'field', on: connection.name, name: 'nodes', args: [], selections: [spread] }],
      },
    ]);
    return fc.oneof(byId, page);
  }
}

const literalArg = (name: string, json: unknown): Arg => ({ name, value: { kind: 'literal', value: literalOf(json) } });

// ---- Printing ----

/**
 * The response names already taken in a selection set (fragments and inline fragments merged
 * in), each with the field and arguments it stands for and the names below it. Two fields under
 * one name must be the same field with the same arguments all the way down, or the document fails
 * validation (OverlappingFieldsCanBeMerged); the printer aliases a field rather than clash.
 */
type Scope = Map<string, { key: string; below: Scope }>;

interface VariableDefinition {
  name: string;
  type: string;
  defaultValue: Value | null;
  given: { json: unknown } | null;
}

/** What an operation or fragment needs once printed: its variables and the fragments it spreads. */
interface Needs {
  variables: VariableDefinition[];
  spreads: Set<PrintedFragment>;
}

interface PrintedFragment extends Needs {
  name: string;
  text: string;
  scope: Scope;
}

function fits(into: Scope, from: Scope): boolean {
  for (const [name, entry] of from) {
    const there = into.get(name);
    if (there && (there.key !== entry.key || !fits(there.below, entry.below))) return false;
  }
  return true;
}

function merge(into: Scope, from: Scope): void {
  for (const [name, entry] of from) {
    const there = into.get(name);
    if (there) merge(there.below, entry.below);
    else into.set(name, { key: entry.key, below: copy(entry.below) });
  }
}

function copy(scope: Scope): Scope {
  return new Map([...scope].map(([name, entry]) => [name, { key: entry.key, below: copy(entry.below) }]));
}

class Printer {
  private aliases = 0;
  private variables = 0;
  private readonly fragments = new Map<Fragment, PrintedFragment>();

  print(operation: Operation): GeneratedDocument {
    const needs: Needs = { variables: [], spreads: new Set() };
    const body = this.selectionSet(operation.selections, new Map(), needs);
    const used = new Set<PrintedFragment>();
    const visit = (spreads: Set<PrintedFragment>) => {
      for (const fragment of spreads) {
        if (used.has(fragment)) continue;
        used.add(fragment);
        visit(fragment.spreads);
      }
    };
    visit(needs.spreads);
    // Only variables the printed operation and the fragments it spreads use: an unused one fails validation.
    const definitions = [...needs.variables, ...[...used].flatMap((f) => f.variables)];
    const header = definitions.map((v) => `$${v.name}: ${v.type}${v.defaultValue ? ` = ${v.defaultValue.literal}` : ''}`).join(', ');
    const given = definitions.filter((v) => v.given !== null).map((v) => [v.name, v.given!.json] as const);
    const query = [`${operation.kind}${header ? `(${header})` : ''} ${body}`, ...[...this.fragments.values()].filter((f) => used.has(f)).map((f) => f.text)].join('\n');
    const variables = given.length === 0 && operation.noVariablesAsNull ? null : Object.fromEntries(given);
    return { query, variables, kind: operation.kind };
  }

  private selectionSet(selections: Selection[], scope: Scope, needs: Needs): string {
    const printed = selections.flatMap((s) => this.selection(s, scope, needs));
    return `{ ${printed.length > 0 ? printed.join(' ') : '__typename'} }`;
  }

  private selection(selection: Selection, scope: Scope, needs: Needs): string[] {
    switch (selection.kind) {
      case 'field':
        return [this.field(selection, scope, needs, false)];
      case 'aliased':
        return Array.from({ length: selection.count }, (_, i) => this.field(selection.variants[i % selection.variants.length], scope, needs, true));
      case 'inline': {
        const on = selection.typeCondition ? ` on ${selection.typeCondition}` : '';
        return [`...${on}${selection.directive ? ` ${selection.directive}` : ''} ${this.selectionSet(selection.selections, scope, needs)}`];
      }
      case 'spread': {
        const fragment = this.fragment(selection.fragment);
        if (!fits(scope, fragment.scope)) return []; // would clash with a field already selected here
        merge(scope, fragment.scope);
        needs.spreads.add(fragment);
        return [`...${fragment.name}`];
      }
    }
  }

  private field(field: Field, scope: Scope, needs: Needs, aliased: boolean): string {
    const args = field.args.map((arg) => `${arg.name}: ${this.argument(arg.value, needs)}`);
    const call = `${field.name}${args.length > 0 ? `(${args.join(', ')})` : ''}`;
    const key = `${field.on}.${call}`;
    const taken = scope.get(field.name);
    let alias = '';
    let below: Scope;
    if (!aliased && (!taken || taken.key === key)) {
      below = taken?.below ?? new Map();
      if (!taken) scope.set(field.name, { key, below });
    } else {
      this.aliases += 1;
      alias = `a${this.aliases}`;
      below = new Map();
      scope.set(alias, { key, below });
    }
    return `${alias ? `${alias}: ` : ''}${call}${field.selections ? ` ${this.selectionSet(field.selections, below, needs)}` : ''}`;
  }

  private argument(value: ArgValue, needs: Needs): string {
    if (value.kind === 'literal') return value.value.literal;
    this.variables += 1;
    const name = `v${this.variables}`;
    needs.variables.push({ name, type: value.type, defaultValue: value.defaultValue, given: value.given });
    return `$${name}`;
  }

  private fragment(fragment: Fragment): PrintedFragment {
    const known = this.fragments.get(fragment);
    if (known) return known;
    const needs: Needs = { variables: [], spreads: new Set() };
    const scope: Scope = new Map();
    const body = this.selectionSet(fragment.selections, scope, needs);
    const name = `F${this.fragments.size + 1}`;
    const printed: PrintedFragment = { ...needs, name, text: `fragment ${name} on ${fragment.typeName} ${body}`, scope };
    this.fragments.set(fragment, printed);
    return printed;
  }
}
