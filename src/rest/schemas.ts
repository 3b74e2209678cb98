// JSON schemas of the /t/:slug/api/v1 routes: Fastify validates requests and serialises
// responses with them, and @fastify/swagger publishes them as the OpenAPI document.
import type { FastifySchema } from 'fastify';
import { MAX_PAGE_SIZE } from '../domain/validate';

const MAX_ID = 2_147_483_647;

const id = (description: string) => ({ type: 'integer', minimum: 1, maximum: MAX_ID, description }) as const;

export const groupSchema = {
  $id: 'Group',
  type: 'object',
  required: ['id', 'name', 'description', 'parentGroupId', 'tenantId'],
  additionalProperties: false,
  properties: {
    id: id('Internal numeric ID'),
    name: { type: 'string', description: 'Group name' },
    description: { type: ['string', 'null'], description: 'Optional description' },
    parentGroupId: { type: ['integer', 'null'], description: 'Parent group ID for hierarchy, or null for root groups' },
    tenantId: { type: 'integer', description: 'The workspace this group belongs to' },
  },
  examples: [{ id: 3, name: 'Engineering', description: 'Engineering team', parentGroupId: null, tenantId: 1 }],
} as const;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', description: 'Stable snake_case code, e.g. validation_failed' },
        message: { type: 'string', description: 'A human-readable sentence' },
        details: {
          type: 'object',
          additionalProperties: true,
          description: 'Where useful: `field` (the input that failed), `location`, `requiredScopes`',
        },
      },
    },
  },
} as const;

const count = (description: string) => ({ type: 'integer', minimum: 0, description }) as const;

const roleChangeSchema = {
  type: 'object',
  required: ['id', 'name', 'grantedBy'],
  additionalProperties: false,
  properties: {
    id: id('The role’s numeric ID'),
    name: { type: 'string', description: 'The role’s name' },
    grantedBy: {
      type: 'array',
      items: { type: 'integer' },
      description: 'Ancestors granting it, nearest first: after the move for a gain, before it for a loss; groups the key cannot read are left out',
    },
  },
} as const;

/** The answer of `PUT /groups/{groupId}?dryRun=true`: what the move would change, nothing written. */
export const movePreviewSchema = {
  $id: 'MovePreview',
  type: 'object',
  required: ['dryRun', 'groupId', 'parentGroupId', 'newParentGroupId', 'allowed', 'refusals', 'totals', 'users', 'meta'],
  additionalProperties: false,
  properties: {
    dryRun: { type: 'boolean', const: true, description: 'Always true: nothing was written' },
    groupId: id('The group that would move, with its subtree'),
    parentGroupId: { type: ['integer', 'null'], description: 'Its parent now (null: a root, or a parent the key cannot read)' },
    newParentGroupId: { type: ['integer', 'null'], description: 'Its parent after the move (null: a root)' },
    allowed: { type: 'boolean', description: 'True when `refusals` is empty: the same PUT without dryRun would be accepted now' },
    refusals: {
      type: 'array',
      description: 'The checks the PUT would fail, in the order it makes them',
      items: {
        type: 'object',
        required: ['code', 'message'],
        additionalProperties: false,
        properties: {
          code: { type: 'string', enum: ['FORBIDDEN', 'NOT_FOUND', 'CYCLE', 'DEPTH_LIMIT', 'SIBLING_NAME'] },
          message: { type: 'string', description: 'The message the PUT would answer with' },
        },
      },
    },
    totals: {
      type: 'object',
      required: ['usersAffected', 'rolesGained', 'rolesLost'],
      additionalProperties: false,
      properties: {
        usersAffected: count('Users whose effective roles change'),
        rolesGained: count('(user, role) pairs gained'),
        rolesLost: count('(user, role) pairs lost'),
      },
    },
    users: {
      type: 'array',
      description: 'A page of the affected users, by user id',
      items: {
        type: 'object',
        required: ['id', 'name', 'gained', 'lost'],
        additionalProperties: false,
        properties: {
          id: id('The user’s numeric ID'),
          name: { type: ['string', 'null'] },
          gained: { type: 'array', items: roleChangeSchema },
          lost: { type: 'array', items: roleChangeSchema },
        },
      },
    },
    meta: {
      type: 'object',
      required: ['limit', 'nextCursor'],
      additionalProperties: false,
      properties: {
        limit: { type: 'integer' },
        nextCursor: { type: ['string', 'null'], description: 'Pass as `after` for the next page; null on the last' },
      },
    },
  },
} as const;

/** Shared by the routes through `$ref`; the OpenAPI document lists them as components. */
export const sharedSchemas = [groupSchema, errorSchema, movePreviewSchema];

const group = (description: string) => ({ $ref: 'Group#', description }) as const;
const errorResponse = (description: string) => ({ $ref: 'Error#', description }) as const;

/** Every route may answer these. */
const commonErrors = {
  400: errorResponse('Invalid input: body not JSON, wrong types, unknown fields, bad path id or query'),
  401: errorResponse('Missing, invalid, expired or revoked credentials (WWW-Authenticate: Bearer)'),
  403: errorResponse('The credential lacks the scope (WWW-Authenticate: Bearer error="insufficient_scope")'),
  500: errorResponse('Unexpected error; the x-request-id header identifies it in the logs'),
} as const;

const withBodyErrors = {
  ...commonErrors,
  413: errorResponse('Body over 1 MiB'),
  415: errorResponse('Body that is not application/json'),
} as const;

const notFound = { 404: errorResponse('Unknown group or user in this workspace, including a group the credential cannot read') } as const;

const noContent = { type: 'null', description: 'No Content' } as const;

const slugParam = { type: 'string', description: 'The workspace slug' } as const;

const groupParams = {
  type: 'object',
  required: ['slug', 'groupId'],
  properties: { slug: slugParam, groupId: id('The group’s numeric ID') },
} as const;

const memberParams = {
  type: 'object',
  required: ['slug', 'groupId', 'userId'],
  properties: { slug: slugParam, groupId: id('The group’s numeric ID'), userId: id('The user’s numeric ID') },
} as const;

const groupFields = {
  name: { type: 'string', description: 'Group name (non-empty, at most 255 characters after trimming)' },
  description: { type: ['string', 'null'], description: 'Optional description' },
} as const;

const security = [{ bearerAuth: [] }];

export interface SlugParams {
  slug: string;
}
export interface GroupParams extends SlugParams {
  groupId: number;
}
export interface MemberParams extends GroupParams {
  userId: number;
}
export interface PageQuery {
  offset: number;
  limit: number;
}
export interface CreateGroupBody {
  name: string;
  description?: string | null;
  parentGroupId?: number | null;
}
export type UpdateGroupBody = Partial<CreateGroupBody>;
export interface UpdateGroupQuery {
  dryRun: 'true' | 'false';
  limit: number;
  after?: string;
}

/** A route on the workspace's groups as a whole (GET or POST /groups). */
const groupsRoute = <Id extends string, Summary extends string>(operationId: Id, summary: Summary) =>
  ({ operationId, tags: ['groups'], summary, security, params: { type: 'object', required: ['slug'], properties: { slug: slugParam } } }) as const;

export const listGroupsSchema = {
  ...groupsRoute('listGroups', 'All groups of the workspace, nested ones included, ordered by id'),
  querystring: {
    type: 'object',
    properties: {
      // An offset past PostgreSQL's 32-bit range is a 500 from the database, not a page.
      offset: { type: 'integer', minimum: 0, maximum: MAX_ID, default: 0, description: 'Groups to skip' },
      limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 20, description: 'Page size' },
    },
  },
  response: {
    200: {
      description: 'A page of groups, and the total number of groups',
      type: 'object',
      required: ['data', 'meta'],
      additionalProperties: false,
      properties: {
        data: { type: 'array', items: { $ref: 'Group#' } },
        meta: {
          type: 'object',
          required: ['total', 'offset', 'limit'],
          additionalProperties: false,
          properties: { total: { type: 'integer' }, offset: { type: 'integer' }, limit: { type: 'integer' } },
        },
      },
    },
    ...commonErrors,
  },
} as const satisfies FastifySchema;

export const createGroupSchema = {
  ...groupsRoute('createGroup', 'Create a group, at the top level or under a parent'),
  body: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: {
      ...groupFields,
      parentGroupId: { ...id('ID of parent group. Omit (or null) for a root group.'), type: ['integer', 'null'] },
    },
    examples: [{ name: 'Backend', description: 'Backend engineering', parentGroupId: 3 }],
  },
  response: {
    201: group('The created group'),
    ...withBodyErrors,
    409: errorResponse('A sibling (same parent; roots are siblings) already has this name, ignoring case: `details.existingId` names it'),
  },
} as const satisfies FastifySchema;

export const getGroupSchema = {
  operationId: 'getGroup',
  tags: ['groups'],
  summary: 'One group',
  security,
  params: groupParams,
  response: { 200: group('The group'), ...commonErrors, ...notFound },
} as const satisfies FastifySchema;

export const updateGroupSchema = {
  operationId: 'updateGroup',
  tags: ['groups'],
  summary: 'Rename, describe or move a group; absent fields are unchanged (with dryRun=true: preview the move, writing nothing)',
  security,
  params: groupParams,
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      dryRun: {
        type: 'string',
        enum: ['true', 'false'],
        default: 'false',
        description: 'true: write nothing and answer what the change would do (a MovePreview); needs roles:read as well',
      },
      limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 20, description: 'With dryRun: affected users a page' },
      after: { type: 'string', maxLength: 200, description: 'With dryRun: the `meta.nextCursor` of the page before' },
    },
  },
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...groupFields,
      parentGroupId: { ...id('New parent group ID; null makes the group a root; absent keeps the parent'), type: ['integer', 'null'] },
    },
    examples: [{ name: 'Backend Platform', description: 'Updated description' }],
  },
  response: {
    200: {
      description: 'The updated group; with dryRun=true, the preview of the change (a MovePreview), nothing written',
      anyOf: [{ $ref: 'Group#' }, { $ref: 'MovePreview#' }],
    },
    ...withBodyErrors,
    ...notFound,
    409: errorResponse(
      'A move under the group itself or one of its descendants, or a name a sibling at the destination already has, ignoring case (`details.existingId` names it)',
    ),
  },
} as const satisfies FastifySchema;

export const deleteGroupSchema = {
  operationId: 'deleteGroup',
  tags: ['groups'],
  summary: 'Delete a group and its memberships; its children become root groups',
  security,
  params: groupParams,
  response: {
    204: noContent,
    ...commonErrors,
    ...notFound,
    409: errorResponse('A child would become a root beside a root of the same name, ignoring case: `details.childId` and `details.existingId` name them'),
  },
} as const satisfies FastifySchema;

/** A membership change: PUT or DELETE of /groups/:groupId/members/:userId, answered 204 and idempotent. */
const memberChangeSchema = <Id extends string, Summary extends string>(operationId: Id, summary: Summary) =>
  ({ operationId, tags: ['members'], summary, security, params: memberParams, response: { 204: noContent, ...commonErrors, ...notFound } }) as const satisfies FastifySchema;

export const addMemberSchema = memberChangeSchema('addGroupMember', 'Add a user to a group (idempotent)');
export const removeMemberSchema = memberChangeSchema('removeGroupMember', 'Remove a user from a group (idempotent)');
