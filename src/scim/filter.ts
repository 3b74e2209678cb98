// SCIM filters (RFC 7644 §3.4.2.2) → the domain's search conditions. Parsing is the
// scim2-parse-filter library's; this maps its syntax tree onto the attributes we keep.
import { type Filter, parse } from 'scim2-parse-filter';
import type { Comparison, Condition, Value } from '../domain/search';
import { ScimError } from './errors';
import { GROUP_SCHEMA, USER_SCHEMA } from './resources';

/** SCIM attribute (lower-cased) → the domain's field, or a list and its element fields. */
interface AttributeMap {
  schema: string;
  fields: Record<string, string>;
  lists: Record<string, { list: string; fields: Record<string, string> }>;
}

export const USER_ATTRIBUTES: AttributeMap = {
  schema: USER_SCHEMA,
  fields: {
    id: 'id',
    username: 'userName',
    externalid: 'externalId',
    displayname: 'name',
    'name.givenname': 'givenName',
    'name.familyname': 'familyName',
    active: 'active',
    'meta.created': 'createdAt',
    'meta.lastmodified': 'updatedAt',
  },
  lists: { emails: { list: 'emails', fields: { value: 'value', type: 'type', primary: 'primary' } } },
};

export const GROUP_ATTRIBUTES: AttributeMap = {
  schema: GROUP_SCHEMA,
  fields: { id: 'id', displayname: 'name', externalid: 'externalId', 'meta.created': 'createdAt', 'meta.lastmodified': 'updatedAt' },
  lists: { members: { list: 'members', fields: { value: 'value' } } },
};

const COMPARISONS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);

function invalid(message: string): never {
  throw new ScimError(400, message, 'invalidFilter');
}

function attributeName(path: string, map: AttributeMap): string {
  const lower = path.toLowerCase();
  const prefix = `${map.schema.toLowerCase()}:`;
  return lower.startsWith(prefix) ? lower.slice(prefix.length) : lower;
}

type Node = Filter & { op: string; attrPath?: string; compValue?: Value; filters?: Node[]; filter?: Node; valFilter?: Node };

function comparison(node: Node, map: AttributeMap, inList?: AttributeMap['lists'][string]): Condition {
  const op = node.op.toLowerCase();
  const name = attributeName(node.attrPath ?? '', map);
  const cmp = (op === 'pr' ? 'pr' : op) as Comparison;
  if (op !== 'pr' && !COMPARISONS.has(op)) invalid(`unknown operator "${node.op}"`);
  const value = (node.compValue ?? null) as Value;
  if (inList) {
    const field = inList.fields[name];
    if (!field) invalid(`cannot filter on "${node.attrPath}" inside ${inList.list}`);
    return { op: 'compare', field, cmp, value };
  }
  const field = map.fields[name];
  if (field) return { op: 'compare', field, cmp, value };
  const [listName, sub] = name.split('.');
  const list = map.lists[listName];
  if (!list) invalid(`cannot filter on "${node.attrPath}"`);
  if (sub === undefined) {
    if (cmp === 'pr') return { op: 'some', list: list.list, where: null };
    // `members eq "12"` means its value, as `emails co "@x"` does.
    return { op: 'some', list: list.list, where: comparison({ ...node, attrPath: 'value' } as Node, map, list) };
  }
  return { op: 'some', list: list.list, where: comparison({ ...node, attrPath: sub } as Node, map, list) };
}

function convert(node: Node, map: AttributeMap, inList?: AttributeMap['lists'][string]): Condition {
  const op = node.op.toLowerCase();
  if (op === 'and' || op === 'or') return { op, of: mergeValuePaths(node.filters ?? [], map, inList) };
  if (op === 'not') return { op: 'not', of: convert(node.filter as Node, map, inList) };
  if (op === '[]') {
    if (inList) invalid('a value filter cannot be nested in another');
    const list = map.lists[attributeName(node.attrPath ?? '', map)];
    if (!list) invalid(`"${node.attrPath}" is not a multi-valued attribute`);
    return { op: 'some', list: list.list, where: convert(node.valFilter as Node, map, list) };
  }
  return comparison(node, map, inList);
}

/**
 * The parser reads `emails[type eq "work"].value eq "x"` as `emails[type eq "work"] and
 * emails.value eq "x"`, which would let two different emails match the two halves. Such a pair
 * becomes one condition on a single element, as the RFC means it.
 */
function mergeValuePaths(nodes: Node[], map: AttributeMap, inList?: AttributeMap['lists'][string]): Condition[] {
  const out: Condition[] = [];
  for (let i = 0; i < nodes.length; i += 1) {
    const node = nodes[i];
    const next = nodes[i + 1];
    const listName = node.op === '[]' ? attributeName(node.attrPath ?? '', map) : null;
    const list = listName ? map.lists[listName] : undefined;
    if (list && next && next.op !== '[]' && next.attrPath && attributeName(next.attrPath, map).startsWith(`${listName}.`)) {
      const sub = attributeName(next.attrPath, map).slice(listName!.length + 1);
      const where: Condition = { op: 'and', of: [convert(node.valFilter as Node, map, list), comparison({ ...next, attrPath: sub } as Node, map, list)] };
      out.push({ op: 'some', list: list.list, where });
      i += 1;
    } else {
      out.push(convert(node, map, inList));
    }
  }
  return out;
}

/** The condition a `filter` query parameter stands for; null without one. */
export function parseFilter(text: string | undefined, map: AttributeMap): Condition | null {
  if (text === undefined || text.trim() === '') return null;
  if (text.length > 4096) invalid('the filter is longer than 4096 characters');
  let tree: Node;
  try {
    tree = parse(text) as Node;
  } catch (error) {
    invalid(`the filter cannot be parsed: ${(error as Error).message}`);
  }
  return convert(tree, map);
}
