import type { User } from '../generated/prisma/client';
import { recordEvents } from './audit';
import type { DomainContext } from './context';
import { conflictOnDuplicate } from './unique';
import { type PageArgs, containsText, normaliseEmail, optionalName } from './validate';

export type { User } from '../generated/prisma/client';

export async function usersByIds(ctx: DomainContext, ids: readonly number[]): Promise<(User | null)[]> {
  const rows = await ctx.db.user.findMany({ where: { tenantId: ctx.tenantId, id: { in: [...ids] } } });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? null);
}

export async function listUsers(
  ctx: DomainContext,
  filter: PageArgs & { search?: string | null },
): Promise<{ nodes: User[]; total: number }> {
  const search = filter.search?.trim();
  const where = {
    tenantId: ctx.tenantId,
    ...(search
      ? {
          OR: [
            { name: containsText(search) },
            { email: containsText(search) },
          ],
        }
      : {}),
  };
  const [nodes, total] = await Promise.all([
    ctx.db.user.findMany({ where, orderBy: { id: 'asc' }, skip: filter.offset, take: filter.limit }),
    ctx.db.user.count({ where }),
  ]);
  return { nodes, total };
}

export async function createUser(ctx: DomainContext, input: { email: unknown; name?: unknown }): Promise<User> {
  const email = normaliseEmail(input.email);
  const name = optionalName(input.name, 'name', 255) ?? null;
  return conflictOnDuplicate(
    ctx.db.$transaction(async (tx) => {
      const user = await tx.user.create({ data: { tenantId: ctx.tenantId, email, name } });
      await recordEvents(tx, ctx, [
        {
          action: 'USER_CREATED',
          target: { type: 'User', id: user.id },
          changes: { email: { before: null, after: email }, name: { before: null, after: name } },
        },
      ]);
      return user;
    }),
    `a user with email ${email} already exists in this workspace`,
    'email',
  );
}
