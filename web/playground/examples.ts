// The saved operations the playground opens with, one tab each. Variables name ids that the demo
// workspace (KAUTH_DEMO) has; any workspace's ids work.
export interface Example {
  query: string;
  variables?: string;
}

export const EXAMPLES: Example[] = [
  {
    query: `# The group tree: roots, children, member counts.
# Put your API key in the bar above, then run
# (the pink button, or Ctrl-Enter). Lists come a page
# at a time: the next one is (after: "<endCursor>");
# one level deeper, group(id: "<id>") { children }.
query GroupTree {
  viewer { tenant { slug name } scopes }
  groups(rootsOnly: true, first: 20) {
    nodes {
      id
      name
      memberCount(inherited: true)
      children(first: 20) {
        nodes { id name memberCount }
        totalCount
      }
    }
    totalCount
    pageInfo { hasNextPage endCursor }
  }
}
`,
  },
  {
    query: `# A user's effective roles, and the groups that
# grant each one (provenance).
query EffectiveRoles($userId: ID!) {
  user(id: $userId) {
    id
    name
    groups(first: 20) {
      totalCount
      nodes { id name ancestors { name } }
    }
    effectiveRoles {
      role { name }
      direct
      via { id name }
    }
  }
}
`,
    variables: '{ "userId": "1" }',
  },
  {
    query: `# A member sync: the group's direct members become
# exactly these users. Answers who was added and who
# was removed; running it again changes nothing.
mutation SyncMembers($groupId: ID!, $userIds: [ID!]!) {
  setGroupMembers(groupId: $groupId, userIds: $userIds) {
    group { id name memberCount }
    added { id name }
    removed { id name }
  }
}
`,
    variables: '{ "groupId": "2", "userIds": ["1", "2"] }',
  },
  {
    query: `# A narrowly scoped key: read groups, and manage
# members only in group 2's subtree. The key is shown
# once, in this answer: store it now.
mutation CreateNarrowKey($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    key
    apiKey { id name scopes expiresAt }
  }
}
`,
    variables: '{ "input": { "name": "directory sync", "scopes": ["groups:read", "groups:members:write@2"], "expiresAt": null } }',
  },
  {
    query: `# Live changes to the tree as they commit (WebSocket).
# Run it, then change a group in another tab; stop
# with the button. Add root: "<id>" for one subtree.
subscription GroupChanges {
  groupChanges {
    action
    at
    groupId
    group { name parent { name } }
  }
}
`,
  },
];
