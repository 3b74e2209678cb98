// The floor for `npm run bench` (bench/scale.ts): a bare Fastify + `pg` server doing only the
// essential work of the service's REST `GET /t/{slug}/api/v1/groups/{id}`, with nothing of the
// service's code: take the bearer key `kauth_<slug>_<secret>`, SHA-256 its secret, SELECT the
// live key and its workspace by that hash (one statement), SELECT the group by workspace and id
// (one statement), answer it as JSON in the REST shape. No logging, no rate limits, no scopes
// beyond "the key is live and belongs to this workspace".
//
//   DATABASE_URL=postgres://…/kauth_bench PORT=4100 node --require tsx/cjs bench/floor-server.ts
//
// Prints `floor listening on <url>` once it listens; stops on SIGTERM.
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { Pool } from 'pg';

const KEY_FORMAT = /^Bearer kauth_([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)_([A-Za-z0-9]{32,128})$/;

interface KeyRow {
  tenant_id: number;
  slug: string;
}

interface GroupRow {
  id: number;
  name: string;
  description: string | null;
  parent_group_id: number | null;
  tenant_id: number;
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  const pool = new Pool({ connectionString: url, max: Number(process.env.DB_POOL_SIZE ?? 10) });
  const app = Fastify({ logger: false });

  app.get<{ Params: { slug: string; id: string } }>('/t/:slug/api/v1/groups/:id', async (request, reply) => {
    const match = KEY_FORMAT.exec(request.headers.authorization ?? '');
    if (!match || match[1] !== request.params.slug) return reply.code(401).send({ error: { code: 'unauthenticated' } });
    const hash = createHash('sha256').update(match[2]).digest('hex');
    const keys = await pool.query<KeyRow>(
      `SELECT k.tenant_id, t.slug FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
       WHERE k.secret_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())`,
      [hash],
    );
    const key = keys.rows[0];
    if (!key || key.slug !== match[1]) return reply.code(401).send({ error: { code: 'unauthenticated' } });
    const id = Number(request.params.id);
    if (!Number.isInteger(id) || id < 1 || id > 2_147_483_647) return reply.code(400).send({ error: { code: 'invalid_request' } });
    const groups = await pool.query<GroupRow>(
      'SELECT id, name, description, parent_group_id, tenant_id FROM groups WHERE tenant_id = $1 AND id = $2',
      [key.tenant_id, id],
    );
    const group = groups.rows[0];
    if (!group) return reply.code(404).send({ error: { code: 'not_found' } });
    return {
      id: group.id,
      name: group.name,
      description: group.description,
      parentGroupId: group.parent_group_id,
      tenantId: group.tenant_id,
    };
  });

  const stop = async () => {
    await app.close();
    await pool.end();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 4100) });
  process.stdout.write(`floor listening on ${address}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
