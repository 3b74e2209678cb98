// The hand-written migrations: applied once, recorded as Prisma records them, refused when
// changed after being applied; and the Prisma schema matches them (every model round-trips).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Database, migrate, openDatabase } from '../src/db';
import { readMigrations } from '../src/db/migrator';
import { backends } from './support/harness';
import { postgresUrl } from './support/services';

async function open(backend: string): Promise<{ db: Database; cleanup: () => void }> {
  if (backend === 'postgres') {
    return { db: await openDatabase({ kind: 'postgres', url: postgresUrl()! }), cleanup: () => undefined };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'kauth-mig-'));
  return { db: await openDatabase({ kind: 'pglite', dataDir: dir }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

for (const backend of backends()) {
  describe(`migrations [${backend}]`, () => {
    let db: Database;
    let cleanup: () => void;
    beforeAll(async () => ({ db, cleanup } = await open(backend)), 60_000);
    afterAll(async () => {
      await db.close();
      cleanup();
    });

    it('records every migration in _prisma_migrations with its checksum, and applying again is a no-op', async () => {
      const files = readMigrations();
      const rows = await db.raw.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
        'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
      );
      expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(files.map((f) => [f.name, f.checksum]));
      expect(rows.every((r) => r.finished_at !== null && r.applied_steps_count === 1)).toBe(true);
      const again = await migrate(db.raw);
      expect(again).toEqual({ applied: [], alreadyApplied: files.map((f) => f.name) });
      const count = await db.raw.query<{ n: number }>('SELECT count(*)::int AS n FROM _prisma_migrations');
      expect(count[0].n).toBe(files.length);
    });

    it('refuses to run when an applied migration was changed afterwards', async () => {
      const changed = readMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'f'.repeat(64) } : m));
      await expect(migrate(db.raw, changed)).rejects.toThrow(/was modified after it was applied/);
    });

    it('refuses to run against a database with a migration this version does not know', async () => {
      await expect(migrate(db.raw, readMigrations().slice(1))).rejects.toThrow(/does not know/);
    });

    it('matches the Prisma schema: every model is written and read back through the generated client', async () => {
      const p = db.prisma;
      const tenant = await p.tenant.create({ data: { slug: `drift-${Date.now().toString(36)}`, name: 'Drift' } });
      const user = await p.user.create({ data: { tenantId: tenant.id, email: 'drift@example.com', userName: 'drift@example.com', name: 'D' } });
      const role = await p.role.create({ data: { tenantId: tenant.id, name: 'r', description: 'd' } });
      const [created] = await p.$queryRaw<{ id: number }[]>`
        WITH n AS (SELECT nextval(pg_get_serial_sequence('groups', 'id'))::int AS id)
        INSERT INTO groups (id, tenant_id, name, path) SELECT n.id, ${tenant.id}::int, 'g', ARRAY[n.id] FROM n RETURNING id`;
      const group = await p.group.findUniqueOrThrow({ where: { id: created.id } });
      await p.groupMember.create({ data: { tenantId: tenant.id, groupId: group.id, userId: user.id } });
      await p.groupRole.create({ data: { tenantId: tenant.id, groupId: group.id, roleId: role.id } });
      await p.userRole.create({ data: { tenantId: tenant.id, userId: user.id, roleId: role.id } });
      await p.apiKey.create({
        data: { tenantId: tenant.id, name: 'k', prefix: 'abcd', secretHash: 'e'.repeat(64), scopes: ['groups:read'], expiresAt: new Date() },
      });
      await p.tenantCountDelta.create({ data: { tenantId: tenant.id, groups: 2 } });
      const loaded = await p.tenant.findUniqueOrThrow({
        where: { id: tenant.id },
        include: {
          users: { include: { memberships: true, roles: true } },
          roles: { include: { groupRoles: true, userRoles: true } },
          groups: { include: { members: true, roles: true, children: true, parent: true } },
          keys: true,
          countDeltas: { orderBy: { id: 'asc' } },
        },
      });
      expect(loaded.groups[0]).toMatchObject({ path: [group.id], parentGroupId: null, members: [{ userId: user.id }], roles: [{ roleId: role.id }] });
      expect(loaded.users[0]).toMatchObject({ email: 'drift@example.com', memberships: [{ groupId: group.id }], roles: [{ roleId: role.id }] });
      expect(loaded.roles[0]).toMatchObject({ description: 'd', groupRoles: [{ groupId: group.id }], userRoles: [{ userId: user.id }] });
      expect(loaded.keys[0]).toMatchObject({ scopes: ['groups:read'], revokedAt: null, lastUsedAt: null });
      // The user's and the group's insert each left a delta (the count triggers), then the one written here.
      expect(loaded.countDeltas.map(({ groups, users }) => ({ groups, users }))).toEqual([{ groups: 0, users: 1 }, { groups: 1, users: 0 }, { groups: 2, users: 0 }]);
      await p.tenant.delete({ where: { id: tenant.id } });
      expect(await p.group.count({ where: { tenantId: tenant.id } })).toBe(0);
    });
  });
}
