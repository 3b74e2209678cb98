// The embedded database's stand-in for autovacuum's analyze step (src/db/analyze.ts): tables
// changed past autovacuum's threshold are analyzed, the others are left alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Database, analyzeStaleTables, openDatabase } from '../src/db';
import { createTenant } from '../src/domain/tenants';

describe('analyzing changed tables on the embedded database', () => {
  let dataDir: string;
  let db: Database;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'kauth-analyze-'));
    db = await openDatabase({ kind: 'pglite', dataDir });
  });
  afterAll(async () => {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const analyzedAt = async (table: string) =>
    (await db.raw.query<{ at: Date | null }>('SELECT last_analyze AS at FROM pg_stat_user_tables WHERE relname = $1', [table]))[0].at;

  it('analyzes a table once more than 50 rows + 10% of it changed, then not again until it changes that much', async () => {
    await analyzeStaleTables(db.raw); // whatever the migrations and start-up left
    expect(await analyzeStaleTables(db.raw)).toEqual([]);
    const tenant = await createTenant(db.prisma, { slug: `analyze-${Date.now().toString(36)}` });
    await db.raw.query(
      `INSERT INTO users (tenant_id, user_name) SELECT $1, 'u' || i FROM generate_series(1, 40) AS i`,
      [tenant.id],
    );
    expect(await analyzeStaleTables(db.raw)).not.toContain('public.users'); // 40 rows: below the threshold
    await db.raw.query(`INSERT INTO users (tenant_id, user_name) SELECT $1, 'v' || i FROM generate_series(1, 2000) AS i`, [tenant.id]);
    expect(await analyzeStaleTables(db.raw)).toContain('public.users');
    expect(await analyzedAt('users')).toBeInstanceOf(Date);
    const [{ reltuples }] = await db.raw.query<{ reltuples: number }>("SELECT reltuples FROM pg_class WHERE relname = 'users'");
    expect(reltuples).toBeGreaterThanOrEqual(2040);
    expect(await analyzeStaleTables(db.raw)).toEqual([]);
  });
});
