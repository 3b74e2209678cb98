// Credentials → Principal. `Authorization: Bearer <credential>` with an API key
// (`kauth_<slug>_<secret>`) or, when configured, a JWT. Every failure is the same
// UnauthenticatedError: a caller cannot tell an unknown key from another tenant's.
import { type KeyObject, createPublicKey } from 'node:crypto';
import { type Clock, systemClock } from '../clock';
import { ConfigError, type JwtConfig } from '../config';
import type { Db } from '../domain/context';
import { tenantBySlug } from '../domain/tenants';
import type { CredentialCache } from './credential-cache';
import { type PresentedKey, type StoredKey, isLiveFor, keyBySecretHash, presentedKey, touchApiKey } from './credentials';
import { UnauthenticatedError } from './errors';
import { type Principal, makePrincipal } from './principal';

const LAST_USED_INTERVAL_MS = 60_000;

export interface AuthLogger {
  warn(obj: object, msg: string): void;
}

type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });
type JwtKey = Uint8Array | KeyObject | ReturnType<Jose['createRemoteJWKSet']>;
interface JwtVerifier {
  jose: Jose;
  key: JwtKey;
  algorithms: string[];
}

// jose is ESM-only: loaded with import() (kept as-is by the CommonJS build), and only when JWTs are on.
async function jwtVerifierFrom(config: JwtConfig): Promise<JwtVerifier> {
  const jose = await import('jose');
  if (config.secret) return { jose, key: new TextEncoder().encode(config.secret), algorithms: ['HS256'] };
  if (config.jwksUrl) return { jose, key: jose.createRemoteJWKSet(new URL(config.jwksUrl)), algorithms: ['RS256', 'ES256'] };
  const key = createPublicKey(config.publicKey!.replace(/\\n/g, '\n'));
  return { jose, key, algorithms: [key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256'] };
}

export class Authenticator {
  private readonly lastTouched = new Map<number, number>();
  private readonly principals = new WeakMap<StoredKey, Principal>();
  /** lastUsedAt writes scheduled or running. */
  private readonly pendingWrites = new Set<Promise<void>>();
  private readonly verifier: Promise<JwtVerifier> | null;

  constructor(
    private readonly db: Db,
    private readonly jwt: JwtConfig | null,
    private readonly logger: AuthLogger,
    private readonly clock: Clock = systemClock,
    /** Live API keys found recently (src/auth/credential-cache.ts); null: every request looks its key up. */
    private readonly cache: CredentialCache | null = null,
  ) {
    this.verifier = jwt ? jwtVerifierFrom(jwt) : null;
  }

  /** Resolves once the JWT key material is loaded; rejects if it is unusable (bad configuration). */
  async ready(): Promise<void> {
    try {
      await this.verifier;
    } catch (error) {
      throw new ConfigError(`JWT verification key is unusable: ${(error as Error).message}`);
    }
  }

  /** The principal for an Authorization header; `slug`, when given, must be the credential's tenant. */
  async authenticate(header: string | undefined, slug?: string): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) throw new UnauthenticatedError(header ? 'malformed Authorization header: expected "Bearer <credential>"' : 'missing credentials: send "Authorization: Bearer <credential>"');
    const credential = match[1];
    const principal = credential.startsWith('kauth_') ? await this.fromApiKey(credential) : await this.fromJwt(credential);
    if (slug !== undefined && principal.tenant.slug !== slug) throw new UnauthenticatedError('invalid credentials');
    return principal;
  }

  /** Resolves once every lastUsedAt write scheduled so far has finished (or failed and been logged). */
  async settled(): Promise<void> {
    while (this.pendingWrites.size > 0) await Promise.all(this.pendingWrites);
  }

  private async fromApiKey(credential: string): Promise<Principal> {
    const now = this.clock.now();
    const presented = presentedKey(credential);
    const stored = presented && (await this.storedKey(presented, now));
    // Judged on every use, a cached key's too: it may have expired since it was found.
    if (!presented || !stored || !isLiveFor(stored, presented.slug, now)) throw new UnauthenticatedError('invalid, expired or revoked API key');
    this.recordUse(stored.apiKey.id, now);
    // A cached key is the same object on every request: its scopes are parsed once.
    let principal = this.principals.get(stored);
    if (!principal) this.principals.set(stored, (principal = makePrincipal(stored.tenant, stored.apiKey.scopes, stored.apiKey)));
    return principal;
  }

  /** The key stored for a presented one: from the cache if it holds it, else from the database (and cached if live). */
  private async storedKey(presented: PresentedKey, now: Date): Promise<StoredKey | null> {
    const cached = this.cache?.get(presented.secretHash);
    if (cached) return cached;
    const ticket = this.cache?.ticket();
    const stored = await keyBySecretHash(this.db, presented.secretHash);
    if (stored && ticket && isLiveFor(stored, presented.slug, now)) this.cache!.put(presented.secretHash, stored, ticket);
    return stored;
  }

  /** Updates lastUsedAt at most once a minute per key, after the response, never failing it. */
  private recordUse(keyId: number, now: Date): void {
    const last = this.lastTouched.get(keyId);
    if (last !== undefined && now.getTime() - last < LAST_USED_INTERVAL_MS) return;
    this.lastTouched.set(keyId, now.getTime());
    const write = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => touchApiKey(this.db, keyId, now))
      .catch((err) => this.logger.warn({ err, keyId }, 'could not record API key use'));
    this.pendingWrites.add(write);
    void write.finally(() => this.pendingWrites.delete(write));
  }

  private async fromJwt(token: string): Promise<Principal> {
    if (!this.verifier || token.split('.').length !== 3) throw new UnauthenticatedError('invalid credentials');
    const { jose, key, algorithms } = await this.verifier;
    let payload;
    try {
      ({ payload } = await jose.jwtVerify(token, key as Uint8Array, {
        algorithms,
        issuer: this.jwt?.issuer,
        audience: this.jwt?.audience,
        // A bearer token without an expiry would be a credential that can never be cut off.
        requiredClaims: ['exp'],
        currentDate: this.clock.now(),
      }));
    } catch {
      throw new UnauthenticatedError('invalid or expired token');
    }
    const slug = typeof payload.tenant === 'string' ? payload.tenant : null;
    const tenant = slug ? await tenantBySlug(this.db, slug) : null;
    if (!tenant) throw new UnauthenticatedError('invalid credentials');
    const given = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
    // Scopes of other services (openid, profile…) are kept in `scopes` but grant nothing here.
    // requiredClaims makes jose check that exp is there and numeric; keys it creates must not outlive it.
    const expiresAt = new Date((payload.exp as number) * 1000);
    return {
      ...makePrincipal(tenant, given, null, expiresAt),
      subject: typeof payload.sub === 'string' ? payload.sub : undefined,
      issuer: typeof payload.iss === 'string' ? payload.iss : undefined,
    };
  }
}
