// A small demo workspace for a first start on an empty embedded database.
import { type Db, type DomainContext, fullAccessContext } from './context';
import { createGroup } from './groups';
import { addGroupMember } from './members';
import { createRole, setGroupRole, setUserRole } from './roles';
import { createTenant } from './tenants';
import { createUser } from './users';

export async function isEmpty(db: Db): Promise<boolean> {
  return (await db.tenant.count()) === 0;
}

/** Creates workspace `demo`: an org tree, a few users and roles. Returns its tenant. */
export async function seedDemo(db: Db, limits: Pick<DomainContext, 'maxGroupDepth'>) {
  const tenant = await createTenant(db, { slug: 'demo', name: 'Demo Corp' });
  const ctx = fullAccessContext(db, tenant.id, limits);
  const group = (name: string, parentId: number | null, description?: string) =>
    createGroup(ctx, { name, parentId, description });
  const company = await group('Demo Corp', null, 'The whole company');
  const engineering = await group('Engineering', company.id, 'Engineering team');
  const backend = await group('Backend', engineering.id);
  const frontend = await group('Frontend', engineering.id);
  const platform = await group('Platform', backend.id);
  const sales = await group('Sales', company.id);
  const contractors = await group('Contractors', null, 'External people');

  const [employee, developer, deployer, admin] = await Promise.all([
    createRole(ctx, { name: 'employee', description: 'Everyone in the company' }),
    createRole(ctx, { name: 'developer', description: 'Source code access' }),
    createRole(ctx, { name: 'deployer', description: 'May deploy to production' }),
    createRole(ctx, { name: 'admin', description: 'Workspace administrator' }),
  ]);
  await setGroupRole(ctx, company.id, employee.id, true);
  await setGroupRole(ctx, engineering.id, developer.id, true);
  await setGroupRole(ctx, platform.id, deployer.id, true);

  const people: [string, string, number[]][] = [
    ['ada@demo.example', 'Ada Lovelace', [platform.id]],
    ['grace@demo.example', 'Grace Hopper', [backend.id]],
    ['alan@demo.example', 'Alan Turing', [frontend.id]],
    ['katherine@demo.example', 'Katherine Johnson', [sales.id]],
    ['linus@demo.example', 'Linus Torvalds', [contractors.id, platform.id]],
  ];
  for (const [email, name, groupIds] of people) {
    const user = await createUser(ctx, { email, name });
    for (const groupId of groupIds) await addGroupMember(ctx, groupId, user.id);
    if (email.startsWith('ada')) await setUserRole(ctx, user.id, admin.id, true);
  }
  return tenant;
}
