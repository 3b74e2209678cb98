// API keys: `kauth_<slug>_<secret>`. Only a SHA-256 of the secret and a short display
// prefix are stored; the full key is returned once, at creation. Issued, listed and revoked here;
// a presented key is looked up in src/auth/credentials.ts.
import { createHash, randomBytes } from 'node:crypto';
import type { ApiKey } from '../generated/prisma/client';
import { ALL_SCOPES, type Grant, formatGrant, grantCovers, knownGrants, parseScope } from '../policy/scopes';
import { recordEvents } from './audit';
import type { Db, DomainContext } from './context';
import { ForbiddenError, NotFoundError, ValidationError } from './errors';
import { findGroupsForWrite } from './groups';
import { requiredName } from './validate';
import { type Page, type Window, idPage } from './pages';
import { writeTransaction } from './write-turn';

export type { ApiKey } from '../generated/prisma/client';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const SECRET_LENGTH = 40;
const PREFIX_LENGTH = 8;

/** A CSPRNG secret of base62 characters (rejection sampling keeps the distribution uniform). */
export function generateSecret(length = SECRET_LENGTH): string {
  let secret = '';
  while (secret.length < length) {
    for (const byte of randomBytes(length)) {
      if (byte < 248 && secret.length < length) secret += BASE62[byte % 62];
    }
  }
  return secret;
}

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export function listApiKeys(ctx: DomainContext): Promise<ApiKey[]> {
  return ctx.db.apiKey.findMany({ where: { tenantId: ctx.tenantId }, orderBy: { id: 'asc' } });
}

/** A page of the workspace's API keys by id. */
export function apiKeyPage(ctx: DomainContext, window: Window<number>): Promise<Page<ApiKey>> {
  return idPage(window, (args) => ctx.db.apiKey.findMany({ ...args, where: { ...args.where, tenantId: ctx.tenantId } }));
}

export function countApiKeys(ctx: DomainContext): Promise<number> {
  return ctx.db.apiKey.count({ where: { tenantId: ctx.tenantId } });
}

/** What key creation and revocation need to know of the credential doing it. */
export interface KeyHolder {
  /** What the credential holds, implications included. */
  grants: readonly Grant[];
  /** When the credential stops working; null if never. A key it creates may not outlive it. */
  expiresAt: Date | null;
}

/** The operator (the CLI, start-up, tests, benches): every scope, unrestricted, never expiring. */
export const OPERATOR: KeyHolder = {
  grants: ALL_SCOPES.map((scope) => ({ scope, group: null })),
  expiresAt: null,
};

export interface CreateApiKeyInput {
  name: unknown;
  scopes: readonly string[];
  expiresAt?: Date | null;
}

/** Paths of the groups the wanted scopes are restricted to; one the creator cannot read is not found. */
async function groupPaths(ctx: DomainContext, grants: readonly Grant[]): Promise<Map<number, number[]>> {
  const ids = [...new Set(grants.flatMap((g) => (g.group === null ? [] : [g.group])))];
  const rows = await findGroupsForWrite(ctx.db, ctx, ids, 'scopes');
  return new Map(rows.map((row) => [row.id, row.path]));
}

/** The grants a new key asks for; an unknown or malformed scope is a ValidationError naming its index. */
function wantedGrants(scopes: readonly string[]): Grant[] {
  if (scopes.length === 0) throw new ValidationError('scopes', 'a key needs at least one scope');
  return scopes.map((text, i) => {
    const parsed = parseScope(text.trim());
    if (!parsed.ok) throw new ValidationError(`scopes[${i}]`, parsed.problem);
    return parsed.grant;
  });
}

/**
 * Creates a key whose every scope the creator holds (no escalation). Returns the key, once.
 * `now` is the time the expiry is judged against.
 */
export async function createApiKey(
  ctx: DomainContext,
  creator: KeyHolder,
  input: CreateApiKeyInput,
  now = new Date(),
): Promise<{ key: string; apiKey: ApiKey }> {
  const name = requiredName(input.name, 'name', 255);
  const wanted = wantedGrants(input.scopes);
  if (input.expiresAt && input.expiresAt <= now) {
    throw new ValidationError('expiresAt', 'expiresAt must be in the future');
  }
  // Any expiring credential (API key or JWT) would otherwise outlive itself through the keys it makes.
  const creatorExpiry = creator.expiresAt;
  if (creatorExpiry && (!input.expiresAt || input.expiresAt > creatorExpiry)) {
    throw new ForbiddenError(`a key that expires at ${creatorExpiry.toISOString()} can only create keys that expire no later`);
  }
  const paths = await groupPaths(ctx, wanted);
  const beyond = wanted.filter((grant) => !grantCovers(creator.grants, grant, (id) => paths.get(id) ?? null));
  if (beyond.length > 0) {
    const names = beyond.map(formatGrant);
    throw new ForbiddenError(`a key cannot be given scopes its creator does not hold: ${names.join(', ')}`, [names]);
  }
  const secret = generateSecret();
  const { tenant, ...apiKey } = await writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
    const created = await tx.apiKey.create({
      data: {
        tenantId: ctx.tenantId,
        name,
        prefix: secret.slice(0, PREFIX_LENGTH),
        secretHash: hashSecret(secret),
        scopes: [...new Set(wanted.map(formatGrant))],
        expiresAt: input.expiresAt ?? null,
      },
      include: { tenant: { select: { slug: true } } },
    });
    // Never the secret, its hash or its prefix: the trail is readable by more than the key's owner.
    await recordEvents(tx, ctx, [
      {
        action: 'API_KEY_CREATED',
        target: { type: 'ApiKey', id: created.id },
        changes: {
          name: { before: null, after: created.name },
          scopes: { before: null, after: created.scopes },
          expiresAt: { before: null, after: created.expiresAt },
        },
      },
    ]);
    return created;
  });
  return { key: `kauth_${tenant.slug}_${secret}`, apiKey };
}

/**
 * The known scopes of `key` that `revoker` does not cover (the creation rule, `grantCovers`).
 * Checked against the whole tree; a scope restricted to a group since deleted needs the unrestricted form.
 */
async function scopesBeyond(ctx: DomainContext, revoker: Pick<KeyHolder, 'grants'>, key: ApiKey): Promise<string[]> {
  // A scope unknown to this version grants nothing, so it takes nothing to revoke.
  const grants = knownGrants(key.scopes);
  const ids = [...new Set(grants.flatMap((g) => (g.group === null ? [] : [g.group])))];
  const rows = ids.length
    ? await ctx.db.group.findMany({ where: { tenantId: ctx.tenantId, id: { in: ids } }, select: { id: true, path: true } })
    : [];
  const paths = new Map(rows.map((row) => [row.id, row.path]));
  const covered = (grant: Grant) =>
    grant.group !== null && !paths.has(grant.group)
      ? grantCovers(revoker.grants, { scope: grant.scope, group: null }, () => null)
      : grantCovers(revoker.grants, grant, (groupId) => paths.get(groupId) ?? null);
  return [...new Set(grants.filter((grant) => !covered(grant)).map(formatGrant))];
}

/**
 * The channel a key's revocation is announced on, to every process on the database (sent inside
 * the revoking transaction, so delivered only if it commits); the payload is `<tenantId>:<keyId>`.
 */
export const CREDENTIALS_CHANNEL = 'kauth_credentials';

type RevokedListener = (keyId: number) => void;
const revokedHere = new Map<Db, Set<RevokedListener>>();

/**
 * Calls `listener` with a key's id once its revocation through `db` has committed in this
 * process: before the NOTIFY comes back, so that this process stops accepting the key at once.
 * Returns the function that stops it.
 */
export function onKeyRevoked(db: Db, listener: RevokedListener): () => void {
  const listeners = revokedHere.get(db) ?? new Set<RevokedListener>();
  revokedHere.set(db, listeners);
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && revokedHere.get(db) === listeners) revokedHere.delete(db);
  };
}

/** Revokes a key; the revoker must hold at least the key's scopes, or a narrow key could cut off a wider one. */
export async function revokeApiKey(ctx: DomainContext, revoker: Pick<KeyHolder, 'grants'>, id: number, now = new Date()): Promise<ApiKey> {
  const key = await ctx.db.apiKey.findFirst({ where: { tenantId: ctx.tenantId, id } });
  if (!key) throw new NotFoundError('ApiKey', id, 'id');
  const beyond = await scopesBeyond(ctx, revoker, key);
  if (beyond.length > 0) {
    throw new ForbiddenError(`revoking key ${id} requires holding its scopes; the credential lacks: ${beyond.join(', ')}`, [beyond]);
  }
  if (key.revokedAt) return key;
  const revoked = await writeTransaction(ctx.db, ctx.tenantId, async (tx) => {
    const revoked = await tx.apiKey.update({ where: { id }, data: { revokedAt: now } });
    await recordEvents(tx, ctx, [
      { action: 'API_KEY_REVOKED', target: { type: 'ApiKey', id }, changes: { revokedAt: { before: null, after: now } } },
    ]);
    await tx.$executeRaw`SELECT pg_notify(${CREDENTIALS_CHANNEL}, ${`${ctx.tenantId}:${id}`})`;
    return revoked;
  });
  for (const listener of revokedHere.get(ctx.db) ?? []) listener(id);
  return revoked;
}
