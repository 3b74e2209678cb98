// A presented API key → the key stored for it and its workspace, and whether it may answer now.
// Keys are issued and revoked in src/domain/apikeys.ts, which stores only the SHA-256 of each
// secret: a key is found by that hash. Its revocation is heard here too, at once from this
// process and through NOTIFY on CREDENTIALS_CHANNEL from every process.
import { timingSafeEqual } from 'node:crypto';
import type { Listen } from '../db';
import { type ApiKey, CREDENTIALS_CHANNEL, hashSecret, onKeyRevoked } from '../domain/apikeys';
import type { Db } from '../domain/context';
import type { Tenant } from '../generated/prisma/client';

const KEY_FORMAT = /^kauth_([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)_([A-Za-z0-9]{32,128})$/;

/** A stored key with its tenant, live or not. */
export interface StoredKey {
  apiKey: ApiKey;
  tenant: Tenant;
}

/** What a presented key string names: its workspace's slug and the SHA-256 of its secret. */
export interface PresentedKey {
  slug: string;
  secretHash: string;
}

/** The slug and secret hash of a presented key string (`kauth_<slug>_<secret>`); null if it is not a key. */
export function presentedKey(presented: string): PresentedKey | null {
  const match = KEY_FORMAT.exec(presented);
  return match ? { slug: match[1], secretHash: hashSecret(match[2]) } : null;
}

/** The key stored with this secret hash and its tenant, whether live or not; null if none. */
export async function keyBySecretHash(db: Db, secretHash: string): Promise<StoredKey | null> {
  const found = await db.apiKey.findUnique({ where: { secretHash }, include: { tenant: true } });
  if (!found || !timingSafeEqual(Buffer.from(found.secretHash), Buffer.from(secretHash))) return null;
  const { tenant, ...apiKey } = found;
  return { apiKey, tenant };
}

/** True if the stored key answers for the presented slug and is neither revoked nor expired at `now`. */
export function isLiveFor(stored: StoredKey, slug: string, now: Date): boolean {
  const { apiKey, tenant } = stored;
  return tenant.slug === slug && !apiKey.revokedAt && !(apiKey.expiresAt && apiKey.expiresAt <= now);
}

/** Records use; callers throttle it and keep it off the request's critical path. */
export async function touchApiKey(db: Db, id: number, at: Date): Promise<void> {
  await db.apiKey.updateMany({ where: { id }, data: { lastUsedAt: at } });
}

export interface RevocationListener {
  /** A key was revoked. */
  revoked(keyId: number): void;
  /** Revocations may have been missed (the listening connection was re-opened), or one could not be read. */
  missed(): void;
}

/**
 * Tells `listener` of every key revoked: through `db` in this process as soon as it commits, in
 * any process when its NOTIFY arrives. Resolves to the function that stops it.
 */
export async function listenForRevocations(db: Db, listen: Listen, listener: RevocationListener): Promise<() => Promise<void>> {
  const stopLocal = onKeyRevoked(db, (keyId) => listener.revoked(keyId));
  let stopListening: () => Promise<void>;
  try {
    stopListening = await listen(CREDENTIALS_CHANNEL, (payload) => notified(payload, listener), () => listener.missed());
  } catch (error) {
    stopLocal();
    throw error;
  }
  return async () => {
    stopLocal();
    // As the change hub does: at shutdown the database may be closed already (embedded PGlite),
    // and a listener on a closed database has nothing left to stop.
    await stopListening().catch(() => undefined);
  };
}

/** `<tenantId>:<keyId>`; anything else counts as missed rather than guess. */
function notified(payload: string, listener: RevocationListener): void {
  const match = /^\d+:(\d+)$/.exec(payload);
  if (match) listener.revoked(Number(match[1]));
  else listener.missed();
}
