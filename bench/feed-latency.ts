// How long a committed change takes to reach a subscriber: two real server processes on one
// PostgreSQL, a graphql-ws subscriber on process A, writes (renames) through process A and then
// through process B. For each write: sent → answered (the commit is before the answer) → event
// received. "answered → received" is a lower bound on commit-to-subscriber latency and
// "sent → received" an upper bound.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/kauth_bench npx tsx bench/feed-latency.ts
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { OPERATOR, createApiKey } from '../src/domain/apikeys';
import { createGroup } from '../src/domain/groups';
import { type ServerProcess, startServer, stopServer } from '../test/support/servers';
import { openBenchWorkspace, percentile, runBench } from './support';

const WRITES = Number(process.env.WRITES ?? 200);

/** One server process on the bench database, rate limits out of the way. */
async function startBenchServer(url: string): Promise<ServerProcess> {
  const server = await startServer({ DATABASE_URL: url, RATE_LIMIT_POINTS: '100000000' });
  await server.ready;
  return server;
}

runBench(async () => {
  if (!process.env.DATABASE_URL) throw new Error('needs DATABASE_URL (a scratch PostgreSQL database such as kauth_bench)');
  const bench = await openBenchWorkspace();
  const servers = [await startBenchServer(process.env.DATABASE_URL), await startBenchServer(process.env.DATABASE_URL)];
  try {
    const { key } = await createApiKey(bench.ctx, OPERATOR, { name: 'bench', scopes: ['groups:write'] });
    const group = await createGroup(bench.ctx, { name: 'watched' });
    const client = createClient({ url: `${servers[0].baseUrl.replace('http', 'ws')}/graphql/ws`, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` } });
    const received = new Map<string, number>();
    let live: () => void = () => undefined;
    const isLive = new Promise<void>((resolve) => (live = resolve));
    client.subscribe<{ groupChanges: { group: { name: string } | null } }>(
      { query: 'subscription { groupChanges { action group { name } } }' },
      {
        next: (result) => {
          const name = result.data?.groupChanges.group?.name;
          if (name) received.set(name, performance.now());
          if (name === 'warm-up') live();
        },
        error: (error) => console.error('subscription error', error),
        complete: () => undefined,
      },
    );
    const rename = async (base: string, name: string) => {
      const res = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation($id: ID!, $n: String!) { updateGroup(id: $id, input: { name: $n }) { id } }', variables: { id: String(group.id), n: name } }),
      });
      if (!res.ok) throw new Error(`write failed: ${res.status} ${await res.text()}`);
    };
    // Subscribing is asynchronous: write until the subscriber sees a write, then measure.
    while (!received.has('warm-up')) {
      await rename(servers[0].baseUrl, 'warm-up');
      await Promise.race([isLive, new Promise((r) => setTimeout(r, 200))]);
    }
    console.log(`${WRITES} renames per row, one at a time; subscriber on process A`);
    console.log('| written through | answered → received p50 / p95 ms | sent → received p50 / p95 ms |');
    console.log('| --- | --- | --- |');
    for (const [label, server] of [['process A (same)', servers[0]], ['process B (other)', servers[1]]] as const) {
      const afterAnswer: number[] = [];
      const afterSend: number[] = [];
      for (let i = 0; i < WRITES; i += 1) {
        const name = `${label}-${i}`;
        const sent = performance.now();
        await rename(server.baseUrl, name);
        const answered = performance.now();
        const until = answered + 10_000;
        while (!received.has(name)) {
          if (performance.now() > until) throw new Error(`event for ${name} not received within 10 s`);
          await new Promise((r) => setImmediate(r));
        }
        afterAnswer.push(Math.max(0, received.get(name)! - answered));
        afterSend.push(received.get(name)! - sent);
      }
      const fmt = (values: number[]) => `${percentile(values, 50).toFixed(1)} / ${percentile(values, 95).toFixed(1)}`;
      console.log(`| ${label} | ${fmt(afterAnswer)} | ${fmt(afterSend)} |`);
    }
    await client.dispose();
  } finally {
    await Promise.all(servers.map(stopServer));
    await bench.close();
  }
});
