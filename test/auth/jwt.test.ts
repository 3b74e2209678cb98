// JWT bearer tokens: HS256 with JWT_SECRET, RS256/ES256 with JWT_PUBLIC_KEY or a JWKS;
// issuer, audience, expiry and signature checked; tenant from the `tenant` claim (a slug),
// scopes from the space-separated `scope` claim.
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../src/config';
import { buildApp } from '../../src/http/app';
import { type GraphQLBody, type Response, type Workspace, codes, eachBackend } from '../support/harness';
import { type Jose, JwksServer, JwtApp, loadJose, signToken, type TokenOptions } from '../support/jwt';

const ISSUER = 'https://id.example.test/';
const AUDIENCE = 'kauth-groups';
const SECRET = randomBytes(32).toString('base64url');
const VIEWER = '{ viewer { tenant { slug } scopes apiKey { id } } }';

type PrivateKey = Awaited<ReturnType<Jose['generateKeyPair']>>['privateKey'];

function expectUnauthenticated(res: Response<GraphQLBody>): void {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe('Bearer');
  expect(codes(res.body)).toEqual(['UNAUTHENTICATED']);
  expect(res.body.data).toBeUndefined();
}

eachBackend('JWT bearer tokens', (h) => {
  let jose: Jose;
  beforeAll(async () => {
    jose = await loadJose();
  });

  describe('HS256 with JWT_SECRET', () => {
    let app: JwtApp;
    beforeAll(async () => {
      app = await JwtApp.start(h, { secret: SECRET, issuer: ISSUER, audience: AUDIENCE });
    });
    afterAll(() => app.close());

    const hs256 = (overrides: Partial<TokenOptions> = {}): TokenOptions => ({
      alg: 'HS256',
      key: new TextEncoder().encode(SECRET),
      issuer: ISSUER,
      audience: AUDIENCE,
      ...overrides,
    });

    it('accepts a token with the right issuer, audience and tenant, and reports its scopes as given', async () => {
      const ws = await h.workspace();
      const token = await signToken(jose, { tenant: ws.tenant.slug, scope: 'openid groups:read profile' }, hs256());
      const res = await app.gql(token, VIEWER);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ viewer: { tenant: { slug: ws.tenant.slug }, scopes: ['openid', 'groups:read', 'profile'], apiKey: null } });
    });

    it('grants what the scope claim says and nothing more', async () => {
      const ws = await h.workspace();
      const root = await ws.group('Root');
      const token = await signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read' }, hs256());
      const read = await app.gql(token, '{ groups { nodes { id } } }');
      expect(read.body.data).toEqual({ groups: { nodes: [{ id: root }] } });
      const write = await app.gql(token, 'mutation { createGroup(input: { name: "nope" }) { id } }');
      expect(codes(write.body)).toEqual(['FORBIDDEN']);
      expect(write.body.errors![0].extensions.requiredScopes).toEqual([['groups:write']]);
    });

    it('honours a restricted scope in the claim', async () => {
      const ws = await h.workspace();
      const a = await ws.group('A');
      const a1 = await ws.group('A1', a);
      await ws.group('B');
      const token = await signToken(jose, { tenant: ws.tenant.slug, scope: `groups:read@${a1}` }, hs256());
      const res = await app.gql(token, '{ groups { nodes { id } totalCount } }');
      expect(res.body.data.groups).toEqual({ nodes: [{ id: a1 }], totalCount: 1 });
    });

    it('grants nothing for a token without a scope claim', async () => {
      const ws = await h.workspace();
      const token = await signToken(jose, { tenant: ws.tenant.slug }, hs256());
      const viewer = await app.gql(token, VIEWER);
      expect(viewer.body.data.viewer.scopes).toEqual([]);
      expect(codes((await app.gql(token, '{ groups { totalCount } }')).body)).toEqual(['FORBIDDEN']);
    });

    it('only sees its own tenant', async () => {
      const [ws, other] = await Promise.all([h.workspace(), h.workspace()]);
      const theirs = await other.group('Theirs');
      const token = await signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read' }, hs256());
      const res = await app.gql(token, 'query($id: ID!) { group(id: $id) { id } groups { totalCount } }', { id: theirs });
      expect(res.body.data).toEqual({ group: null, groups: { totalCount: 0 } });
    });

    it('lets a token create only keys that expire no later than its exp', async () => {
      const ws = await h.workspace();
      const token = await signToken(jose, { tenant: ws.tenant.slug, scope: 'apikeys:write groups:read' }, hs256({ expiresIn: 600 }));
      const exp = Date.now() + 600_000;
      const create = (expiresAt: Date | null) =>
        app.gql(token, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { expiresAt } } }', {
          input: { name: 'made by a JWT', scopes: ['groups:read'], expiresAt: expiresAt?.toISOString() ?? null },
        });
      const keyCount = () => h.db.prisma.apiKey.count({ where: { tenantId: ws.tenant.id } });
      const before = await keyCount();

      for (const outlives of [null, new Date(exp + 120_000)]) {
        const res = await create(outlives);
        expect(codes(res.body)).toEqual(['FORBIDDEN']);
        expect(res.body.errors![0].message).toMatch(/expire no later/);
      }
      expect(await keyCount()).toBe(before);

      const within = new Date(exp - 120_000);
      const ok = await create(within);
      expect(ok.body.errors).toBeUndefined();
      expect(ok.body.data.createApiKey.apiKey.expiresAt).toBe(within.toISOString());
    });

    it('still accepts API keys', async () => {
      const ws = await h.workspace();
      const res = await app.gql(ws.adminKey, VIEWER);
      expect(res.status).toBe(200);
      expect(res.body.data.viewer.apiKey).toEqual({ id: expect.any(String) });
    });

    it.each<[string, (ws: Workspace) => Promise<string>]>([
      ['a wrong issuer', (ws) => signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read' }, hs256({ issuer: 'https://evil.example/' }))],
      ['no issuer', (ws) => signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read' }, hs256({ issuer: undefined }))],
      ['a wrong audience', (ws) => signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read' }, hs256({ audience: 'another-service' }))],
      ['no audience', (ws) => signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read' }, hs256({ audience: undefined }))],
      ['an expired token', (ws) => signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read' }, hs256({ expiresIn: -120 }))],
      ['a token without an expiry', (ws) => signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read' }, hs256({ expiresIn: null }))],
      ['a token not valid yet', (ws) => signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read' }, hs256({ notBefore: 600 }))],
      ['a bad signature (another secret)', (ws) => signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read' }, hs256({ key: new TextEncoder().encode(`${SECRET}x`) }))],
      ['a tampered payload', async (ws) => {
        const token = await signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read' }, hs256());
        const [header, , signature] = token.split('.');
        const payload = Buffer.from(JSON.stringify({ tenant: ws.tenant.slug, scope: 'groups:write apikeys:write', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
        return `${header}.${payload}.${signature}`;
      }],
      ['an unsigned token (alg none)', async (ws) => {
        const claims = { tenant: ws.tenant.slug, scope: 'groups:read', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 3600 };
        return new jose.UnsecuredJWT(claims).encode();
      }],
      ['an unknown tenant', () => signToken(jose, { tenant: 'no-such-tenant', scope: 'groups:read' }, hs256())],
      ['no tenant claim', () => signToken(jose, { scope: 'groups:read' }, hs256())],
      ['a tenant claim that is not a string', (ws) => signToken(jose, { tenant: [ws.tenant.slug], scope: 'groups:read' }, hs256())],
      ['a token cut short', async (ws) => (await signToken(jose, { tenant: ws.tenant.slug }, hs256())).split('.').slice(0, 2).join('.')],
    ])('answers 401 UNAUTHENTICATED with WWW-Authenticate: Bearer for %s', async (_, tokenFor) => {
      const ws = await h.workspace();
      expectUnauthenticated(await app.gql(await tokenFor(ws), VIEWER));
    });
  });

  describe.each(['RS256', 'ES256'] as const)('%s with JWT_PUBLIC_KEY', (alg) => {
    let app: JwtApp;
    let privateKey: PrivateKey;
    beforeAll(async () => {
      const pair = await jose.generateKeyPair(alg, { extractable: true });
      privateKey = pair.privateKey;
      app = await JwtApp.start(h, { publicKey: await jose.exportSPKI(pair.publicKey), issuer: ISSUER, audience: AUDIENCE });
    });
    afterAll(() => app.close());

    it('accepts a token signed with the private key', async () => {
      const ws = await h.workspace();
      const token = await signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read users:read' }, { alg, key: privateKey, issuer: ISSUER, audience: AUDIENCE });
      const res = await app.gql(token, VIEWER);
      expect(res.body.data).toEqual({ viewer: { tenant: { slug: ws.tenant.slug }, scopes: ['groups:read', 'users:read'], apiKey: null } });
    });

    it('refuses a token signed with another key pair', async () => {
      const ws = await h.workspace();
      const stranger = await jose.generateKeyPair(alg);
      const token = await signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read' }, { alg, key: stranger.privateKey, issuer: ISSUER, audience: AUDIENCE });
      expectUnauthenticated(await app.gql(token, VIEWER));
    });

    it('refuses an HS256 token that uses the public key as its secret (algorithm confusion)', async () => {
      const ws = await h.workspace();
      const pair = await jose.generateKeyPair(alg, { extractable: true });
      const confused = await JwtApp.start(h, { publicKey: await jose.exportSPKI(pair.publicKey), issuer: ISSUER, audience: AUDIENCE });
      try {
        const pem = await jose.exportSPKI(pair.publicKey);
        const token = await signToken(jose, { tenant: ws.tenant.slug, scope: 'groups:read' }, { alg: 'HS256', key: new TextEncoder().encode(pem), issuer: ISSUER, audience: AUDIENCE });
        expectUnauthenticated(await confused.gql(token, VIEWER));
      } finally {
        await confused.close();
      }
    });

    it('refuses an expired token and a wrong audience', async () => {
      const ws = await h.workspace();
      const base = { alg, key: privateKey, issuer: ISSUER, audience: AUDIENCE };
      expectUnauthenticated(await app.gql(await signToken(jose, { tenant: ws.tenant.slug }, { ...base, expiresIn: -60 }), VIEWER));
      expectUnauthenticated(await app.gql(await signToken(jose, { tenant: ws.tenant.slug }, { ...base, audience: 'other' }), VIEWER));
    });
  });

  describe('RS256 and ES256 through JWT_JWKS_URL', () => {
    let app: JwtApp;
    let jwks: JwksServer;
    let rsa: PrivateKey;
    let ec: PrivateKey;
    beforeAll(async () => {
      const [rsaPair, ecPair] = await Promise.all([
        jose.generateKeyPair('RS256', { extractable: true }),
        jose.generateKeyPair('ES256', { extractable: true }),
      ]);
      rsa = rsaPair.privateKey;
      ec = ecPair.privateKey;
      jwks = await JwksServer.start([
        { ...(await jose.exportJWK(rsaPair.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
        { ...(await jose.exportJWK(ecPair.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
      ]);
      app = await JwtApp.start(h, { jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE });
    });
    afterAll(async () => {
      await app.close();
      await jwks.close();
    });

    it('accepts tokens signed by either key of the set, chosen by kid', async () => {
      const ws = await h.workspace();
      for (const [alg, key, kid] of [['RS256', rsa, 'rsa-1'], ['ES256', ec, 'ec-1']] as const) {
        const token = await signToken(jose, { tenant: ws.tenant.slug, scope: 'roles:read' }, { alg, key, kid, issuer: ISSUER, audience: AUDIENCE });
        const res = await app.gql(token, VIEWER);
        expect(res.body.data).toEqual({ viewer: { tenant: { slug: ws.tenant.slug }, scopes: ['roles:read'], apiKey: null } });
      }
      expect(jwks.requests).toBeGreaterThanOrEqual(1);
    });

    it('refuses a token whose kid is not in the set, or that is signed by a key not in the set', async () => {
      const ws = await h.workspace();
      const stranger = await jose.generateKeyPair('RS256');
      const claims = { tenant: ws.tenant.slug, scope: 'roles:read' };
      const base = { alg: 'RS256' as const, issuer: ISSUER, audience: AUDIENCE };
      expectUnauthenticated(await app.gql(await signToken(jose, claims, { ...base, key: stranger.privateKey, kid: 'unknown' }), VIEWER));
      expectUnauthenticated(await app.gql(await signToken(jose, claims, { ...base, key: stranger.privateKey, kid: 'rsa-1' }), VIEWER));
    });

    it('refuses a token with the wrong issuer', async () => {
      const ws = await h.workspace();
      const token = await signToken(jose, { tenant: ws.tenant.slug }, { alg: 'ES256', key: ec, kid: 'ec-1', issuer: 'https://evil.example/', audience: AUDIENCE });
      expectUnauthenticated(await app.gql(token, VIEWER));
    });
  });
});

describe('JWT configuration', () => {
  it('refuses to build the app with an unusable public key, as a configuration error', async () => {
    const db = {} as never;
    await expect(buildApp({ db, maxGroupDepth: 8, jwt: { publicKey: 'not a PEM key' } })).rejects.toBeInstanceOf(ConfigError);
  });
});
