import { ConflictError } from './errors';

/** Turns a unique-constraint violation (Prisma P2002) lost to a concurrent writer into a CONFLICT. */
export async function conflictOnDuplicate<T>(write: Promise<T>, message: string, field: string): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if ((error as { code?: string }).code === 'P2002') throw new ConflictError(message, { field });
    throw error;
  }
}
