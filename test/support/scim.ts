// A small SCIM 2.0 client for the SCIM suites: requests to <baseUrl>/t/<slug>/scim/v2 over real HTTP
// with a bearer key, bodies sent as application/scim+json, JSON answers parsed.

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

/** Asserts a SCIM error response: status, content type and the exact error body (detail any string). */
export function expectScimError(res: ScimResponse, status: number, scimType?: string): void {
  expect({ status: res.status, contentType: res.headers.get('content-type') }).toEqual({ status, contentType: SCIM_CONTENT_TYPE });
  expect(res.body).toEqual({
    schemas: [ERROR_SCHEMA],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    detail: expect.any(String),
  });
}
