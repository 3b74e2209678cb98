// What an operator sees: Prometheus metrics behind a token, readiness, one log line per request.
import { Writable } from 'node:stream';
import { queryLimits } from '../src/config';
import { eachBackend } from './support/harness';
import { waitFor } from './support/wait';

const METRICS_TOKEN = 'a-metrics-token-for-tests';
const logLines: Record<string, any>[] = [];
/** The lines as written: JSON.parse keeps one of two keys of the same name, the text has both. */
const rawLines: string[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      rawLines.push(line);
      logLines.push(JSON.parse(line));
    }
    done();
  },
});

eachBackend('observability', (h) => {
  it('serves /metrics only with the metrics token, in Prometheus text', async () => {
    expect((await h.request('GET', '/metrics')).status).toBe(401);
    expect((await h.request('GET', '/metrics', { headers: { authorization: 'Bearer wrong-token-of-same-size!' } })).status).toBe(401);
    const ws = await h.workspace();
    await ws.group('g');
    await ws.gql('{ groups { totalCount nodes { children { nodes { id } } } } }');
    await ws.gql('{ a: viewer { scopes } b: viewer { scopes } }');
    await ws.gql(`{ ${'x: viewer { scopes } '.repeat(1)}${Array.from({ length: 40 }, (_, i) => `a${i}: viewer { scopes }`).join(' ')} }`);
    await h.request('GET', `/t/${ws.tenant.slug}/api/v1/groups`, { headers: { authorization: `Bearer ${ws.adminKey}` } });
    const res = await h.request('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = res.body as string;
    expect(text).toMatch(/kauth_http_requests_total\{route="\/graphql",operation="query groups",status="200"\} [1-9]/);
    expect(text).toMatch(/kauth_http_requests_total\{route="\/t\/:slug\/api\/v1\/groups",operation="",status="200"\} [1-9]/);
    expect(text).toMatch(/kauth_http_request_duration_seconds_bucket\{le="0.005",route="\/graphql",operation="query groups"\}/);
    expect(text).toMatch(/kauth_graphql_query_cost_count [1-9]/);
    expect(text).toMatch(/kauth_refusals_total\{reason="aliases"\} 1/);
    expect(text).toMatch(/kauth_dataloader_batch_size_count\{loader="/);
    expect(text).toContain('kauth_database_errors_total');
    if (h.backend === 'postgres') expect(text).toMatch(/kauth_db_pool_connections\{state="in_use"\} \d+/);
  });

  it('answers /readyz when the database is reachable and migrated, with who keeps statistics, and /healthz always', async () => {
    // The embedded database has no autovacuum; a PostgreSQL server with it off leaves them to the service.
    const autovacuum = h.backend === 'postgres' && (await h.db.raw.query<{ autovacuum: string }>('SHOW autovacuum'))[0].autovacuum === 'on';
    expect((await h.request('GET', '/readyz')).body).toEqual({ status: 'ready', statistics: autovacuum ? 'database' : 'service' });
    expect((await h.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
  });

  it('logs one line per request with its id, workspace, credential, operation, cost and duration, never the secret', async () => {
    const ws = await h.workspace();
    const res = await h.request('POST', '/graphql', {
      headers: { authorization: `Bearer ${ws.adminKey}`, 'x-request-id': `log-test-${h.backend}` },
      body: { query: 'query TreePage { groups(first: 3) { nodes { id } } }' },
    });
    expect(res.status).toBe(200);
    // A line is written once its response has gone, which may be after the client has it: the
    // line of a later request marks the point by which this one's have all been written.
    const marker = `log-marker-${h.backend}`;
    await h.request('GET', '/healthz', { headers: { 'x-request-id': marker } });
    await waitFor('the later request\'s log line', () => logLines.some((line) => line.reqId === marker));
    const lines = logLines.filter((line) => line.reqId === `log-test-${h.backend}`);
    expect(lines).toHaveLength(1);
    const keyId = (await h.db.prisma.apiKey.findFirstOrThrow({ where: { tenantId: ws.tenant.id } })).id;
    expect(lines[0]).toMatchObject({
      msg: 'request',
      route: '/graphql',
      status: 200,
      workspace: ws.tenant.slug,
      credential: `key:${keyId}`,
      operation: 'TreePage',
      cost: 1 + 3,
    });
    expect(typeof lines[0].durationMs).toBe('number');
    const raw = rawLines.filter((line) => line.includes(`"log-test-${h.backend}"`));
    expect(raw).toHaveLength(1);
    expect(raw[0].match(/"reqId":/g)).toHaveLength(1);
    const secret = ws.adminKey.slice(ws.adminKey.lastIndexOf('_') + 1);
    expect(JSON.stringify(logLines)).not.toContain(secret);
  });
}, { app: { metricsToken: METRICS_TOKEN, logger: { level: 'info', stream: logStream }, query: queryLimits({}) } });

eachBackend('observability without a metrics token', (h) => {
  it('does not serve /metrics at all', async () => {
    expect((await h.request('GET', '/metrics')).status).toBe(404);
  });
});
