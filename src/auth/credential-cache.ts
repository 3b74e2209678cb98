// The API keys this process has recently found live, so that a request with a known key needs no
// SQL to authenticate. Keyed by the SHA-256 of the secret (never the secret itself).
//
// How a key that dies stops working:
// - revoked in this process: evicted as soon as the revocation commits (listenForRevocations in
//   ./credentials), so the very next request is refused;
// - revoked in another process (a server, or the `kauth` CLI on PostgreSQL): evicted when its
//   NOTIFY on CREDENTIALS_CHANNEL arrives, normally within milliseconds;
// - expired: judged against the clock on every hit;
// - anything else (a NOTIFY lost while the listening connection was down, a row changed by hand):
//   no entry is trusted longer than `maxAgeMs` after the lookup that found it, and a reconnected
//   listener empties the cache. `db.listen` cannot say when its connection drops (and a silently
//   dead TCP connection would not say either), so this bound, below a second, is what holds the
//   promise "revoked keys stop working within a second everywhere" when notifications fail.
// Only live keys are kept: an unknown key is looked up every time, so a key just created works at once.
import type { Clock } from '../clock';
import type { Listen } from '../db';
import type { Db } from '../domain/context';
import { type StoredKey, listenForRevocations } from './credentials';

export interface CredentialCacheOptions {
  /** Most keys kept; the least recently used goes first. */
  maxEntries: number;
  /** How long after the lookup that found it an entry may answer (judged by the cache's clock). */
  maxAgeMs: number;
}

export const DEFAULT_CREDENTIAL_CACHE: CredentialCacheOptions = { maxEntries: 10_000, maxAgeMs: 750 };

interface Entry {
  stored: StoredKey;
  /** Clock time (ms) at which the lookup that found the key began. */
  foundAt: number;
}

/** Taken before a lookup: a revocation or reset heard while the lookup ran keeps its result out. */
export interface LookupTicket {
  readonly generation: number;
  readonly at: number;
}

export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  private readonly hashOfKey = new Map<number, string>();
  /** Bumped by every eviction and reset. */
  private generation = 0;
  /** Serves only while listening for other processes' revocations (fail safe). */
  private listening = false;

  constructor(
    private readonly clock: Clock,
    private readonly options: CredentialCacheOptions = DEFAULT_CREDENTIAL_CACHE,
  ) {}

  /**
   * Starts serving: evicts on this process's revocations through `db` and on every process's
   * NOTIFY, and empties itself when the listening connection has been re-opened (notifications
   * may have been missed). Resolves to the function that stops it.
   */
  async start(db: Db, listen: Listen): Promise<() => Promise<void>> {
    const stop = await listenForRevocations(db, listen, { revoked: (keyId) => this.evictKey(keyId), missed: () => this.clear() });
    this.listening = true;
    return async () => {
      this.listening = false;
      this.clear();
      await stop();
    };
  }

  /** The key found for this secret hash, if it may still answer; its liveness is the caller's to check. */
  get(secretHash: string): StoredKey | null {
    if (!this.listening) return null;
    const entry = this.entries.get(secretHash);
    if (!entry) return null;
    const age = this.clock.now().getTime() - entry.foundAt;
    if (age < 0 || age >= this.options.maxAgeMs) {
      this.remove(secretHash, entry);
      return null;
    }
    // Most recently used last: eviction takes the first.
    this.entries.delete(secretHash);
    this.entries.set(secretHash, entry);
    return entry.stored;
  }

  /** Call before looking a key up; hand the ticket to put(). */
  ticket(): LookupTicket {
    return { generation: this.generation, at: this.clock.now().getTime() };
  }

  /** Keeps a live key found by a lookup that began with `ticket`, unless anything was evicted since. */
  put(secretHash: string, stored: StoredKey, ticket: LookupTicket): void {
    if (!this.listening || ticket.generation !== this.generation) return;
    const previous = this.entries.get(secretHash);
    if (previous) this.remove(secretHash, previous);
    while (this.entries.size >= this.options.maxEntries) {
      const [oldest, entry] = this.entries.entries().next().value as [string, Entry];
      this.remove(oldest, entry);
    }
    this.entries.set(secretHash, { stored, foundAt: ticket.at });
    this.hashOfKey.set(stored.apiKey.id, secretHash);
  }

  evictKey(keyId: number): void {
    this.generation += 1;
    const secretHash = this.hashOfKey.get(keyId);
    const entry = secretHash === undefined ? undefined : this.entries.get(secretHash);
    if (entry) this.remove(secretHash!, entry);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
    this.hashOfKey.clear();
  }

  private remove(secretHash: string, entry: Entry): void {
    this.entries.delete(secretHash);
    if (this.hashOfKey.get(entry.stored.apiKey.id) === secretHash) this.hashOfKey.delete(entry.stored.apiKey.id);
  }
}
