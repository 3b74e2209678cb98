// A burst of writes on one workspace gets answers a client can act on, never a 500, and the
// writes that were refused leave nothing behind.
import { DEFAULT_POOL } from '../src/db';
import { eachBackend } from './support/harness';
import { Rest } from './support/rest';

const BURST = 500;
const ACCEPTABLE = new Set([201, 409, 429, 503]);

eachBackend('a burst of concurrent writes', (h) => {
  it(`answers ${BURST} concurrent group creations with 201, 409, 429 or 503, and keeps exactly the ones it accepted`, async () => {
    const ws = await h.workspace();
    const rest = new Rest(ws);
    const root = await rest.group('burst root');
    const responses = await Promise.all(
      Array.from({ length: BURST }, (_, i) => rest.post('/groups', { name: `burst ${i}`, parentGroupId: root.id })),
    );
    const statuses = responses.map((res) => res.status);
    const unexpected = responses.filter((res) => !ACCEPTABLE.has(res.status)).map((res) => `${res.status} ${JSON.stringify(res.body)}`);
    expect(unexpected).toEqual([]);
    for (const res of responses.filter((r) => r.status === 503)) {
      expect(res.body.error.code).toBe('unavailable');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    const created = statuses.filter((s) => s === 201).length;
    expect(created).toBeGreaterThan(0);
    const children = await h.db.prisma.group.count({ where: { tenantId: ws.tenant.id, parentGroupId: root.id } });
    expect(children).toBe(created);
    expect((await rest.get('/groups?limit=1')).status).toBe(200);
  }, 120_000);
  // As deployed, a write waits for its turn less long than its request's deadline: with the test
  // apps' generous 60 s for both, a slow machine's last writes would time out (504) instead of 429.
}, { traffic: { concurrentPerCredential: 1000, pointsPerWindow: 1e9, requestsPerAddress: 1e9 }, pool: { writeQueueWaitMs: DEFAULT_POOL.writeQueueWaitMs } });
