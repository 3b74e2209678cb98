// Everything the explorer asks the service, through its public GraphQL API only: the queries, the
// types of what they return, one small client, and how to read the errors of a partial result.
//
// Adding an operation: write it with `gql(`...`)` (a query, mutation or fragment; a fragment is
// used by name, `...GroupRow`, never interpolated), run `npm run generate:graphql`, and send it
// with `graphql(document, variables)`: the result and variable types come from
// web/explorer/generated (committed, never edited; `npm run check:generated` fails when it is
// stale). Name a shape the views share with an alias of the generated types (`ResultOf`) below,
// never by writing it out. Documents are strings (no graphql-js in the page); the build replaces
// each `gql(`...`)` with the generated document it maps to (explorerDocuments in vite.config.mts).
import { gql } from './generated';
import type { TypedDocumentString } from './generated/graphql';

export type { TypedDocumentString };

/** How many groups, or members, one request asks for (the API allows at most 100 a page). */
export const PAGE_SIZE = 25;

/** The credential: its workspace and scopes. Public: any valid key may read it. */
export const VIEWER = gql(`
  query Viewer {
    viewer { tenant { slug name } scopes }
  }
`);

/**
 * What the tree shows of a group. `children(first: 0) { totalCount }` reads no child, only the
 * count the service keeps: whether the group can be expanded.
 */
const GROUP_ROW = gql(`
  fragment GroupRow on Group {
    id
    name
    directMembers: memberCount
    allMembers: memberCount(inherited: true)
    subgroups: children(first: 0) { totalCount }
  }
`);

/** One page of the roots, after the cursor `after` (none: the first page). */
export const ROOT_PAGE = gql(`
  query RootPage($first: Int!, $after: String) {
    groups(rootsOnly: true, first: $first, after: $after) {
      totalCount
      pageInfo { endCursor hasNextPage }
      nodes { ...GroupRow }
    }
  }
`);

/** One page of a group's children (ordered by id), loaded when it is expanded. */
export const CHILD_PAGE = gql(`
  query ChildPage($parentId: ID!, $first: Int!, $after: String) {
    group(id: $parentId) {
      id
      children(first: $first, after: $after) {
        totalCount
        pageInfo { endCursor hasNextPage }
        nodes { ...GroupRow }
      }
    }
  }
`);

/** Groups whose name matches, anywhere in the tree, with their ancestors to say where. */
export const SEARCH_GROUPS = gql(`
  query SearchGroups($search: String!, $first: Int!) {
    groups(search: $search, first: $first) {
      totalCount
      nodes { id name ancestors { id name } }
    }
  }
`);

/** A page of members: `totalCount`, where the next page starts, and the users (email needs users:read). */
const MEMBERS = gql(`
  fragment MemberFields on UserConnection {
    totalCount
    pageInfo { endCursor hasNextPage }
    nodes { id name email }
  }
`);

/**
 * What the details pane shows, with the first page of each member list. `roles` of the group and
 * of each ancestor say who grants what.
 */
export const GROUP_DETAILS = gql(`
  query GroupDetails($id: ID!, $first: Int!) {
    group(id: $id) {
      id
      name
      description
      subgroups: children(first: 0) { totalCount }
      ancestors { id name roles { id name } }
      roles { id name }
      effectiveRoles { id name }
      directMembers: members(first: $first) { ...MemberFields }
      allMembers: members(inherited: true, first: $first) { ...MemberFields }
    }
  }
`);

/** The next page of one member list of a group: direct, or with `inherited` including subgroups. */
export const MEMBER_PAGE = gql(`
  query MemberPage($id: ID!, $inherited: Boolean!, $first: Int!, $after: String) {
    group(id: $id) {
      id
      members(inherited: $inherited, first: $first, after: $after) { ...MemberFields }
    }
  }
`);

/** A page of a user's direct groups, each with its ancestors to say where it is. */
const USER_GROUPS = gql(`
  fragment UserGroups on GroupConnection {
    totalCount
    pageInfo { endCursor hasNextPage }
    nodes { id name ancestors { id name } }
  }
`);

/**
 * What the user view shows, with the first page of the user's groups. `effectiveRoles` says for
 * each role whether it is the user's own and which groups grant it (`via`).
 */
export const USER_DETAILS = gql(`
  query UserDetails($id: ID!, $first: Int!) {
    user(id: $id) {
      id
      name
      email
      userName
      active
      groups(first: $first) { ...UserGroups }
      effectiveRoles { direct role { id name } via { id name } }
    }
  }
`);

/** The next page of a user's direct groups. */
export const USER_GROUP_PAGE = gql(`
  query UserGroupPage($id: ID!, $first: Int!, $after: String) {
    user(id: $id) {
      id
      groups(first: $first, after: $after) { ...UserGroups }
    }
  }
`);

/** A group under `parentId` (null: a root). */
export const CREATE_GROUP = gql(`
  mutation CreateGroup($input: CreateGroupInput!) {
    createGroup(input: $input) { id }
  }
`);

/**
 * A new name and description for a group (a blank description clears it), or a new `parentId`:
 * a move (null: make it a root).
 */
export const UPDATE_GROUP = gql(`
  mutation UpdateGroup($id: ID!, $input: UpdateGroupInput!) {
    updateGroup(id: $id, input: $input) { id }
  }
`);

/** One page of the users whose roles a move would change: each role gained or lost, and who grants it. */
const MOVE_IMPACT_USERS = gql(`
  fragment MoveImpactUsers on MoveImpactUserConnection {
    totalCount
    pageInfo { endCursor hasNextPage }
    nodes {
      user { id name }
      gained { role { id name } grantedBy { id name } }
      lost { role { id name } grantedBy { id name } }
    }
  }
`);

/**
 * What moving the group under `newParentId` (null: making it a root) would change, written
 * nowhere: the refusals the move would hit, the totals, and the first page of affected users.
 * `descendants(first: 0)` counts the subtree that moves with the group.
 */
export const MOVE_IMPACT = gql(`
  query MoveImpact($groupId: ID!, $newParentId: ID, $first: Int!) {
    moveImpact(groupId: $groupId, newParentId: $newParentId) {
      group { id descendants(first: 0) { totalCount } }
      toParent { id name }
      allowed
      refusals { code errorCode message }
      totals { usersAffected rolesGained rolesLost }
      users(first: $first) { ...MoveImpactUsers }
    }
  }
`);

/** The next page of a move's affected users. */
export const MOVE_IMPACT_PAGE = gql(`
  query MoveImpactPage($groupId: ID!, $newParentId: ID, $first: Int!, $after: String) {
    moveImpact(groupId: $groupId, newParentId: $newParentId) {
      users(first: $first, after: $after) { ...MoveImpactUsers }
    }
  }
`);

/** Deletes the group; its children become roots. */
export const DELETE_GROUP = gql(`
  mutation DeleteGroup($id: ID!) {
    deleteGroup(id: $id)
  }
`);

/** What a document answers (its `data`), as generated from the schema and the document. */
export type ResultOf<D> = D extends TypedDocumentString<infer R, infer _V> ? R : never;

/** The credential: its workspace and scopes. */
export type Viewer = ResultOf<typeof VIEWER>['viewer'];
/** A group in the tree. */
export type GroupRow = ResultOf<typeof GROUP_ROW>;
/** A group found by name; its ancestors nearest parent first, root last. */
export type SearchHit = ResultOf<typeof SEARCH_GROUPS>['groups']['nodes'][number];
/** A group named by id and name (an ancestor, a granter, a destination). */
export type GroupRef = SearchHit['ancestors'][number];
/** A group the user is a direct member of, with its ancestors (nearest parent first) to say where. */
export type UserGroup = ResultOf<typeof USER_GROUPS>['nodes'][number];
/** A page of a Relay connection, as the explorer asks for it: its nodes of type T. */
export type Connection<T> = Pick<ResultOf<typeof MEMBERS>, 'totalCount' | 'pageInfo'> & { nodes: T[] };
/** `email` is null for a user without one, or when the key may not read it (users:read). */
export type Member = ResultOf<typeof MEMBERS>['nodes'][number];
/** Role lists are null when the key may not read them (the error says which scope they need). */
export type GroupDetails = NonNullable<ResultOf<typeof GROUP_DETAILS>['group']>;
/** `totals` and `users` are null without roles:read. */
export type MoveImpact = NonNullable<ResultOf<typeof MOVE_IMPACT>['moveImpact']>;
/** `errorCode` and `message` are what the move itself would answer. */
export type MoveRefusal = MoveImpact['refusals'][number];
export type UserMoveImpact = ResultOf<typeof MOVE_IMPACT_USERS>['nodes'][number];
/** A role a move would give or take, and the ancestors granting it (after the move for a gain, before it for a loss). */
export type RoleChange = UserMoveImpact['gained'][number];
/** Fields the key may not read are null (the errors say which scope they need). */
export type UserDetails = NonNullable<ResultOf<typeof USER_DETAILS>['user']>;
/** A user's role: `via` lists the groups granting it that this key can read. */
export type EffectiveUserRole = NonNullable<UserDetails['effectiveRoles']>[number];

export interface GraphQLError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; requiredScopes?: string[][] };
}

/** A GraphQL answer: `data` may be partial, with an error for each field left null. */
export interface Result<T> {
  data: T | null;
  errors: GraphQLError[];
}

const KEY_STORAGE = 'kauth-explorer-key';

/** Session storage only: the key is gone when the tab closes, and never reaches the URL or localStorage. */
export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY_STORAGE),
  set: (key: string): void => sessionStorage.setItem(KEY_STORAGE, key),
  forget: (): void => sessionStorage.removeItem(KEY_STORAGE),
};

/** The variables argument: optional when the operation has none that are required. */
type VariablesArg<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

/**
 * POST /graphql on this origin with the stored key, the document as its text. Never throws for
 * an answer: a failure is an error in the result.
 */
export async function graphql<R, V>(document: TypedDocumentString<R, V>, ...[variables]: VariablesArg<V>): Promise<Result<R>> {
  const query = document.toString();
  try {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey.get() ?? ''}` },
      body: JSON.stringify({ query, variables: variables ?? {} }),
    });
    const body = (await response.json().catch(() => ({}))) as Partial<Result<R>>;
    const errors = body.errors ?? (response.ok ? [] : [{ message: `HTTP ${response.status} ${response.statusText}` }]);
    return { data: body.data ?? null, errors };
  } catch (error) {
    return { data: null, errors: [{ message: `The service could not be reached: ${(error as Error).message}` }] };
  }
}

export function isUnauthenticated(result: Result<unknown>): boolean {
  return result.errors.some((error) => error.extensions?.code === 'UNAUTHENTICATED');
}

/**
 * The scopes a FORBIDDEN error asks for, for any field under one of `paths` (list indices are
 * skipped, so ['group', 'ancestors', 'roles'] matches every ancestor's roles), as a reader would
 * say them: "roles:read", or "a and b, or c" for `requiredScopes` [["a", "b"], ["c"]].
 * Null when nothing there was refused.
 */
export function neededScopes(errors: GraphQLError[], ...paths: string[][]): string | null {
  const refused = errors.find(
    (error) =>
      error.extensions?.code === 'FORBIDDEN' &&
      paths.some((path) => {
        const fields = (error.path ?? []).filter((step) => typeof step === 'string');
        return path.every((field, i) => fields[i] === field);
      }),
  );
  if (!refused) return null;
  const anyOf = refused.extensions?.requiredScopes ?? [['a scope this key lacks']];
  return anyOf.map((allOf) => allOf.join(' and ')).join(', or ');
}

/** Errors other than refused fields, as one line to show. */
export function problem(result: Result<unknown>): string | null {
  const others = result.errors.filter((error) => error.extensions?.code !== 'FORBIDDEN');
  return others.length ? others.map((error) => error.message).join('; ') : null;
}
