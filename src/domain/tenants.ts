import type { Tenant } from '../generated/prisma/client';
import type { Db } from './context';
import { ValidationError } from './errors';
import { conflictOnDuplicate } from './unique';
import { requiredName } from './validate';

export type { Tenant } from '../generated/prisma/client';

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function tenantBySlug(db: Db, slug: string): Promise<Tenant | null> {
  return db.tenant.findUnique({ where: { slug } });
}

export async function createTenant(db: Db, input: { slug: unknown; name?: unknown }): Promise<Tenant> {
  if (typeof input.slug !== 'string' || !SLUG_PATTERN.test(input.slug)) {
    throw new ValidationError(
      'slug',
      'slug must be 1-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit',
    );
  }
  const name = input.name === undefined ? input.slug : requiredName(input.name, 'name', 255);
  return conflictOnDuplicate(
    db.tenant.create({ data: { slug: input.slug, name } }),
    `a workspace with slug "${input.slug}" already exists`,
    'slug',
  );
}
