// The service's own refusals reach a SCIM client in SCIM's error schema: a credential over its
// points (each SCIM request costs one, as a REST request does), an address over its requests,
// a request past its deadline. IdPs read `status` and `Retry-After` to back off.
import { eachBackend } from '../support/harness';
import { ERROR_SCHEMA, SCIM_CONTENT_TYPE, Scim, connectScim } from '../support/scim';

eachBackend('SCIM: a credential over its points', (h) => {
  it('spends one point per request and then answers 429 in SCIM form with Retry-After; discovery costs nothing', async () => {
    const { scim } = await connectScim(h);
    const first = await scim.get('/Users?count=1');
    expect(first.status).toBe(200);
    expect([first.headers.get('x-ratelimit-limit'), first.headers.get('x-ratelimit-remaining')]).toEqual(['5', '4']);
    for (let i = 0; i < 4; i += 1) expect((await scim.get('/Groups?count=1')).status).toBe(200);
    for (let i = 0; i < 3; i += 1) expect((await scim.get('/ServiceProviderConfig')).status).toBe(200);
    const refused = await scim.get('/Users?count=1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe(SCIM_CONTENT_TYPE);
    expect(refused.body).toEqual({ schemas: [ERROR_SCHEMA], status: '429', detail: expect.any(String) });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
  // Over the test apps' generous limits: 5 points in a window no run outlasts, however slow the machine.
}, { traffic: { pointsPerWindow: 5, windowSeconds: 3600 } });

eachBackend('SCIM: an address over its requests', (h) => {
  it('answers 429 in SCIM form before authentication', async () => {
    const anonymous = new Scim(h.baseUrl, 'any', null);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await anonymous.get('/Users')).status);
    const over = await anonymous.get('/Users');
    expect([...statuses, over.status]).toEqual([401, 401, 401, 429]);
    expect(over.body).toEqual({ schemas: [ERROR_SCHEMA], status: '429', detail: expect.any(String) });
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
}, { traffic: { requestsPerAddress: 3, windowSeconds: 3600 } });

eachBackend('SCIM: a request past its deadline', (h) => {
  it('answers 504 in SCIM form and writes nothing', async () => {
    const { ws, scim } = await connectScim(h);
    const late = await scim.post('/Users', { userName: 'late@example.com' });
    expect(late.status).toBe(504);
    expect(late.body).toEqual({ schemas: [ERROR_SCHEMA], status: '504', detail: expect.stringMatching(/deadline/) });
    expect(await h.db.prisma.user.count({ where: { tenantId: ws.tenant.id } })).toBe(0);
  });
}, { traffic: { requestTimeoutMs: 1 } });
