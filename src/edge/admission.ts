// Lets a request in, or answers it: its credential (401), its share of concurrency (429 after
// a short wait), and for REST its point (429); GraphQL is charged by its cost once priced
// (src/graphql/limits.ts). Every refusal is answered in the shape of the route family.
// Fair share is keyed by who the credential is (credentialOf), never by the header's text:
// `Bearer`, `bearer` and `Bearer  ` with one key are one client.
import type { FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth/authenticate';
import type { Principal } from '../auth/principal';
import { ValidationError } from '../domain/errors';
import { RateLimitedError } from './errors';
import type { Metrics, RefusalReason } from './metrics';
import type { CredentialGate, RateLimits, SubscriptionSlots } from './traffic';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface Admission {
  authenticator: Authenticator;
  rateLimits: RateLimits;
  gate: CredentialGate;
  /** Open subscriptions per credential (src/graphql/websocket.ts). */
  subscriptions: SubscriptionSlots;
  metrics: Metrics;
}

/** Whose budget a request spends: one API key, or one JWT subject of an issuer and workspace. */
export function credentialOf(principal: Principal): string {
  if (principal.apiKey) return `key:${principal.apiKey.id}`;
  return `jwt:${encodeURIComponent(principal.issuer ?? '-')}:${principal.tenant.id}:${encodeURIComponent(principal.subject ?? '-')}`;
}

export interface AdmitOptions {
  /** The workspace the URL names, which the credential must belong to. */
  slugOf?: (request: FastifyRequest) => string | undefined;
  /** Points charged on entry (REST); GraphQL is charged once its cost is known. */
  points?: number;
}

export function admitRequest(admission: Admission, options: AdmitOptions = {}) {
  const { authenticator, rateLimits, gate, metrics } = admission;
  return async (request: FastifyRequest) => {
    try {
      // Authenticated first (a known key needs no SQL: src/auth/credential-cache.ts), so the gate
      // counts the credential, however its header is spelled.
      const principal = await authenticator.authenticate(request.headers.authorization, options.slugOf?.(request));
      const credential = credentialOf(principal);
      request.work.onEnd(await gate.enter(credential));
      request.principal = principal;
      request.work.credential = credential;
      if (options.points) request.work.budget = await rateLimits.charge(credential, options.points);
    } catch (error) {
      if (error instanceof RateLimitedError) metrics.refused(error.details.reason as RefusalReason);
      throw error;
    }
  };
}

/**
 * A preValidation hook that holds what a client sends to the bounds of any input
 * (checkInputBounds, src/domain/validate.ts) before it is read: `check` throws the refusal,
 * counted here and answered by the transport's error handler.
 */
export function boundInput(metrics: Metrics, check: (request: FastifyRequest) => void) {
  return async (request: FastifyRequest) => {
    try {
      check(request);
    } catch (error) {
      if (error instanceof ValidationError) metrics.refused('input');
      throw error;
    }
  };
}
