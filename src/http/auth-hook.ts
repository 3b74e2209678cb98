// Authenticates a request before its handler runs: 401 with `WWW-Authenticate: Bearer`
// on any credential failure, in the body shape of the route family that asked.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth/authenticate';
import type { Principal } from '../auth/principal';
import { UnauthenticatedError } from '../domain/errors';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export type UnauthenticatedBody = (error: UnauthenticatedError) => unknown;

export function authenticateRequest(
  authenticator: Authenticator,
  body: UnauthenticatedBody,
  slugOf: (request: FastifyRequest) => string | undefined = () => undefined,
) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      request.principal = await authenticator.authenticate(request.headers.authorization, slugOf(request));
    } catch (error) {
      if (!(error instanceof UnauthenticatedError)) throw error;
      return reply.code(401).header('www-authenticate', 'Bearer').send(body(error));
    }
  };
}
