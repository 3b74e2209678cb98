// JWT test support: an app instance with JWT bearer tokens switched on (sharing the harness's
// database), a JWKS served over local HTTP, and token signing with jose.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { JwtConfig } from '../../src/config';
import { buildApp } from '../../src/http/app';
import { type GraphQLBody, type Harness, MAX_GROUP_DEPTH, type Response } from './harness';

export type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });
type SigningKey = Parameters<InstanceType<Jose['SignJWT']>['sign']>[0];
type JWTPayload = ConstructorParameters<Jose['SignJWT']>[0];

/** jose is ESM-only: loaded with import(), which Jest serves through its ESM loader. */
export function loadJose(): Promise<Jose> {
  return import('jose');
}

/** The app with `jwt` configured, listening on a free port, on the harness's database. */
export class JwtApp {
  private constructor(
    private readonly app: FastifyInstance,
    readonly baseUrl: string,
  ) {}

  static async start(h: Harness, jwt: JwtConfig): Promise<JwtApp> {
    const app = await buildApp({ db: h.db.prisma, maxGroupDepth: MAX_GROUP_DEPTH, jwt });
    await app.listen({ host: '127.0.0.1', port: 0 });
    return new JwtApp(app, `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
  }

  /** POSTs an operation with `token` as the bearer credential. */
  async gql(token: string, query: string, variables?: Record<string, unknown>): Promise<Response<GraphQLBody>> {
    const res = await fetch(`${this.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLBody };
  }

  close(): Promise<void> {
    return this.app.close();
  }
}

export interface TokenOptions {
  alg: 'HS256' | 'RS256' | 'ES256';
  key: SigningKey;
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative for an expired token, null for none. */
  expiresIn?: number | null;
  notBefore?: number;
  kid?: string;
}

/** A signed JWT with `claims` (e.g. `tenant`, `scope`); iat now, exp in an hour unless told. */
export async function signToken(jose: Jose, claims: JWTPayload, options: TokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new jose.SignJWT(claims)
    .setProtectedHeader({ alg: options.alg, ...(options.kid ? { kid: options.kid } : {}) })
    .setIssuedAt(now);
  if (options.expiresIn !== null) jwt = jwt.setExpirationTime(now + (options.expiresIn ?? 3600));
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  if (options.notBefore !== undefined) jwt = jwt.setNotBefore(now + options.notBefore);
  return jwt.sign(options.key);
}

/** Serves `{ keys }` as a JWKS on 127.0.0.1; `requests` counts the fetches. */
export class JwksServer {
  requests = 0;
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(keys: object[]): Promise<JwksServer> {
    let self: JwksServer | null = null;
    const server = createServer((_, res) => {
      if (self) self.requests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new JwksServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`);
    return self;
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }
}
