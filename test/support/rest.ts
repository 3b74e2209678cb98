// A small REST client for the conformance suites: requests to /t/<slug>/api/v1 of a
// workspace with a bearer key, and factories that go through the REST API itself.
import type { Response, Workspace } from './harness';

export interface RestGroup {
  id: number;
  name: string;
  description: string | null;
  parentGroupId: number | null;
  tenantId: number;
}

export interface RestErrorBody {
  error: { code: string; message: string; details?: Record<string, any> };
}

export const GROUP_FIELDS = ['description', 'id', 'name', 'parentGroupId', 'tenantId'];

export class Rest {
  constructor(
    readonly ws: Workspace,
    readonly key: string | null = ws.adminKey,
  ) {}

  get base(): string {
    return `/t/${this.ws.tenant.slug}/api/v1`;
  }

  /** The same workspace as another credential (null: none). */
  as(key: string | null): Rest {
    return new Rest(this.ws, key);
  }

  request<T = any>(method: string, path: string, options: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}): Promise<Response<T>> {
    const headers: Record<string, string> = { ...(this.key ? { authorization: `Bearer ${this.key}` } : {}), ...options.headers };
    return this.ws.h.request<T>(method, this.base + path, { ...options, headers });
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown) {
    return this.request<T>('POST', path, { body });
  }
  put<T = any>(path: string, body?: unknown) {
    return this.request<T>('PUT', path, { body });
  }
  delete<T = any>(path: string) {
    return this.request<T>('DELETE', path);
  }

  /** Creates a group through POST /groups; fails the test unless it answers 201. */
  async group(name: string, parentGroupId?: number | null, description?: string): Promise<RestGroup> {
    const res = await this.post<RestGroup>('/groups', { name, parentGroupId, description });
    if (res.status !== 201) throw new Error(`POST /groups answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** A user of the workspace (users are not part of the REST API), as a numeric id. */
  async user(): Promise<number> {
    return Number(await this.ws.user());
  }

  /** Direct member ids of a group, read through GraphQL (every page of `members`). */
  async memberIds(groupId: number): Promise<number[]> {
    const query = 'query($id: ID!, $after: String) { group(id: $id) { members(first: 100, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }';
    const ids: number[] = [];
    for (let after: string | null = null; ; ) {
      const { members }: { members: MemberPage } = (await this.ws.ok(query, { id: String(groupId), after })).group;
      ids.push(...members.nodes.map((u) => Number(u.id)));
      if (!members.pageInfo.hasNextPage) return ids;
      after = members.pageInfo.endCursor;
    }
  }
}

interface MemberPage {
  nodes: { id: string }[];
  pageInfo: { hasNextPage: boolean; endCursor: string };
}

/** The error code of a REST error response. */
export const errorCode = (res: Response<RestErrorBody>): string | undefined => res.body?.error?.code;
