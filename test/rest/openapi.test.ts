// The OpenAPI 3.1 document generated from the REST route schemas: valid, complete, public.
import { eachBackend } from '../support/harness';
import { Rest } from '../support/rest';

const DOCUMENTED_ROUTES = [
  'get /t/{slug}/api/v1/groups',
  'post /t/{slug}/api/v1/groups',
  'get /t/{slug}/api/v1/groups/{groupId}',
  'put /t/{slug}/api/v1/groups/{groupId}',
  'delete /t/{slug}/api/v1/groups/{groupId}',
  'post /t/{slug}/api/v1/groups/{groupId}/members/{userId}',
  'delete /t/{slug}/api/v1/groups/{groupId}/members/{userId}',
];

type Operation = { parameters?: { name: string; in: string }[]; responses: Record<string, { content?: Record<string, { schema: any }> }> };

async function validateOpenApi(document: Record<string, unknown>) {
  const { Validator } = await import('@seriousme/openapi-schema-validator');
  return new Validator().validate(document);
}

eachBackend('REST OpenAPI document', (h) => {
  it('is a valid OpenAPI 3.1 document served without credentials', async () => {
    const api = new Rest(await h.workspace()).as(null);
    const res = await api.get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const result = await validateOpenApi(res.body);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('lists exactly the REST routes, each with its path parameters declared', async () => {
    const api = new Rest(await h.workspace());
    const doc = (await api.get('/openapi.json')).body;
    const operations: [string, Operation][] = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(
      ([path, item]) => Object.entries(item).map(([method, op]): [string, Operation] => [`${method} ${path}`, op]),
    );
    expect(operations.map(([route]) => route).sort()).toEqual([...DOCUMENTED_ROUTES].sort());
    for (const [route, op] of operations) {
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort();
      const templated = [...route.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect({ route, declared }).toEqual({ route, declared: templated });
    }
  });

  it('describes the Group object with exactly the documented fields and the error envelope', async () => {
    const api = new Rest(await h.workspace());
    const doc = (await api.get('/openapi.json')).body;
    const getGroup = doc.paths['/t/{slug}/api/v1/groups/{groupId}'].get as Operation;
    expect(getGroup.responses['200'].content!['application/json'].schema).toEqual({ $ref: '#/components/schemas/Group' });
    expect(getGroup.responses['404'].content!['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    const { Group: group, Error: error } = doc.components.schemas;
    expect(Object.keys(group.properties).sort()).toEqual(['description', 'id', 'name', 'parentGroupId', 'tenantId']);
    expect(group.properties.id.type).toBe('integer');
    expect(error.properties.error.required).toEqual(['code', 'message']);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('is the same document whatever the slug, so it does not tell which workspaces exist', async () => {
    const ws = await h.workspace();
    const known = await h.request('GET', `/t/${ws.tenant.slug}/api/v1/openapi.json`);
    const unknown = await h.request('GET', '/t/no-such-workspace/api/v1/openapi.json');
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual(known.body);
  });
});
