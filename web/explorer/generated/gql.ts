/* eslint-disable */
import * as types from './graphql';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Viewer {\n    viewer { tenant { slug name } scopes }\n  }\n": typeof types.ViewerDocument,
    "\n  fragment GroupRow on Group {\n    id\n    name\n    directMembers: memberCount\n    allMembers: memberCount(inherited: true)\n    subgroups: children(first: 0) { totalCount }\n  }\n": typeof types.GroupRowFragmentDoc,
    "\n  query RootPage($first: Int!, $after: String) {\n    groups(rootsOnly: true, first: $first, after: $after) {\n      totalCount\n      pageInfo { endCursor hasNextPage }\n      nodes { ...GroupRow }\n    }\n  }\n": typeof types.RootPageDocument,
    "\n  query ChildPage($parentId: ID!, $first: Int!, $after: String) {\n    group(id: $parentId) {\n      id\n      children(first: $first, after: $after) {\n        totalCount\n        pageInfo { endCursor hasNextPage }\n        nodes { ...GroupRow }\n      }\n    }\n  }\n": typeof types.ChildPageDocument,
    "\n  query SearchGroups($search: String!, $first: Int!) {\n    groups(search: $search, first: $first) {\n      totalCount\n      nodes { id name ancestors { id name } }\n    }\n  }\n": typeof types.SearchGroupsDocument,
    "\n  fragment MemberFields on UserConnection {\n    totalCount\n    pageInfo { endCursor hasNextPage }\n    nodes { id name email }\n  }\n": typeof types.MemberFieldsFragmentDoc,
    "\n  query GroupDetails($id: ID!, $first: Int!) {\n    group(id: $id) {\n      id\n      name\n      description\n      subgroups: children(first: 0) { totalCount }\n      ancestors { id name roles { id name } }\n      roles { id name }\n      effectiveRoles { id name }\n      directMembers: members(first: $first) { ...MemberFields }\n      allMembers: members(inherited: true, first: $first) { ...MemberFields }\n    }\n  }\n": typeof types.GroupDetailsDocument,
    "\n  query MemberPage($id: ID!, $inherited: Boolean!, $first: Int!, $after: String) {\n    group(id: $id) {\n      id\n      members(inherited: $inherited, first: $first, after: $after) { ...MemberFields }\n    }\n  }\n": typeof types.MemberPageDocument,
    "\n  fragment UserGroups on GroupConnection {\n    totalCount\n    pageInfo { endCursor hasNextPage }\n    nodes { id name ancestors { id name } }\n  }\n": typeof types.UserGroupsFragmentDoc,
    "\n  query UserDetails($id: ID!, $first: Int!) {\n    user(id: $id) {\n      id\n      name\n      email\n      userName\n      active\n      groups(first: $first) { ...UserGroups }\n      effectiveRoles { direct role { id name } via { id name } }\n    }\n  }\n": typeof types.UserDetailsDocument,
    "\n  query UserGroupPage($id: ID!, $first: Int!, $after: String) {\n    user(id: $id) {\n      id\n      groups(first: $first, after: $after) { ...UserGroups }\n    }\n  }\n": typeof types.UserGroupPageDocument,
    "\n  mutation CreateGroup($input: CreateGroupInput!) {\n    createGroup(input: $input) { id }\n  }\n": typeof types.CreateGroupDocument,
    "\n  mutation UpdateGroup($id: ID!, $input: UpdateGroupInput!) {\n    updateGroup(id: $id, input: $input) { id }\n  }\n": typeof types.UpdateGroupDocument,
    "\n  fragment MoveImpactUsers on MoveImpactUserConnection {\n    totalCount\n    pageInfo { endCursor hasNextPage }\n    nodes {\n      user { id name }\n      gained { role { id name } grantedBy { id name } }\n      lost { role { id name } grantedBy { id name } }\n    }\n  }\n": typeof types.MoveImpactUsersFragmentDoc,
    "\n  query MoveImpact($groupId: ID!, $newParentId: ID, $first: Int!) {\n    moveImpact(groupId: $groupId, newParentId: $newParentId) {\n      group { id descendants(first: 0) { totalCount } }\n      toParent { id name }\n      allowed\n      refusals { code errorCode message }\n      totals { usersAffected rolesGained rolesLost }\n      users(first: $first) { ...MoveImpactUsers }\n    }\n  }\n": typeof types.MoveImpactDocument,
    "\n  query MoveImpactPage($groupId: ID!, $newParentId: ID, $first: Int!, $after: String) {\n    moveImpact(groupId: $groupId, newParentId: $newParentId) {\n      users(first: $first, after: $after) { ...MoveImpactUsers }\n    }\n  }\n": typeof types.MoveImpactPageDocument,
    "\n  mutation DeleteGroup($id: ID!) {\n    deleteGroup(id: $id)\n  }\n": typeof types.DeleteGroupDocument,
    "\n  subscription GroupChanges {\n    groupChanges { cursor action groupId group { id } }\n  }\n": typeof types.GroupChangesDocument,
    "\n  query SearchUsers($search: String!, $first: Int!) {\n    users(search: $search, first: $first) {\n      totalCount\n      nodes { id name email }\n    }\n  }\n": typeof types.SearchUsersDocument,
    "\n  query RolePage($first: Int!, $after: String) {\n    roles(first: $first, after: $after) {\n      pageInfo { endCursor hasNextPage }\n      nodes { id name }\n    }\n  }\n": typeof types.RolePageDocument,
    "\n  mutation AddGroupMember($groupId: ID!, $userId: ID!) {\n    addGroupMember(groupId: $groupId, userId: $userId) { id }\n  }\n": typeof types.AddGroupMemberDocument,
    "\n  mutation RemoveGroupMember($groupId: ID!, $userId: ID!) {\n    removeGroupMember(groupId: $groupId, userId: $userId) { id }\n  }\n": typeof types.RemoveGroupMemberDocument,
    "\n  mutation AssignGroupRole($groupId: ID!, $roleId: ID!) {\n    assignGroupRole(groupId: $groupId, roleId: $roleId) { id }\n  }\n": typeof types.AssignGroupRoleDocument,
    "\n  mutation UnassignGroupRole($groupId: ID!, $roleId: ID!) {\n    unassignGroupRole(groupId: $groupId, roleId: $roleId) { id }\n  }\n": typeof types.UnassignGroupRoleDocument,
};
const documents: Documents = {
    "\n  query Viewer {\n    viewer { tenant { slug name } scopes }\n  }\n": types.ViewerDocument,
    "\n  fragment GroupRow on Group {\n    id\n    name\n    directMembers: memberCount\n    allMembers: memberCount(inherited: true)\n    subgroups: children(first: 0) { totalCount }\n  }\n": types.GroupRowFragmentDoc,
    "\n  query RootPage($first: Int!, $after: String) {\n    groups(rootsOnly: true, first: $first, after: $after) {\n      totalCount\n      pageInfo { endCursor hasNextPage }\n      nodes { ...GroupRow }\n    }\n  }\n": types.RootPageDocument,
    "\n  query ChildPage($parentId: ID!, $first: Int!, $after: String) {\n    group(id: $parentId) {\n      id\n      children(first: $first, after: $after) {\n        totalCount\n        pageInfo { endCursor hasNextPage }\n        nodes { ...GroupRow }\n      }\n    }\n  }\n": types.ChildPageDocument,
    "\n  query SearchGroups($search: String!, $first: Int!) {\n    groups(search: $search, first: $first) {\n      totalCount\n      nodes { id name ancestors { id name } }\n    }\n  }\n": types.SearchGroupsDocument,
    "\n  fragment MemberFields on UserConnection {\n    totalCount\n    pageInfo { endCursor hasNextPage }\n    nodes { id name email }\n  }\n": types.MemberFieldsFragmentDoc,
    "\n  query GroupDetails($id: ID!, $first: Int!) {\n    group(id: $id) {\n      id\n      name\n      description\n      subgroups: children(first: 0) { totalCount }\n      ancestors { id name roles { id name } }\n      roles { id name }\n      effectiveRoles { id name }\n      directMembers: members(first: $first) { ...MemberFields }\n      allMembers: members(inherited: true, first: $first) { ...MemberFields }\n    }\n  }\n": types.GroupDetailsDocument,
    "\n  query MemberPage($id: ID!, $inherited: Boolean!, $first: Int!, $after: String) {\n    group(id: $id) {\n      id\n      members(inherited: $inherited, first: $first, after: $after) { ...MemberFields }\n    }\n  }\n": types.MemberPageDocument,
    "\n  fragment UserGroups on GroupConnection {\n    totalCount\n    pageInfo { endCursor hasNextPage }\n    nodes { id name ancestors { id name } }\n  }\n": types.UserGroupsFragmentDoc,
    "\n  query UserDetails($id: ID!, $first: Int!) {\n    user(id: $id) {\n      id\n      name\n      email\n      userName\n      active\n      groups(first: $first) { ...UserGroups }\n      effectiveRoles { direct role { id name } via { id name } }\n    }\n  }\n": types.UserDetailsDocument,
    "\n  query UserGroupPage($id: ID!, $first: Int!, $after: String) {\n    user(id: $id) {\n      id\n      groups(first: $first, after: $after) { ...UserGroups }\n    }\n  }\n": types.UserGroupPageDocument,
    "\n  mutation CreateGroup($input: CreateGroupInput!) {\n    createGroup(input: $input) { id }\n  }\n": types.CreateGroupDocument,
    "\n  mutation UpdateGroup($id: ID!, $input: UpdateGroupInput!) {\n    updateGroup(id: $id, input: $input) { id }\n  }\n": types.UpdateGroupDocument,
    "\n  fragment MoveImpactUsers on MoveImpactUserConnection {\n    totalCount\n    pageInfo { endCursor hasNextPage }\n    nodes {\n      user { id name }\n      gained { role { id name } grantedBy { id name } }\n      lost { role { id name } grantedBy { id name } }\n    }\n  }\n": types.MoveImpactUsersFragmentDoc,
    "\n  query MoveImpact($groupId: ID!, $newParentId: ID, $first: Int!) {\n    moveImpact(groupId: $groupId, newParentId: $newParentId) {\n      group { id descendants(first: 0) { totalCount } }\n      toParent { id name }\n      allowed\n      refusals { code errorCode message }\n      totals { usersAffected rolesGained rolesLost }\n      users(first: $first) { ...MoveImpactUsers }\n    }\n  }\n": types.MoveImpactDocument,
    "\n  query MoveImpactPage($groupId: ID!, $newParentId: ID, $first: Int!, $after: String) {\n    moveImpact(groupId: $groupId, newParentId: $newParentId) {\n      users(first: $first, after: $after) { ...MoveImpactUsers }\n    }\n  }\n": types.MoveImpactPageDocument,
    "\n  mutation DeleteGroup($id: ID!) {\n    deleteGroup(id: $id)\n  }\n": types.DeleteGroupDocument,
    "\n  subscription GroupChanges {\n    groupChanges { cursor action groupId group { id } }\n  }\n": types.GroupChangesDocument,
    "\n  query SearchUsers($search: String!, $first: Int!) {\n    users(search: $search, first: $first) {\n      totalCount\n      nodes { id name email }\n    }\n  }\n": types.SearchUsersDocument,
    "\n  query RolePage($first: Int!, $after: String) {\n    roles(first: $first, after: $after) {\n      pageInfo { endCursor hasNextPage }\n      nodes { id name }\n    }\n  }\n": types.RolePageDocument,
    "\n  mutation AddGroupMember($groupId: ID!, $userId: ID!) {\n    addGroupMember(groupId: $groupId, userId: $userId) { id }\n  }\n": types.AddGroupMemberDocument,
    "\n  mutation RemoveGroupMember($groupId: ID!, $userId: ID!) {\n    removeGroupMember(groupId: $groupId, userId: $userId) { id }\n  }\n": types.RemoveGroupMemberDocument,
    "\n  mutation AssignGroupRole($groupId: ID!, $roleId: ID!) {\n    assignGroupRole(groupId: $groupId, roleId: $roleId) { id }\n  }\n": types.AssignGroupRoleDocument,
    "\n  mutation UnassignGroupRole($groupId: ID!, $roleId: ID!) {\n    unassignGroupRole(groupId: $groupId, roleId: $roleId) { id }\n  }\n": types.UnassignGroupRoleDocument,
};

/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  query Viewer {\n    viewer { tenant { slug name } scopes }\n  }\n"): typeof import('./graphql').ViewerDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  fragment GroupRow on Group {\n    id\n    name\n    directMembers: memberCount\n    allMembers: memberCount(inherited: true)\n    subgroups: children(first: 0) { totalCount }\n  }\n"): typeof import('./graphql').GroupRowFragmentDoc;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  query RootPage($first: Int!, $after: String) {\n    groups(rootsOnly: true, first: $first, after: $after) {\n      totalCount\n      pageInfo { endCursor hasNextPage }\n      nodes { ...GroupRow }\n    }\n  }\n"): typeof import('./graphql').RootPageDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  query ChildPage($parentId: ID!, $first: Int!, $after: String) {\n    group(id: $parentId) {\n      id\n      children(first: $first, after: $after) {\n        totalCount\n        pageInfo { endCursor hasNextPage }\n        nodes { ...GroupRow }\n      }\n    }\n  }\n"): typeof import('./graphql').ChildPageDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  query SearchGroups($search: String!, $first: Int!) {\n    groups(search: $search, first: $first) {\n      totalCount\n      nodes { id name ancestors { id name } }\n    }\n  }\n"): typeof import('./graphql').SearchGroupsDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  fragment MemberFields on UserConnection {\n    totalCount\n    pageInfo { endCursor hasNextPage }\n    nodes { id name email }\n  }\n"): typeof import('./graphql').MemberFieldsFragmentDoc;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  query GroupDetails($id: ID!, $first: Int!) {\n    group(id: $id) {\n      id\n      name\n      description\n      subgroups: children(first: 0) { totalCount }\n      ancestors { id name roles { id name } }\n      roles { id name }\n      effectiveRoles { id name }\n      directMembers: members(first: $first) { ...MemberFields }\n      allMembers: members(inherited: true, first: $first) { ...MemberFields }\n    }\n  }\n"): typeof import('./graphql').GroupDetailsDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  query MemberPage($id: ID!, $inherited: Boolean!, $first: Int!, $after: String) {\n    group(id: $id) {\n      id\n      members(inherited: $inherited, first: $first, after: $after) { ...MemberFields }\n    }\n  }\n"): typeof import('./graphql').MemberPageDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  fragment UserGroups on GroupConnection {\n    totalCount\n    pageInfo { endCursor hasNextPage }\n    nodes { id name ancestors { id name } }\n  }\n"): typeof import('./graphql').UserGroupsFragmentDoc;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  query UserDetails($id: ID!, $first: Int!) {\n    user(id: $id) {\n      id\n      name\n      email\n      userName\n      active\n      groups(first: $first) { ...UserGroups }\n      effectiveRoles { direct role { id name } via { id name } }\n    }\n  }\n"): typeof import('./graphql').UserDetailsDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  query UserGroupPage($id: ID!, $first: Int!, $after: String) {\n    user(id: $id) {\n      id\n      groups(first: $first, after: $after) { ...UserGroups }\n    }\n  }\n"): typeof import('./graphql').UserGroupPageDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  mutation CreateGroup($input: CreateGroupInput!) {\n    createGroup(input: $input) { id }\n  }\n"): typeof import('./graphql').CreateGroupDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  mutation UpdateGroup($id: ID!, $input: UpdateGroupInput!) {\n    updateGroup(id: $id, input: $input) { id }\n  }\n"): typeof import('./graphql').UpdateGroupDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  fragment MoveImpactUsers on MoveImpactUserConnection {\n    totalCount\n    pageInfo { endCursor hasNextPage }\n    nodes {\n      user { id name }\n      gained { role { id name } grantedBy { id name } }\n      lost { role { id name } grantedBy { id name } }\n    }\n  }\n"): typeof import('./graphql').MoveImpactUsersFragmentDoc;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  query MoveImpact($groupId: ID!, $newParentId: ID, $first: Int!) {\n    moveImpact(groupId: $groupId, newParentId: $newParentId) {\n      group { id descendants(first: 0) { totalCount } }\n      toParent { id name }\n      allowed\n      refusals { code errorCode message }\n      totals { usersAffected rolesGained rolesLost }\n      users(first: $first) { ...MoveImpactUsers }\n    }\n  }\n"): typeof import('./graphql').MoveImpactDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  query MoveImpactPage($groupId: ID!, $newParentId: ID, $first: Int!, $after: String) {\n    moveImpact(groupId: $groupId, newParentId: $newParentId) {\n      users(first: $first, after: $after) { ...MoveImpactUsers }\n    }\n  }\n"): typeof import('./graphql').MoveImpactPageDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  mutation DeleteGroup($id: ID!) {\n    deleteGroup(id: $id)\n  }\n"): typeof import('./graphql').DeleteGroupDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  subscription GroupChanges {\n    groupChanges { cursor action groupId group { id } }\n  }\n"): typeof import('./graphql').GroupChangesDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  query SearchUsers($search: String!, $first: Int!) {\n    users(search: $search, first: $first) {\n      totalCount\n      nodes { id name email }\n    }\n  }\n"): typeof import('./graphql').SearchUsersDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  query RolePage($first: Int!, $after: String) {\n    roles(first: $first, after: $after) {\n      pageInfo { endCursor hasNextPage }\n      nodes { id name }\n    }\n  }\n"): typeof import('./graphql').RolePageDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  mutation AddGroupMember($groupId: ID!, $userId: ID!) {\n    addGroupMember(groupId: $groupId, userId: $userId) { id }\n  }\n"): typeof import('./graphql').AddGroupMemberDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  mutation RemoveGroupMember($groupId: ID!, $userId: ID!) {\n    removeGroupMember(groupId: $groupId, userId: $userId) { id }\n  }\n"): typeof import('./graphql').RemoveGroupMemberDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  mutation AssignGroupRole($groupId: ID!, $roleId: ID!) {\n    assignGroupRole(groupId: $groupId, roleId: $roleId) { id }\n  }\n"): typeof import('./graphql').AssignGroupRoleDocument;
/**
 * The gql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function gql(source: "\n  mutation UnassignGroupRole($groupId: ID!, $roleId: ID!) {\n    unassignGroupRole(groupId: $groupId, roleId: $roleId) { id }\n  }\n"): typeof import('./graphql').UnassignGroupRoleDocument;


export function gql(source: string) {
  return (documents as any)[source] ?? {};
}
