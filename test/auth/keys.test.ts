// API keys as credentials: their format, that only a hash is stored, that revocation and
// expiry act on the next request, lastUsedAt, and that a key can only hand out what it holds.
import { ManualClock } from '../support/clock';
import { type GraphQLBody, type Harness, type Response, type Workspace, codes, eachBackend } from '../support/harness';
import { buildTree } from '../support/tree-fixture';

const CREATE_KEY = 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id name prefix scopes expiresAt } } }';
const VIEWER = '{ viewer { tenant { slug } scopes apiKey { id } } }';

interface CreatedKey {
  key: string;
  id: string;
  secret: string;
  prefix: string;
}

/** Creates a key through the API as `creator` (the admin key by default). */
async function createKey(ws: Workspace, scopes: string[], options: { creator?: string; expiresAt?: Date; name?: string } = {}): Promise<CreatedKey> {
  const res = await ws.gql(
    CREATE_KEY,
    { input: { name: options.name ?? 'a key', scopes, expiresAt: options.expiresAt?.toISOString() } },
    options.creator ?? ws.adminKey,
  );
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  const { key, apiKey } = res.body.data.createApiKey;
  return { key, id: apiKey.id, secret: key.slice(`kauth_${ws.tenant.slug}_`.length), prefix: apiKey.prefix };
}

function expectUnauthenticated(res: Response<GraphQLBody>): void {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe('Bearer');
  expect(codes(res.body)).toEqual(['UNAUTHENTICATED']);
  expect(res.body.data).toBeUndefined();
}

/** The app's clock for expiry and lastUsedAt: tests move it instead of waiting. */
const clock = new ManualClock();

async function lastUsedAt(h: Harness, id: string): Promise<Date | null> {
  const row = await h.db.prisma.apiKey.findUniqueOrThrow({ where: { id: Number(id) } });
  return row.lastUsedAt;
}

async function keyCount(ws: Workspace): Promise<number> {
  return ws.h.db.prisma.apiKey.count({ where: { tenantId: ws.tenant.id } });
}

eachBackend('API keys', (h) => {
  describe('format and storage', () => {
    it('issues keys as kauth_<slug>_ followed by at least 32 base62 characters, different each time', async () => {
      const ws = await h.workspace();
      const a = await createKey(ws, ['groups:read']);
      const b = await createKey(ws, ['groups:read']);
      const format = new RegExp(`^kauth_${ws.tenant.slug}_[A-Za-z0-9]{32,}$`);
      expect(a.key).toMatch(format);
      expect(b.key).toMatch(format);
      expect(a.secret).not.toBe(b.secret);
    });

    it('stores neither the key nor its secret in any table, only a hash and a short prefix', async () => {
      const ws = await h.workspace();
      const created = await createKey(ws, ['groups:read'], { name: 'audit me' });
      await ws.gql(VIEWER, {}, created.key);

      const tables = await h.db.raw.query<{ schema: string; name: string }>(
        `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
         WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
      );
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['api_keys', 'tenants', 'groups', 'users']));
      const rows: string[] = [];
      for (const table of tables) {
        const dump = await h.db.raw.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table.schema}"."${table.name}" t`);
        rows.push(...dump.map((r) => r.row));
      }
      const all = rows.join('\n');
      expect(all).toContain('audit me');
      expect(all).not.toContain(created.secret);
      expect(all).not.toContain(created.secret.slice(created.prefix.length));
      expect(all).not.toContain(created.key);

      const stored = await h.db.prisma.apiKey.findUniqueOrThrow({ where: { id: Number(created.id) } });
      expect(stored.secretHash).toMatch(/^[0-9a-f]{64}$/);
      expect(created.prefix.length).toBeLessThanOrEqual(12);
      expect(created.secret.startsWith(created.prefix)).toBe(true);
    });

    it('shows the secret only in the createApiKey result: listings carry the prefix, and ApiKey has no secret field', async () => {
      const ws = await h.workspace();
      const created = await createKey(ws, ['groups:read']);
      const listed = await ws.ok('{ apiKeys(first: 100) { nodes { id prefix name scopes createdAt expiresAt lastUsedAt revokedAt } pageInfo { hasNextPage } } }');
      expect(listed.apiKeys.pageInfo.hasNextPage).toBe(false);
      expect(listed.apiKeys.nodes).toContainEqual(expect.objectContaining({ id: created.id, prefix: created.prefix }));
      expect(JSON.stringify(listed)).not.toContain(created.secret);
      const own = await ws.gql('{ viewer { apiKey { id prefix } } }', {}, created.key);
      expect(JSON.stringify(own.body)).not.toContain(created.secret);

      const type = await ws.ok('{ __type(name: "ApiKey") { fields { name } } }');
      expect(type.__type.fields.map((f: { name: string }) => f.name).sort()).toEqual(
        ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'scopes'],
      );
    });
  });

  describe('revocation and expiry', () => {
    it('refuses a revoked key on the next request', async () => {
      const ws = await h.workspace();
      const created = await createKey(ws, ['groups:read']);
      expect((await ws.gql(VIEWER, {}, created.key)).status).toBe(200);
      await ws.ok('mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: created.id });
      expectUnauthenticated(await ws.gql(VIEWER, {}, created.key));
      expect((await ws.gql(VIEWER)).status).toBe(200);
    });

    it('lets a key revoke itself, after which it stops working', async () => {
      const ws = await h.workspace();
      const created = await createKey(ws, ['apikeys:write']);
      const res = await ws.gql('mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }', { id: created.id }, created.key);
      expect(res.body.data.revokeApiKey.revokedAt).toEqual(expect.any(String));
      expectUnauthenticated(await ws.gql(VIEWER, {}, created.key));
    });

    it('refuses an expired key from the moment it expires', async () => {
      const ws = await h.workspace();
      const created = await createKey(ws, ['groups:read'], { expiresAt: clock.in(1500) });
      expect((await ws.gql(VIEWER, {}, created.key)).status).toBe(200);
      clock.advance(1499);
      expect((await ws.gql(VIEWER, {}, created.key)).status).toBe(200);
      clock.advance(1);
      expectUnauthenticated(await ws.gql(VIEWER, {}, created.key));
    });

    it('refuses a key whose expiry is set to the past in the database while it is in use, once its cached lookup is 750 ms old', async () => {
      const ws = await h.workspace();
      const created = await createKey(ws, ['groups:read']);
      expect((await ws.gql(VIEWER, {}, created.key)).status).toBe(200);
      // Not a change the service makes (keys are revoked, which every process hears at once): a row
      // edited behind its back is trusted from the credential cache until its lookup is 750 ms old.
      await h.db.prisma.apiKey.update({ where: { id: Number(created.id) }, data: { expiresAt: clock.in(-1000) } });
      clock.advance(750);
      expectUnauthenticated(await ws.gql(VIEWER, {}, created.key));
    });

    it('refuses to create a key that has already expired', async () => {
      const ws = await h.workspace();
      const before = await keyCount(ws);
      const res = await ws.gql(CREATE_KEY, { input: { name: 'late', scopes: ['groups:read'], expiresAt: clock.in(-60_000).toISOString() } });
      expect(codes(res.body)).toEqual(['BAD_USER_INPUT']);
      expect(res.body.errors![0].extensions.field).toBe('expiresAt');
      expect(await keyCount(ws)).toBe(before);
    });
  });

  describe('revocation needs at least the scopes of the key revoked', () => {
    const REVOKE = 'mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }';

    async function isRevoked(id: string): Promise<boolean> {
      return (await h.db.prisma.apiKey.findUniqueOrThrow({ where: { id: Number(id) } })).revokedAt !== null;
    }

    it('refuses an apikeys:write-only key revoking the full-access admin key, naming the missing scopes', async () => {
      const ws = await h.workspace();
      const { apiKey } = (await ws.ok('{ viewer { apiKey { id } } }')).viewer;
      const narrow = await createKey(ws, ['apikeys:write']);
      const res = await ws.gql(REVOKE, { id: apiKey.id }, narrow.key);
      expect(codes(res.body)).toEqual(['FORBIDDEN']);
      expect(res.body.data).toBeNull();
      expect(res.body.errors![0].extensions.requiredScopes).toEqual([
        ['groups:read', 'groups:members:write', 'groups:write', 'users:read', 'users:write', 'roles:read', 'roles:write', 'audit:read'],
      ]);
      expect(await isRevoked(apiKey.id)).toBe(false);
      expect((await ws.gql(VIEWER)).status).toBe(200);
    });

    it('lets a key revoke keys whose scopes it covers, restricted ones by the same subtree rule as creation', async () => {
      const ws = await h.workspace();
      const R = await ws.group('R');
      const A = await ws.group('A', R);
      const A1 = await ws.group('A1', A);
      const revoker = await createKey(ws, ['apikeys:write', `groups:write@${A}`, 'users:read']);
      for (const scopes of [['users:read'], [`groups:read@${A1}`, 'apikeys:read'], [`groups:members:write@${A}`]]) {
        const target = await createKey(ws, scopes);
        const res = await ws.gql(REVOKE, { id: target.id }, revoker.key);
        expect(res.body.errors).toBeUndefined();
        expect(await isRevoked(target.id)).toBe(true);
      }
      for (const [scopes, missing] of [
        [[`groups:read@${R}`], [`groups:read@${R}`]],
        [['groups:read', 'users:read'], ['groups:read']],
        [['users:write'], ['users:write']],
      ]) {
        const target = await createKey(ws, scopes);
        const res = await ws.gql(REVOKE, { id: target.id }, revoker.key);
        expect(codes(res.body)).toEqual(['FORBIDDEN']);
        expect(res.body.errors![0].extensions.requiredScopes).toEqual([missing]);
        expect(await isRevoked(target.id)).toBe(false);
      }
    });

    it('ignores stored scopes this version does not know, and needs the unrestricted form for a group since deleted', async () => {
      const ws = await h.workspace();
      const gone = await ws.group('Gone');
      const target = await createKey(ws, [`groups:read@${gone}`]);
      await ws.ok('mutation($id: ID!) { deleteGroup(id: $id) }', { id: gone });
      const restricted = await createKey(ws, ['apikeys:write', `groups:read@${await ws.group('Other')}`]);
      expect(codes((await ws.gql(REVOKE, { id: target.id }, restricted.key)).body)).toEqual(['FORBIDDEN']);
      const unrestricted = await createKey(ws, ['apikeys:write', 'groups:read']);
      expect((await ws.gql(REVOKE, { id: target.id }, unrestricted.key)).body.errors).toBeUndefined();

      const legacy = await createKey(ws, ['apikeys:read']);
      await h.db.prisma.apiKey.update({ where: { id: Number(legacy.id) }, data: { scopes: ['apikeys:read', 'legacy:admin'] } });
      expect((await ws.gql(REVOKE, { id: legacy.id }, (await createKey(ws, ['apikeys:write'])).key)).body.errors).toBeUndefined();
      expect(await isRevoked(legacy.id)).toBe(true);
    });
  });

  describe('malformed and unknown credentials', () => {
    const cases: [string, (ws: Workspace, other: Workspace, valid: CreatedKey) => Record<string, string>][] = [
      ['no Authorization header', () => ({})],
      ['an empty Authorization header', () => ({ authorization: '' })],
      ['Basic credentials', () => ({ authorization: 'Basic dXNlcjpwYXNz' })],
      ['"Bearer" without a credential', () => ({ authorization: 'Bearer' })],
      ['the key without "Bearer"', (_, __, valid) => ({ authorization: valid.key })],
      ['two credentials', (_, __, valid) => ({ authorization: `Bearer ${valid.key} ${valid.key}` })],
      ['a secret shorter than 32 characters', (ws) => ({ authorization: `Bearer kauth_${ws.tenant.slug}_abc123` })],
      ['a secret with a non-base62 character', (ws, __, valid) => ({ authorization: `Bearer kauth_${ws.tenant.slug}_${valid.secret.slice(1)}!` })],
      ['a well-formed key that was never issued', (ws) => ({ authorization: `Bearer kauth_${ws.tenant.slug}_${'A'.repeat(40)}` })],
      ['the secret with one character changed', (ws, __, valid) => ({
        authorization: `Bearer kauth_${ws.tenant.slug}_${valid.secret.slice(0, -1)}${valid.secret.endsWith('A') ? 'B' : 'A'}`,
      })],
      ["the secret under another tenant's slug", (_, other, valid) => ({ authorization: `Bearer kauth_${other.tenant.slug}_${valid.secret}` })],
      ['the secret under an unknown slug', (_, __, valid) => ({ authorization: `Bearer kauth_nosuchtenant_${valid.secret}` })],
      ['a JWT-shaped token while JWTs are off', () => ({ authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJ0ZW5hbnQiOiJ4In0.c2ln' })],
    ];

    it.each(cases)('answers 401 UNAUTHENTICATED with WWW-Authenticate: Bearer for %s', async (_, headersFor) => {
      const [ws, other] = await Promise.all([h.workspace(), h.workspace()]);
      const valid = await createKey(ws, ['groups:read']);
      const res = await h.request<GraphQLBody>('POST', '/graphql', { headers: headersFor(ws, other, valid), body: { query: VIEWER } });
      expectUnauthenticated(res);
    });

    it('accepts the scheme name in any case, as RFC 7235 allows', async () => {
      const ws = await h.workspace();
      const res = await h.request<GraphQLBody>('POST', '/graphql', { headers: { authorization: `bearer ${ws.adminKey}` }, body: { query: VIEWER } });
      expect(res.status).toBe(200);
      expect(res.body.data.viewer.tenant.slug).toBe(ws.tenant.slug);
    });
  });

  describe('lastUsedAt', () => {
    it('records the time of the first use once the request is answered, and not again within a minute', async () => {
      const ws = await h.workspace();
      const created = await createKey(ws, ['groups:read']);
      expect(await lastUsedAt(h, created.id)).toBeNull();

      const first = clock.now();
      expect((await ws.gql(VIEWER, {}, created.key)).status).toBe(200);
      await h.app.settled();
      expect(await lastUsedAt(h, created.id)).toEqual(first);

      clock.advance(59_999);
      expect((await ws.gql(VIEWER, {}, created.key)).status).toBe(200);
      await h.app.settled();
      expect(await lastUsedAt(h, created.id)).toEqual(first);

      clock.advance(1);
      expect((await ws.gql(VIEWER, {}, created.key)).status).toBe(200);
      await h.app.settled();
      expect(await lastUsedAt(h, created.id)).toEqual(clock.now());
    });

    it('is shown in apiKeys', async () => {
      const ws = await h.workspace();
      const created = await createKey(ws, ['groups:read']);
      await ws.gql(VIEWER, {}, created.key);
      await h.app.settled();
      const { apiKeys } = await ws.ok('{ apiKeys(first: 100) { nodes { id lastUsedAt } pageInfo { hasNextPage } } }');
      expect(apiKeys.pageInfo.hasNextPage).toBe(false);
      expect(apiKeys.nodes.find((k: { id: string }) => k.id === created.id).lastUsedAt).toBe(clock.now().toISOString());
    });
  });

  describe('no escalation through createApiKey', () => {
    /** R ─ A ─ A1 ─ A11,  R ─ B */
    const tree = (ws: Workspace) => buildTree(ws, { groups: { R: { A: { A1: { A11: {} } }, B: {} } } });

    async function expectRefused(ws: Workspace, creator: string, scopes: string[], code: string): Promise<GraphQLBody> {
      const before = await keyCount(ws);
      const res = await ws.gql(CREATE_KEY, { input: { name: 'refused', scopes } }, creator);
      expect(codes(res.body)).toEqual([code]);
      expect(res.body.data).toBeNull();
      expect(await keyCount(ws)).toBe(before);
      return res.body;
    }

    it('lets an unrestricted creator hand out what it holds, implied and restricted forms included', async () => {
      const ws = await h.workspace();
      const g = await tree(ws);
      const creator = (await createKey(ws, ['apikeys:write', 'groups:write', 'users:read'])).key;
      for (const scopes of [['groups:write'], ['groups:read', 'groups:members:write'], [`groups:write@${g.A}`], ['users:read'], ['apikeys:read'], ['apikeys:write']]) {
        const created = await createKey(ws, scopes, { creator });
        expect((await ws.gql('{ viewer { scopes } }', {}, created.key)).body.data.viewer.scopes).toEqual(scopes);
      }
    });

    it('refuses an unrestricted creator a scope it does not hold, naming the scopes in requiredScopes', async () => {
      const ws = await h.workspace();
      const creator = (await createKey(ws, ['apikeys:write', 'groups:write'])).key;
      const body = await expectRefused(ws, creator, ['groups:read', 'users:read', 'roles:write'], 'FORBIDDEN');
      expect(body.errors![0].extensions.requiredScopes).toEqual([['users:read', 'roles:write']]);
      await expectRefused(ws, (await createKey(ws, ['apikeys:read', 'apikeys:write'])).key, ['groups:read'], 'FORBIDDEN');
    });

    it('refuses a creator holding users:read the users:write scope that implies it', async () => {
      const ws = await h.workspace();
      const creator = (await createKey(ws, ['apikeys:write', 'users:read'])).key;
      await expectRefused(ws, creator, ['users:write'], 'FORBIDDEN');
    });

    it('lets a restricted creator hand out the same subtree or a narrower one', async () => {
      const ws = await h.workspace();
      const g = await tree(ws);
      const creator = (await createKey(ws, ['apikeys:write', `groups:write@${g.A}`])).key;
      for (const scopes of [[`groups:write@${g.A}`], [`groups:read@${g.A1}`], [`groups:members:write@${g.A11}`], [`groups:write@${g.A1}`, `groups:read@${g.A}`]]) {
        await createKey(ws, scopes, { creator });
      }
      const narrow = await createKey(ws, [`groups:read@${g.A1}`], { creator });
      const listed = await ws.gql('{ groups(first: 100) { nodes { id } totalCount } }', {}, narrow.key);
      expect(listed.body.data.groups).toEqual({ nodes: [{ id: g.A1 }, { id: g.A11 }], totalCount: 2 });
    });

    it.each([
      ['the unrestricted scope', () => ['groups:write']],
      ['an implied scope without restriction', () => ['groups:read']],
    ])('refuses a restricted creator %s with FORBIDDEN, creating nothing', async (_, wanted) => {
      const ws = await h.workspace();
      const g = await tree(ws);
      const creator = (await createKey(ws, ['apikeys:write', `groups:write@${g.A}`])).key;
      await expectRefused(ws, creator, wanted(), 'FORBIDDEN');
    });

    it.each([
      ['a wider subtree (the parent)', (g: Record<string, string>) => [`groups:write@${g.R}`]],
      ['a sibling subtree', (g: Record<string, string>) => [`groups:read@${g.B}`]],
      ['one allowed and one wider scope together', (g: Record<string, string>) => [`groups:read@${g.A1}`, `groups:read@${g.R}`]],
    ])('refuses a restricted creator %s it cannot read with the NOT_FOUND of an unknown group, creating nothing', async (_, wanted) => {
      const ws = await h.workspace();
      const g = await tree(ws);
      const creator = (await createKey(ws, ['apikeys:write', `groups:write@${g.A}`])).key;
      const hidden = await expectRefused(ws, creator, wanted(g), 'NOT_FOUND');
      const unknown = await expectRefused(ws, creator, wanted({ ...g, R: '2147483000', B: '2147483000' }), 'NOT_FOUND');
      // The id masked wherever the error says it, but not in `locations` (a column can be the same number).
      const masked = (body: GraphQLBody, id: string) =>
        JSON.parse(
          JSON.stringify(body.errors, (key, value) => {
            if (key === 'line' || key === 'column') return value;
            if (typeof value === 'number') return String(value) === id ? '<id>' : value;
            return typeof value === 'string' ? value.replace(new RegExp(`(?<![0-9])${id}(?![0-9])`, 'g'), '<id>') : value;
          }),
        );
      expect(masked(hidden, wanted(g).at(-1)!.split('@')[1])).toEqual(masked(unknown, '2147483000'));
    });

    it('refuses a creator that can read a group but not hand out the scope on it with FORBIDDEN', async () => {
      const ws = await h.workspace();
      const g = await tree(ws);
      const creator = (await createKey(ws, ['apikeys:write', 'groups:read', `groups:write@${g.A}`])).key;
      const body = await expectRefused(ws, creator, [`groups:write@${g.R}`], 'FORBIDDEN');
      expect(body.errors![0].extensions.requiredScopes).toEqual([[`groups:write@${g.R}`]]);
    });

    it.each([
      ['an unknown scope', ['groups:admin'], 'scopes[0]'],
      ['an unknown scope after a valid one', ['groups:read', 'teams:read'], 'scopes[1]'],
      ['a restricted users:read', ['users:read@5'], 'scopes[0]'],
      ['a restricted roles:write', ['roles:write@5'], 'scopes[0]'],
      ['a restricted apikeys:write', ['apikeys:write@5'], 'scopes[0]'],
      ['a malformed restriction', ['groups:read@abc'], 'scopes[0]'],
      ['no scopes at all', [], 'scopes'],
    ])('refuses %s with BAD_USER_INPUT naming the field, even to an all-scopes key', async (_, scopes, field) => {
      const ws = await h.workspace();
      const body = await expectRefused(ws, ws.adminKey, scopes, 'BAD_USER_INPUT');
      expect(body.errors![0].extensions.field).toBe(field);
    });

    it("refuses a restriction to another tenant's group as not found", async () => {
      const [ws, other] = await Promise.all([h.workspace(), h.workspace()]);
      const foreign = await other.group('Theirs');
      await expectRefused(ws, ws.adminKey, [`groups:read@${foreign}`], 'NOT_FOUND');
    });
  });

  describe('expiry of keys made by expiring keys', () => {
    it('lets an expiring key create only keys that expire no later than itself', async () => {
      const ws = await h.workspace();
      const expiresAt = clock.in(3_600_000);
      const creator = (await createKey(ws, ['apikeys:write', 'groups:read'], { expiresAt })).key;
      for (const later of [undefined, new Date(expiresAt.getTime() + 60_000)]) {
        const before = await keyCount(ws);
        const res = await ws.gql(CREATE_KEY, { input: { name: 'outlives', scopes: ['groups:read'], expiresAt: later?.toISOString() } }, creator);
        expect(codes(res.body)).toEqual(['FORBIDDEN']);
        expect(await keyCount(ws)).toBe(before);
      }
      const earlier = await createKey(ws, ['groups:read'], { creator, expiresAt: new Date(expiresAt.getTime() - 60_000) });
      expect(earlier.key).toMatch(/^kauth_/);
    });
  });

  describe('stored scopes this version does not know', () => {
    it('still authenticates the key, lists the scope as given, and grants nothing for it', async () => {
      const ws = await h.workspace();
      const created = await createKey(ws, ['groups:read']);
      await h.db.prisma.apiKey.update({ where: { id: Number(created.id) }, data: { scopes: ['groups:read', 'legacy:admin'] } });
      const res = await ws.gql('{ viewer { scopes } groups { totalCount } }', {}, created.key);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ viewer: { scopes: ['groups:read', 'legacy:admin'] }, groups: { totalCount: 0 } });
      const denied = await ws.gql('{ apiKeys { nodes { id } } }', {}, created.key);
      expect(codes(denied.body)).toEqual(['FORBIDDEN']);
    });
  });

  describe('viewer', () => {
    it('lists the scopes as given and the key itself, even without apikeys:read', async () => {
      const ws = await h.workspace();
      const root = await ws.group('Root');
      const created = await createKey(ws, [`groups:members:write@${root}`, 'users:read'], { name: 'sync bot' });
      const res = await ws.gql('{ viewer { tenant { slug name } scopes apiKey { id name prefix scopes revokedAt } } }', {}, created.key);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.viewer).toEqual({
        tenant: { slug: ws.tenant.slug, name: ws.tenant.name },
        scopes: [`groups:members:write@${root}`, 'users:read'],
        apiKey: { id: created.id, name: 'sync bot', prefix: created.prefix, scopes: [`groups:members:write@${root}`, 'users:read'], revokedAt: null },
      });
    });

    it('does not let a key without apikeys:read see other keys', async () => {
      const ws = await h.workspace();
      const created = await createKey(ws, ['groups:read']);
      const res = await ws.gql('{ apiKeys { nodes { id } } }', {}, created.key);
      expect(codes(res.body)).toEqual(['FORBIDDEN']);
      expect(res.body.data).toBeNull();
    });
  });
}, { app: { clock } });
