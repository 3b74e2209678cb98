// The batched reads behind Group.members and the role lists select ids in SQL and load the rows
// through the Prisma client: whatever columns the model has, they return them all. The field
// lists come from the generated client, so a new column is covered without touching this test.
import { Prisma } from '../src/generated/prisma/client';
import { createGroup } from '../src/domain/groups';
import { addGroupMember } from '../src/domain/members';
import { membersOfGroups } from '../src/domain/reads/members';
import {
  createRole,
  effectiveRolesOfGroups,
  effectiveRolesOfUsers,
  rolesOfGroups,
  rolesOfUsers,
  setGroupRole,
  setUserRole,
} from '../src/domain/roles';
import { createUser } from '../src/domain/users';
import { eachBackend } from './support/harness';

const fieldsOf = (row: object) => Object.keys(row).sort();

eachBackend('users and roles read in batches', (h) => {
  it('carry every scalar field of the User and Role models, as the client reads them', async () => {
    const ws = await h.workspace();
    const ctx = ws.ctx;
    const top = await createGroup(ctx, { name: 'Top' });
    const leaf = await createGroup(ctx, { name: 'Leaf', parentId: top.id });
    const user = await createUser(ctx, { email: 'ann@example.com', name: 'Ann' });
    const role = await createRole(ctx, { name: 'reader', description: 'Reads' });
    await addGroupMember(ctx, leaf.id, user.id);
    await setGroupRole(ctx, top.id, role.id, true);
    await setUserRole(ctx, user.id, role.id, true);
    const userRow = await h.db.prisma.user.findUniqueOrThrow({ where: { id: user.id } });
    const roleRow = await h.db.prisma.role.findUniqueOrThrow({ where: { id: role.id } });
    const userFields = Object.values(Prisma.UserScalarFieldEnum).sort();
    const roleFields = Object.values(Prisma.RoleScalarFieldEnum).sort();

    const users = {
      directMembers: (await membersOfGroups(ctx, [leaf.id], false))[0],
      inheritedMembers: (await membersOfGroups(ctx, [top.id], true))[0],
    };
    for (const [reader, rows] of Object.entries(users)) {
      expect({ reader, fields: rows.map(fieldsOf) }).toEqual({ reader, fields: [userFields] });
      expect({ reader, rows }).toEqual({ reader, rows: [userRow] });
    }
    const roles = {
      rolesOfGroups: (await rolesOfGroups(ctx, [top.id]))[0],
      effectiveRolesOfGroups: (await effectiveRolesOfGroups(ctx, [leaf.id]))[0],
      rolesOfUsers: (await rolesOfUsers(ctx, [user.id]))[0],
      effectiveRolesOfUsers: (await effectiveRolesOfUsers(ctx, [user.id]))[0].map((effective) => effective.role),
    };
    for (const [reader, rows] of Object.entries(roles)) {
      expect({ reader, fields: rows.map(fieldsOf) }).toEqual({ reader, fields: [roleFields] });
      expect({ reader, rows }).toEqual({ reader, rows: [roleRow] });
    }
  });
});
