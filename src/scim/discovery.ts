// Discovery (RFC 7644 §4): what this SCIM service supports, its resource types and their schemas.
// The same for every workspace and readable without credentials, like the OpenAPI document.
import { GROUP_SCHEMA, TREE_SCHEMA, USER_SCHEMA } from './resources';
import { MAX_COUNT } from './respond';

const DOCS = 'https://github.com/kauth/groups#scim-provisioning';

export const SERVICE_PROVIDER_CONFIG = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
  documentationUri: DOCS,
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: MAX_COUNT },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: true },
  authenticationSchemes: [
    {
      type: 'oauthbearertoken',
      name: 'Bearer token',
      description: 'An API key of the workspace (kauth_<slug>_…) or a JWT the server accepts, as "Authorization: Bearer <credential>"',
      primary: true,
    },
  ],
  meta: { resourceType: 'ServiceProviderConfig' },
};

interface Attribute {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  uniqueness?: 'none' | 'server' | 'global';
  description: string;
  subAttributes?: Attribute[];
  referenceTypes?: string[];
}

function attribute(spec: Attribute): Record<string, unknown> {
  return {
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...spec,
    ...(spec.subAttributes ? { subAttributes: spec.subAttributes.map(attribute) } : {}),
  };
}

const USER_ATTRIBUTES: Attribute[] = [
  { name: 'userName', type: 'string', required: true, uniqueness: 'server', description: 'Unique in the workspace, ignoring case.' },
  { name: 'externalId', type: 'string', caseExact: true, description: "The identity provider's id for the user." },
  {
    name: 'name',
    type: 'complex',
    description: "The user's name.",
    subAttributes: [
      { name: 'givenName', type: 'string', description: 'Given name.' },
      { name: 'familyName', type: 'string', description: 'Family name.' },
    ],
  },
  { name: 'displayName', type: 'string', description: "The name the service shows (GraphQL User.name); on create, \"givenName familyName\" when absent." },
  {
    name: 'emails',
    type: 'complex',
    multiValued: true,
    description: 'Email addresses, unique in the workspace. The primary one (else the work one, else the first) is the address the rest of the service shows.',
    subAttributes: [
      { name: 'value', type: 'string', description: 'The address.' },
      { name: 'type', type: 'string', description: 'work, home, other…' },
      { name: 'primary', type: 'boolean', description: 'The preferred address.' },
    ],
  },
  { name: 'active', type: 'boolean', description: 'False deactivates: the user is kept but grants nothing (no effective roles, nobody\'s member) until reactivated.' },
];

const GROUP_ATTRIBUTES: Attribute[] = [
  { name: 'displayName', type: 'string', required: true, description: 'Unique, ignoring case, among the groups under the same parent.' },
  { name: 'externalId', type: 'string', caseExact: true, description: "The identity provider's id for the group." },
  {
    name: 'members',
    type: 'complex',
    multiValued: true,
    description: 'Direct members: users only (groups nest through the tree, not through members).',
    subAttributes: [
      { name: 'value', type: 'string', mutability: 'immutable', description: 'The user id.' },
      { name: 'display', type: 'string', mutability: 'readOnly', description: "The user's displayName, else userName." },
      { name: 'type', type: 'string', mutability: 'immutable', description: 'Always User.' },
      { name: '$ref', type: 'reference', referenceTypes: ['User'], mutability: 'immutable', description: 'The user resource.' },
    ],
  },
];

const TREE_ATTRIBUTES: Attribute[] = [
  { name: 'parentId', type: 'string', mutability: 'readOnly', description: 'The parent group, or null for a root (or a parent the credential cannot read).' },
  { name: 'ancestorIds', type: 'string', multiValued: true, mutability: 'readOnly', description: 'Ancestors the credential can read, nearest first.' },
];

function schema(id: string, name: string, description: string, attributes: Attribute[]) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id,
    name,
    description,
    attributes: attributes.map(attribute),
    meta: { resourceType: 'Schema', location: `/Schemas/${id}` },
  };
}

export const SCHEMAS = [
  schema(USER_SCHEMA, 'User', 'A user of the workspace', USER_ATTRIBUTES),
  schema(GROUP_SCHEMA, 'Group', 'A group of the workspace', GROUP_ATTRIBUTES),
  schema(TREE_SCHEMA, 'GroupTree', "A group's place in the workspace's tree (read-only)", TREE_ATTRIBUTES),
];

export const RESOURCE_TYPES = [
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'Users of the workspace',
    schema: USER_SCHEMA,
    schemaExtensions: [],
    meta: { resourceType: 'ResourceType', location: '/ResourceTypes/User' },
  },
  {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'Groups of the workspace, made under the credential\'s groups:write subtree',
    schema: GROUP_SCHEMA,
    schemaExtensions: [{ schema: TREE_SCHEMA, required: true }],
    meta: { resourceType: 'ResourceType', location: '/ResourceTypes/Group' },
  },
];
