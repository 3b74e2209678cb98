import type { Tenant } from '../generated/prisma/client';
import { recordEvents } from './audit';
import { type Db, CLI_ACTOR } from './context';
import { ValidationError } from './errors';
import { conflictOnDuplicate } from './unique';
import { requiredName } from './validate';

export type { Tenant } from '../generated/prisma/client';

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function tenantBySlug(db: Db, slug: string): Promise<Tenant | null> {
  return db.tenant.findUnique({ where: { slug } });
}

/** Workspaces are created by an operator (the CLI, start-up's demo): the trail names `cli`. */
export async function createTenant(db: Db, input: { slug: unknown; name?: unknown }): Promise<Tenant> {
  if (typeof input.slug !== 'string' || !SLUG_PATTERN.test(input.slug)) {
    throw new ValidationError(
      'slug',
      'slug must be 1-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit',
    );
  }
  const name = input.name === undefined ? input.slug : requiredName(input.name, 'name', 255);
  const slug = input.slug;
  return conflictOnDuplicate(
    db.$transaction(async (tx) => {
      const tenant = await tx.tenant.create({ data: { slug, name } });
      await recordEvents(tx, { tenantId: tenant.id, actor: CLI_ACTOR, requestId: null }, [
        {
          action: 'WORKSPACE_CREATED',
          target: { type: 'Workspace', id: tenant.id },
          changes: { slug: { before: null, after: slug }, name: { before: null, after: name } },
        },
      ]);
      return tenant;
    }),
    `a workspace with slug "${input.slug}" already exists`,
    'slug',
  );
}
