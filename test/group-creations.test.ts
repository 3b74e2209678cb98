// Group creations of one workspace that wait together are made together (src/domain/group-creations.ts):
// one transaction for all, each checked as if alone with its own credential, a refusal failing
// only its own creation, each audit event naming its own credential and request. The workspace's
// write queue is held while the creations arrive, so that they are certainly waiting together.
import { writeQueueOf } from '../src/db';
import { type Harness, MAX_GROUP_DEPTH, type Workspace, codes, eachBackend } from './support/harness';
import { checkTree } from '../src/domain/doctor';
import { waitFor } from './support/wait';

const CREATE = 'mutation($input: CreateGroupInput!) { createGroup(input: $input) { id name parent { id } } }';

/**
 * Holds every turn of the workspace's write queue until `release()`; `waiting(answers)` resolves once
 * each of the requests `answers` either waits behind or has been answered already (refused before
 * its write reached the queue).
 */
async function holdQueue(h: Harness, ws: Workspace) {
  const queue = writeQueueOf(h.db.prisma)!;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const holders = Array.from({ length: queue.concurrency }, () => queue.run(ws.tenant.id, () => gate));
  await waitFor('the queue to be held', async () => queue.depth(ws.tenant.id) === queue.concurrency);
  return {
    waiting(answers: Promise<unknown>[]) {
      let answered = 0;
      const count = () => void (answered += 1);
      for (const answer of answers) void answer.then(count, count);
      return waitFor(`${answers.length} writes to wait or be answered`, async () => answered + queue.depth(ws.tenant.id) - queue.concurrency >= answers.length);
    },
    async release() {
      release();
      await Promise.all(holders);
    },
  };
}

eachBackend('group creations made together', (h) => {
  it('makes 30 creations of two keys in about the statements of one, each event naming its own key and request', async () => {
    const ws = await h.workspace();
    const parent = await ws.group('Parent');
    const keys = [await ws.key(['groups:write']), await ws.key(['groups:write'])];
    const actors = await h.db.prisma.apiKey.findMany({ where: { tenantId: ws.tenant.id }, orderBy: { id: 'desc' }, take: 2 });

    const startedAlone = h.db.statements.total;
    const alone = await ws.gql(CREATE, { input: { name: 'Alone', parentId: parent } }, keys[0]);
    expect(alone.body.errors).toBeUndefined();
    const statementsAlone = h.db.statements.total - startedAlone;

    const held = await holdQueue(h, ws);
    const started = h.db.statements.total;
    const answers = Array.from({ length: 30 }, (_, i) => ws.gql(CREATE, { input: { name: `Team ${i}`, parentId: i % 2 ? parent : null } }, keys[i % 2]));
    await held.waiting(answers);
    await held.release();
    const results = await Promise.all(answers);
    const statementsTogether = h.db.statements.total - started;

    for (const [i, res] of results.entries()) {
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.createGroup).toMatchObject({ name: `Team ${i}`, parent: i % 2 ? { id: parent } : null });
    }
    expect(new Set(results.map((r) => r.body.data.createGroup.id)).size).toBe(30);
    // Made one by one, 30 creations would send 30 times the statements of one. Together they send
    // about 2.4 times (24 against 10 on PGlite, 25-27 against 11 on PostgreSQL); the bound leaves
    // room for what else the app sends meanwhile on a loaded machine (30 was seen once).
    expect(statementsTogether).toBeLessThan(5 * statementsAlone);

    const all = await h.db.prisma.auditEvent.findMany({ where: { tenantId: ws.tenant.id }, orderBy: { seq: 'asc' } });
    // Every event of the workspace once, numbered from 1 without a gap.
    expect(all.map((e) => Number(e.seq))).toEqual(all.map((_, i) => i + 1));
    const events = all.filter((e) => e.action === 'GROUP_CREATED');
    const byGroup = new Map(events.map((e) => [e.targetId, e]));
    for (const [i, res] of results.entries()) {
      const event = byGroup.get(res.body.data.createGroup.id)!;
      expect(event.actor).toBe(`apikey:${actors[1 - (i % 2)].id}`);
      expect(event.changes).toMatchObject({ name: { before: null, after: `Team ${i}` } });
    }
    // Each with its own request id.
    expect(events.slice(-30).map((e) => Number(e.seq))).toEqual(events.slice(-30).map((_, i) => Number(events.at(-30)!.seq) + i));
    expect(new Set(events.slice(-30).map((e) => e.requestId)).size).toBe(30);
    const [{ childCount }] = await h.db.prisma.$queryRaw<{ childCount: number }[]>`SELECT child_count AS "childCount" FROM groups WHERE id = ${Number(parent)}::int`;
    expect(childCount).toBe(16);
    expect(await checkTree(h.db.prisma, { slug: ws.tenant.slug })).toEqual([]);
  });

  it('refuses, among creations made together, each that would be refused alone, and makes the others', async () => {
    const ws = await h.workspace();
    const a = await ws.group('A');
    const b = await ws.group('B');
    await ws.group('Taken', a);
    let deepest = a;
    for (let depth = 2; depth <= MAX_GROUP_DEPTH; depth += 1) deepest = await ws.group(`Level ${depth}`, deepest);
    const restricted = await ws.key([`groups:write@${a}`]);

    const held = await holdQueue(h, ws);
    const asked: [string, Record<string, unknown>, string?][] = [
      ['first of two names', { name: 'Twin', parentId: a }],
      ['the same name again, other case', { name: 'twin', parentId: a }],
      ['a name a sibling has', { name: 'TAKEN', parentId: a }],
      ['no such parent', { name: 'Orphan', parentId: '999999999' }],
      ['a parent the key cannot read', { name: 'Outside', parentId: b }, restricted],
      ['a root, for a restricted key', { name: 'Root' }, restricted],
      ['too deep', { name: 'Deeper', parentId: deepest }],
      ['inside, for the restricted key', { name: 'Inside', parentId: a }, restricted],
      ['a root', { name: 'New root' }],
    ];
    const ask = ([, input, key]: (typeof asked)[number]) => ws.gql(CREATE, { input }, key ?? ws.adminKey);
    // The first twin waits in the queue before the others are sent, so it is the one made: requests
    // sent at once may reach the queue in any order.
    const first = ask(asked[0]);
    await held.waiting([first]);
    const answers = [first, ...asked.slice(1).map(ask)];
    await held.waiting(answers);
    await held.release();
    const results = await Promise.all(answers);
    const outcome = (i: number) => codes(results[i].body)[0] ?? 'made';
    expect(asked.map(([what], i) => [what, outcome(i)])).toEqual([
      ['first of two names', 'made'],
      ['the same name again, other case', 'CONFLICT'],
      ['a name a sibling has', 'CONFLICT'],
      ['no such parent', 'NOT_FOUND'],
      ['a parent the key cannot read', 'NOT_FOUND'],
      ['a root, for a restricted key', 'FORBIDDEN'],
      ['too deep', 'BAD_USER_INPUT'],
      ['inside, for the restricted key', 'made'],
      ['a root', 'made'],
    ]);
    const twin = results[0].body.data.createGroup.id;
    expect(results[1].body.errors![0].extensions).toMatchObject({ existingId: twin });
    expect(results[1].body.errors![0].message).toBe(`a group named "twin" already exists under group ${a} (group ${twin}); names are unique among siblings, ignoring case`);
    // The refusal of a group the key cannot read is the refusal of one that does not exist.
    expect(results[4].body.errors![0].message).toBe(`Group ${b} not found`);
    const names = (await h.db.prisma.group.findMany({ where: { tenantId: ws.tenant.id }, select: { name: true } })).map((g) => g.name);
    expect(names).toEqual(expect.arrayContaining(['Twin', 'Inside', 'New root']));
    expect(names).not.toEqual(expect.arrayContaining(['twin']));
    expect(names.filter((n) => ['Orphan', 'Outside', 'Root', 'Deeper'].includes(n))).toEqual([]);
    expect(await checkTree(h.db.prisma, { slug: ws.tenant.slug })).toEqual([]);
  });
});

// With one write turn per workspace, the strictest setting: the creations made alone after a
// failed batch are made within the turn the batch holds.
eachBackend('group creations made together, when the batch fails as a whole (one write turn per workspace)', (h) => {
  it('makes each creation alone, so that only the one the database refuses fails', async () => {
    const ws = await h.workspace();
    const parent = await ws.group('Parent');
    // A database refusal the checks cannot foresee, for one name in this workspace only: the
    // batch's one insert fails, and with it the batch's transaction.
    await h.db.prisma.$executeRawUnsafe(`CREATE FUNCTION refuse_poison_${ws.tenant.id}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'poison refused'; END $$`);
    await h.db.prisma.$executeRawUnsafe(`CREATE TRIGGER refuse_poison_${ws.tenant.id} BEFORE INSERT ON groups FOR EACH ROW
      WHEN (NEW.tenant_id = ${ws.tenant.id} AND NEW.name = 'Poison') EXECUTE FUNCTION refuse_poison_${ws.tenant.id}()`);
    try {
      const held = await holdQueue(h, ws);
      const names = ['Before', 'Poison', 'After', 'Last'];
      const answers = names.map((name) => ws.gql(CREATE, { input: { name, parentId: parent } }));
      await held.waiting(answers);
      const statementsBefore = h.db.statements.total;
      await held.release();
      const results = await Promise.all(answers);
      expect(names.map((name, i) => [name, results[i].body.errors ? 'refused' : 'made'])).toEqual([
        ['Before', 'made'],
        ['Poison', 'refused'],
        ['After', 'made'],
        ['Last', 'made'],
      ]);
      // The batch was tried first (one insert for all), then each creation alone.
      expect(h.db.statements.total - statementsBefore).toBeGreaterThan(4 * 3);
      // The refusal is the service's generic one: the database's words stay in the server's log.
      expect(JSON.stringify(results[1].body.errors)).not.toContain('poison refused');
    } finally {
      await h.db.prisma.$executeRawUnsafe(`DROP TRIGGER IF EXISTS refuse_poison_${ws.tenant.id} ON groups`);
      await h.db.prisma.$executeRawUnsafe(`DROP FUNCTION IF EXISTS refuse_poison_${ws.tenant.id}()`);
    }
    // Requests sent at once reach the queue in any order: the names are compared as a set.
    const groups = await h.db.prisma.group.findMany({ where: { tenantId: ws.tenant.id, parentGroupId: Number(parent) } });
    expect(groups.map((g) => g.name).sort()).toEqual(['After', 'Before', 'Last']);
    const events = await h.db.prisma.auditEvent.findMany({ where: { tenantId: ws.tenant.id }, orderBy: { seq: 'asc' } });
    expect(events.map((e) => Number(e.seq))).toEqual(events.map((_, i) => i + 1));
    const created = events.filter((e) => e.action === 'GROUP_CREATED').map((e) => (e.changes as { name: { after: string } }).name.after);
    expect(created[0]).toBe('Parent');
    expect(created.slice(1).sort()).toEqual(['After', 'Before', 'Last']);
    const [{ childCount }] = await h.db.prisma.$queryRaw<{ childCount: number }[]>`SELECT child_count AS "childCount" FROM groups WHERE id = ${Number(parent)}::int`;
    expect(childCount).toBe(3);
    expect(await checkTree(h.db.prisma, { slug: ws.tenant.slug })).toEqual([]);
  });
}, { pool: { writeConcurrency: 1 } });
