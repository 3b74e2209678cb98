// A small SCIM 2.0 client for the SCIM suites: requests to <baseUrl>/t/<slug>/scim/v2 over real HTTP
// with a bearer key, bodies sent as application/scim+json, JSON answers parsed; and the helpers
// the SCIM suites share (a fresh workspace's client, status checks, sorters, GraphQL queries).
import type { Harness, Workspace } from './harness';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const TREE_SCHEMA = 'urn:kauth:params:scim:schemas:extension:tree:2.0:Group';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** The content type of every SCIM response. */
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export interface ScimResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export class Scim {
  constructor(
    readonly baseUrl: string,
    readonly slug: string,
    readonly key: string | null,
  ) {}

  /** The absolute base of this workspace's SCIM endpoint (what meta.location starts with). */
  get base(): string {
    return `${this.baseUrl}/t/${this.slug}/scim/v2`;
  }

  /** The same workspace as another credential (null: none). */
  as(key: string | null): Scim {
    return new Scim(this.baseUrl, this.slug, key);
  }

  /**
   * One request. `body`: an object is sent as JSON; a string is sent as is. The content type is
   * application/scim+json unless `headers` say otherwise; the bearer key is sent unless `headers`
   * carry their own authorization.
   */
  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ScimResponse<T>> {
    const all: Record<string, string> = {};
    if (this.key) all.authorization = `Bearer ${this.key}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      all['content-type'] = 'application/scim+json';
    }
    for (const [name, value] of Object.entries(headers)) all[name.toLowerCase()] = value;
    const res = await fetch(this.base + path, { method, headers: all, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('GET', path, undefined, headers);
  }
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, body, headers);
  }
  put<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('PUT', path, body, headers);
  }
  patch<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('PATCH', path, body, headers);
  }
  delete<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('DELETE', path, undefined, headers);
  }
}

/** A PatchOp request body with these operations. */
export function patchOp(...Operations: Record<string, unknown>[]): { schemas: string[]; Operations: Record<string, unknown>[] } {
  return { schemas: [PATCH_SCHEMA], Operations };
}

/** `filter=<expression>` URL-encoded, for a query string. */
export function filter(expression: string): string {
  return `filter=${encodeURIComponent(expression)}`;
}

/** What meta.created / meta.lastModified look like: an ISO 8601 instant. */
export const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** A SCIM id: a positive integer written as a string. */
export const ID = /^[1-9][0-9]*$/;

/** A weak ETag as meta.version and the ETag header carry it: W/"<n>". */
export const VERSION = /^W\/"[^"]+"$/;

/** The SCIM error body (no scimType unless given; detail any string). */
export function scimError(status: number, scimType?: string) {
  return { schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail: expect.any(String) };
}

/** Asserts a SCIM error response: status, content type and the exact error body (detail any string). */
export function expectScimError(res: ScimResponse, status: number, scimType?: string): void {
  expect({ status: res.status, contentType: res.headers.get('content-type') }).toEqual({ status, contentType: SCIM_CONTENT_TYPE });
  expect(res.body).toEqual(scimError(status, scimType));
}

/** Asserts a 200/201 single-resource answer: status, SCIM content type, ETag = meta.version. */
export function expectResource(res: ScimResponse, status = 200): void {
  expect({ status: res.status, contentType: res.headers.get('content-type') }).toEqual({ status, contentType: SCIM_CONTENT_TYPE });
  expect(res.headers.get('etag')).toBe(res.body.meta.version);
}

/** Asserts a 204 answer without a body. */
export function expectNoContent(res: ScimResponse): void {
  expect({ status: res.status, body: res.body }).toEqual({ status: 204, body: '' });
}

/** A fresh workspace and the SCIM client of its admin key. */
export async function connectScim(h: Harness): Promise<{ ws: Workspace; scim: Scim }> {
  const ws = await h.workspace();
  return { ws, scim: new Scim(h.baseUrl, ws.tenant.slug, ws.adminKey) };
}

/**
 * A fresh workspace with root R, its children G and Sibling, another root Outside, and the SCIM
 * client of a key restricted to G (users:read/write; groups:read, groups:write and
 * groups:members:write at G).
 */
export async function restrictedSubtree(h: Harness) {
  const { ws } = await connectScim(h);
  const root = await ws.group('R');
  const g = await ws.group('G', root);
  const sibling = await ws.group('Sibling', root);
  const outside = await ws.group('Outside');
  const key = await ws.key(['users:write', 'users:read', `groups:write@${g}`, `groups:members:write@${g}`, `groups:read@${g}`]);
  return { ws, root, g, sibling, outside, scim: new Scim(h.baseUrl, ws.tenant.slug, key) };
}

/** The body of an answer with this status; throws (failing the test) with the status and body of any other. */
async function bodyIf(status: number, res: Promise<ScimResponse> | ScimResponse): Promise<any> {
  const { status: got, body } = await res;
  if (got !== status) throw new Error(`expected ${status}, answered ${got}: ${JSON.stringify(body)}`);
  return body;
}

/** The body of a 201 answer (a POST that created its resource); throws unless 201. */
export function created(res: Promise<ScimResponse> | ScimResponse): Promise<any> {
  return bodyIf(201, res);
}

/** The body of a 200 answer (a GET that found its resource or list); throws unless 200. */
export function ok(res: Promise<ScimResponse> | ScimResponse): Promise<any> {
  return bodyIf(200, res);
}

/** Compares ids written as strings by their number. */
export const byNumber = (a: string, b: string) => Number(a) - Number(b);

/** A sorted copy of these ids, by number. */
export const sorted = (values: string[]): string[] => [...values].sort(byNumber);

/** The ids of a GraphQL list, sorted by number. */
export const sortedIds = (list: { id: string }[]): string[] => sorted(list.map((x) => x.id));

/** The ids of a SCIM group's members, sorted by number (an absent `members` is none). */
export const memberValues = (group: any): string[] => sorted((group.members ?? []).map((m: { value: string }) => m.value));

/** The ids of a ListResponse's Resources, in the order given. */
export const resourceIds = (res: ScimResponse): string[] => res.body.Resources.map((r: { id: string }) => r.id);

/** A user as GraphQL reads it, with its effective roles. */
export const USER_GQL = 'query($id: ID!) { user(id: $id) { id name email userName externalId active effectiveRoles { role { name } } } }';

/** The first 100 audit events matching `$filter`. */
export const AUDIT = `query($filter: AuditEventFilter) { auditEvents(first: 100, filter: $filter) {
  nodes { action actor { kind ref } target { type id } changes { field before after } } } }`;

/** An audit event's changes as field → [before, after]. */
export const changesOf = (node: any): Record<string, [unknown, unknown]> =>
  Object.fromEntries(node.changes.map((c: any) => [c.field, [c.before, c.after]]));

/** The actor ref an API key is recorded as. */
export async function keyRef(ws: Workspace, key: string): Promise<string> {
  const res = await ws.gql('{ viewer { apiKey { id } } }', {}, key);
  return `apikey:${res.body.data.viewer.apiKey.id}`;
}

/** `n` users inserted straight into the database (for paging and big member lists); ids ascending. */
export async function bulkUsers(h: Harness, ws: Workspace, n: number): Promise<string[]> {
  const tag = `${ws.tenant.id}-${Date.now().toString(36)}`;
  // One statement: Prisma's createMany of 10,000 rows takes seconds on PGlite.
  await h.db.prisma.$executeRaw`
    INSERT INTO users (tenant_id, email, user_name, name)
    SELECT ${ws.tenant.id}::int, 'bulk-' || ${tag}::text || '-' || i || '@example.com', 'bulk-' || ${tag}::text || '-' || i, 'Bulk ' || i
    FROM generate_series(0, ${n - 1}::int) AS i`;
  const rows = await h.db.prisma.user.findMany({ where: { tenantId: ws.tenant.id, email: { startsWith: `bulk-${tag}-` } }, select: { id: true }, orderBy: { id: 'asc' } });
  return rows.map((r) => String(r.id));
}
