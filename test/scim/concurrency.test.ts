// What concurrent identity-provider requests do to one workspace on PostgreSQL (PGlite runs one
// statement at a time, so nothing races there): uniqueness holds, member deltas add up, PATCHes of
// one user without If-Match all land, and If-Match lets exactly one of two writers through.
import { postgresOnly } from '../support/harness';
import { Scim, USER_SCHEMA, connectScim, created, filter, patchOp } from '../support/scim';

const ROUNDS = 12;

postgresOnly('SCIM under concurrent requests', (h) => {
  const newUser = async (scim: Scim, userName: string) => (await created(scim.post('/Users', { schemas: [USER_SCHEMA], userName }))).id as string;

  it('creates one user of a userName sent many times at once, in different cases; the others are 409 uniqueness', async () => {
    const { scim } = await connectScim(h);
    const results = await Promise.all(
      Array.from({ length: ROUNDS }, (_, i) => scim.post('/Users', { schemas: [USER_SCHEMA], userName: i % 2 ? 'Race@Example.com' : 'race@example.COM' })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, ...Array(ROUNDS - 1).fill(409)]);
    for (const lost of results.filter((r) => r.status === 409)) expect(lost.body.scimType).toBe('uniqueness');
    const found = await scim.get(`/Users?${filter('userName eq "RACE@example.com"')}`);
    expect(found.body.totalResults).toBe(1);
  });

  it('creates one group of a displayName sent many times at once under one parent', async () => {
    const { scim } = await connectScim(h);
    const results = await Promise.all(Array.from({ length: ROUNDS }, () => scim.post('/Groups', { displayName: 'Racers', members: [] })));
    expect(results.map((r) => r.status).sort()).toEqual([201, ...Array(ROUNDS - 1).fill(409)]);
    const found = await scim.get(`/Groups?${filter('displayName eq "racers"')}&excludedAttributes=members`);
    expect(found.body.totalResults).toBe(1);
  });

  it('applies concurrent member deltas to one group without losing any, and moves its version once per delta', async () => {
    const { scim } = await connectScim(h);
    const users = await Promise.all(Array.from({ length: ROUNDS * 2 }, (_, i) => newUser(scim, `m${i}@example.com`)));
    const group = (await scim.post('/Groups', { displayName: 'Busy', members: [{ value: users[0] }] })).body;
    // Each request adds two users; the first also removes the founding member.
    const results = await Promise.all(
      Array.from({ length: ROUNDS }, (_, i) =>
        scim.patch(
          `/Groups/${group.id}`,
          patchOp(
            { op: 'Add', path: 'members', value: [{ value: users[2 * i] }, { value: users[2 * i + 1] }] },
            ...(i === 0 ? [{ op: 'remove', path: `members[value eq "${users[0]}"]` }] : []),
          ),
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(ROUNDS).fill(204));
    const after = (await scim.get(`/Groups/${group.id}`)).body;
    expect(after.members.map((m: { value: string }) => m.value).sort()).toEqual(users.slice(1).sort());
    expect(after.meta.version).toBe(`W/"${1 + 1 + ROUNDS}"`); // created, its first member, then one per delta
  });

  it('lands every concurrent PATCH of one user sent without If-Match (each re-reads the user)', async () => {
    const { scim } = await connectScim(h);
    const id = await newUser(scim, 'many@example.com');
    const fields = ['externalId', 'displayName', 'name.givenName', 'name.familyName'];
    const results = await Promise.all(fields.map((path) => scim.patch(`/Users/${id}`, patchOp({ op: 'replace', path, value: `set-${path}` }))));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const user = (await scim.get(`/Users/${id}`)).body;
    expect(user).toMatchObject({
      externalId: 'set-externalId',
      displayName: 'set-displayName',
      name: { givenName: 'set-name.givenName', familyName: 'set-name.familyName' },
      meta: { version: 'W/"5"' },
    });
  });

  it('lets exactly one of several writers holding the same ETag through; the others get 412 and change nothing', async () => {
    const { scim } = await connectScim(h);
    const id = await newUser(scim, 'etag@example.com');
    const { version } = (await scim.get(`/Users/${id}`)).body.meta;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => scim.patch(`/Users/${id}`, patchOp({ op: 'replace', path: 'displayName', value: `writer ${i}` }), { 'if-match': version })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(5);
    const winner = results.find((r) => r.status === 200)!.body.displayName;
    const user = (await scim.get(`/Users/${id}`)).body;
    expect(user.displayName).toBe(winner);
    expect(user.meta.version).toBe('W/"2"');
  });
});
