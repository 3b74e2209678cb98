// Migration 20261206000002_sibling_names on a database that already has groups breaking the rule:
// each later duplicate (by id) among siblings, ignoring case, is renamed "name (n)" with a number no
// sibling has, within 255 characters, each rename audited; then the unique index holds the rule.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Database, migrate, openDatabase } from '../src/db';
import { readMigrations } from '../src/db/migrator';
import { backends } from './support/harness';
import { databaseUrl, withAdmin } from './support/postgres';

const MIGRATION = '20261206000002_sibling_names';

/** A fresh database on `backend` migrated up to, not including, the sibling-name migration. */
async function databaseBeforeMigration(backend: string): Promise<[Database, () => Promise<void>]> {
  let db: Database;
  let drop: () => Promise<void>;
  if (backend === 'pglite') {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'kauth-sibmig-'));
    db = await openDatabase({ kind: 'pglite', dataDir }, { migrate: false });
    drop = async () => rmSync(dataDir, { recursive: true, force: true });
  } else {
    const name = `${process.env.KAUTH_TEST_POSTGRES_DB}_sibmig`;
    await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    await withAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
    db = await openDatabase({ kind: 'postgres', url: databaseUrl(name) }, { migrate: false });
    drop = () => withAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined);
  }
  await migrate(db.raw, readMigrations().filter((m) => m.name < MIGRATION));
  return [db, async () => {
    await db.close();
    await drop();
  }];
}

describe.each(backends())('sibling-name migration [%s]', (backend) => {
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    [db, drop] = await databaseBeforeMigration(backend);
  }, 120_000);
  afterAll(() => drop());

  async function tenant(slug: string): Promise<number> {
    const [row] = await db.raw.query<{ id: number }>("INSERT INTO tenants (slug, name) VALUES ($1, $1) RETURNING id", [slug]);
    return row.id;
  }

  /** Inserts a group as an older version of the service could have (no rule), returning its id. */
  async function group(tenantId: number, name: string, parentId: number | null = null): Promise<number> {
    const [row] = await db.raw.query<{ id: number }>(
      `WITH n AS (SELECT nextval(pg_get_serial_sequence('groups', 'id'))::int AS id)
       INSERT INTO groups (id, tenant_id, name, parent_group_id, path)
       SELECT n.id, $1::int, $2, $3::int, coalesce((SELECT path FROM groups WHERE id = $3::int), '{}') || n.id FROM n RETURNING id`,
      [tenantId, name, parentId],
    );
    return row.id;
  }

  const nameOf = async (id: number) => (await db.raw.query<{ name: string; version: number }>('SELECT name, version FROM groups WHERE id = $1', [id]))[0];

  it('renames later duplicates "name (n)" with a free number, keeps the oldest, audits each rename, then creates the unique index', async () => {
    const acme = await tenant('acme');
    const other = await tenant('other');
    const eng = await group(acme, 'Engineering');
    const engLower = await group(acme, 'engineering');
    const engTaken = await group(acme, 'Engineering (2)');
    const engUpper = await group(acme, 'ENGINEERING');
    // The same name under different parents, or in another workspace, is no duplicate.
    const platformA = await group(acme, 'Platform', eng);
    const platformB = await group(acme, 'Platform', engLower);
    const platformDup = await group(acme, 'platform', eng);
    const otherEng = await group(other, 'Engineering');
    const long = 'L'.repeat(255);
    const long1 = await group(acme, long, eng);
    const long2 = await group(acme, long.toLowerCase(), eng);
    await db.raw.exec("INSERT INTO audit_sequences (tenant_id, last_seq) VALUES (" + acme + ", 41)");

    const report = await migrate(db.raw, readMigrations().filter((m) => m.name <= MIGRATION)); // this one, not those after it
    expect(report.applied).toEqual([MIGRATION]);

    expect(await nameOf(eng)).toEqual({ name: 'Engineering', version: 1 });
    expect(await nameOf(engLower)).toEqual({ name: 'engineering (3)', version: 2 });
    expect(await nameOf(engTaken)).toEqual({ name: 'Engineering (2)', version: 1 });
    expect(await nameOf(engUpper)).toEqual({ name: 'ENGINEERING (4)', version: 2 });
    expect((await nameOf(platformA)).name).toBe('Platform');
    expect((await nameOf(platformB)).name).toBe('Platform');
    expect((await nameOf(platformDup)).name).toBe('platform (2)');
    expect((await nameOf(otherEng)).name).toBe('Engineering');
    expect((await nameOf(long1)).name).toBe(long);
    expect((await nameOf(long2)).name).toBe(`${'l'.repeat(251)} (2)`);

    const events = await db.raw.query<{ tenant_id: number; seq: string; actor: string; actor_name: string; action: string; target_id: string; group_path: number[]; changes: unknown }>(
      'SELECT tenant_id, seq::text, actor, actor_name, action, target_id, group_path, changes FROM audit_events ORDER BY tenant_id, seq',
    );
    expect(events.map((e) => [e.tenant_id, e.seq, e.target_id, e.changes])).toEqual([
      [acme, '42', String(engLower), { name: { before: 'engineering', after: 'engineering (3)' } }],
      [acme, '43', String(engUpper), { name: { before: 'ENGINEERING', after: 'ENGINEERING (4)' } }],
      [acme, '44', String(platformDup), { name: { before: 'platform', after: 'platform (2)' } }],
      [acme, '45', String(long2), { name: { before: long.toLowerCase(), after: `${'l'.repeat(251)} (2)` } }],
    ]);
    expect(events.every((e) => e.actor === 'cli' && e.actor_name === `migration ${MIGRATION}` && e.action === 'GROUP_RENAMED')).toBe(true);
    expect(events[2].group_path).toEqual([eng, platformDup]);
    const [sequence] = await db.raw.query<{ last_seq: string }>('SELECT last_seq::text FROM audit_sequences WHERE tenant_id = $1', [acme]);
    expect(sequence.last_seq).toBe('45');

    const [index] = await db.raw.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'groups_sibling_name_key'");
    expect(index.indexdef).toMatch(/^CREATE UNIQUE INDEX groups_sibling_name_key ON public\.groups USING btree \(tenant_id, COALESCE\(parent_group_id, 0\), lower\(\(name\)::text\)\)$/);
    // The database itself now refuses a duplicate, at the top level and under a parent, whatever the code does.
    await expect(group(acme, 'engineering')).rejects.toThrow(/groups_sibling_name_key/);
    await expect(group(acme, 'PLATFORM', eng)).rejects.toThrow(/groups_sibling_name_key/);
    expect(await group(acme, 'Platform', engTaken)).toBeGreaterThan(0);
  });
});
