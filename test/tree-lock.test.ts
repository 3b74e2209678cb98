// What the tree lock (src/domain/tree-lock.ts) guarantees, shown by staging each race on
// PostgreSQL: a session of the test parks one request on a row lock at a chosen statement, and
// the test checks that the other request waits for it rather than running past it. The two
// requests go to two apps with database handles of their own, as two server processes would:
// within one process, a workspace's writes already take turns in its write queue
// (test/write-queue.test.ts), so the tree lock is what orders writers across processes.
import { type Harness, type Workspace, anotherApp, codes } from './support/harness';
import { Session, racesOnPostgres, settlesOrWaits } from './support/races';
import { Rest } from './support/rest';
import { checkTreesAfterEach } from './support/tree-check';
import { buildTree } from './support/tree-fixture';
import { waitFor } from './support/wait';

const MOVE = 'mutation($id: ID!, $p: ID) { updateGroup(id: $id, input: { parentId: $p }) { id } }';

/** A member write of a key holding groups:members:write@A, and the row lock that parks it at its last statement. */
interface MemberWrite {
  name: string;
  method: 'POST' | 'DELETE';
  /** Whether the user is a member before the write. */
  memberBefore: boolean;
  /** Held by the test, this lock parks the write after its check, at the statement that changes the membership. */
  park: { sql: string; params: (t: Ids) => unknown[] };
}

interface Ids {
  A: string;
  G: string;
  B: string;
  u: string;
}

const WRITES: MemberWrite[] = [
  {
    name: 'member add',
    method: 'POST',
    memberBefore: false,
    // The insert's foreign-key check locks the user row (FOR KEY SHARE).
    park: { sql: 'SELECT 1 FROM users WHERE id = $1 FOR UPDATE', params: (t) => [t.u] },
  },
  {
    name: 'member removal',
    method: 'DELETE',
    memberBefore: true,
    park: { sql: 'SELECT 1 FROM group_members WHERE group_id = $1 AND user_id = $2 FOR UPDATE', params: (t) => [t.G, t.u] },
  },
];

/** Runs `race` with a session of the test's own, then lets every request it started finish. */
async function staged(race: (session: Session, started: Promise<unknown>[]) => Promise<void>): Promise<void> {
  const session = await Session.open();
  const started: Promise<unknown>[] = [];
  try {
    await race(session, started);
  } finally {
    await session.close();
    await Promise.allSettled(started);
  }
}

racesOnPostgres('the tree lock', (h: Harness) => {
  checkTreesAfterEach(h);
  const other = anotherApp();

  /** A ─ G and B; u, a member of G or not; a key restricted to A's subtree. */
  async function setUp(memberBefore: boolean) {
    const ws = await h.workspace();
    const t = await buildTree(ws, { groups: { A: { G: {} }, B: {} }, users: { u: 'U' }, members: memberBefore ? { G: ['u'] } : {} });
    const restricted = new Rest(ws, await ws.key([`groups:members:write@${t.A}`]));
    return { ws, t, restricted };
  }

  const memberIds = (ws: Workspace, group: string) => new Rest(ws).memberIds(Number(group));
  const parentOf = async (ws: Workspace, id: string) => (await ws.ok('query($id: ID!) { group(id: $id) { parent { id } } }', { id })).group.parent;

  it.each(WRITES)(
    'lets a $name that has checked the group inside the subtree commit before a move takes the group out',
    async (write) => {
      const { ws, t, restricted } = await setUp(write.memberBefore);
      let writing!: Promise<{ status: number }>;
      let moving!: Promise<{ body: any }>;
      let moveWhileWriting: string | undefined;
      await staged(async (session, started) => {
        await session.hold(write.park.sql, write.park.params(t));
        writing = restricted.request(write.method, `/groups/${t.G}/members/${t.u}`);
        started.push(writing);
        const [writer] = await waitFor('the member write to reach its last statement', async () => {
          const waiting = await session.waitingFor([session.pid]);
          return waiting.length > 0 ? waiting : undefined;
        });
        moving = ws.through(other).gql(MOVE, { id: t.G, p: t.B });
        started.push(moving);
        const first = await settlesOrWaits(moving, async () => (await session.waitingFor([writer])).length > 0);
        moveWhileWriting = { settled: 'the move committed while the member write was still open', waits: 'the move waited' }[first];
      });
      expect(moveWhileWriting).toBe('the move waited');
      expect((await writing).status).toBe(204);
      expect(codes((await moving).body)).toEqual([]);
      expect(await parentOf(ws, t.G)).toEqual({ id: t.B });
      expect(await memberIds(ws, t.G)).toEqual(write.memberBefore ? [] : [Number(t.u)]);
    },
  );

  it.each(WRITES)(
    'makes a $name that starts while a move is taking the group out wait, then refuses it as outside the subtree',
    async (write) => {
      const { ws, t, restricted } = await setUp(write.memberBefore);
      let writing!: Promise<{ status: number; body: any }>;
      let moving!: Promise<{ body: any }>;
      let writeWhileMoving: string | undefined;
      await staged(async (session, started) => {
        // The move's UPDATE of the group's row waits for this lock, with the tree lock taken.
        await session.hold('SELECT 1 FROM groups WHERE id = $1 FOR NO KEY UPDATE', [t.G]);
        moving = ws.gql(MOVE, { id: t.G, p: t.B });
        started.push(moving);
        const [mover] = await waitFor('the move to reach its update', async () => {
          const waiting = await session.waitingFor([session.pid]);
          return waiting.length > 0 ? waiting : undefined;
        });
        writing = new Rest(ws.through(other), restricted.key).request(write.method, `/groups/${t.G}/members/${t.u}`);
        started.push(writing);
        const first = await settlesOrWaits(writing, async () => (await session.waitingFor([mover])).length > 0);
        writeWhileMoving = { settled: 'the member write ran past the open move', waits: 'the member write waited' }[first];
      });
      expect(writeWhileMoving).toBe('the member write waited');
      expect(codes((await moving).body)).toEqual([]);
      const refused = await writing;
      expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 404, code: 'not_found' });
      expect(await parentOf(ws, t.G)).toEqual({ id: t.B });
      expect(await memberIds(ws, t.G)).toEqual(write.memberBefore ? [Number(t.u)] : []);
    },
  );

  it('never lets two concurrent moves create a cycle: the second waits, then sees the first and refuses', async () => {
    const ws = await h.workspace();
    const t = await buildTree(ws, { groups: { X: {}, Y: {} } });
    let moves!: Promise<{ body: any }>[];
    let bothPastTheirChecks: boolean | undefined;
    await staged(async (session, started) => {
      // Each move's UPDATE waits for these row locks: both reach it only if neither waits for the other.
      await session.hold('SELECT 1 FROM groups WHERE id = ANY($1::int[]) FOR NO KEY UPDATE', [[t.X, t.Y]]);
      moves = [ws.gql(MOVE, { id: t.X, p: t.Y }), ws.through(other).gql(MOVE, { id: t.Y, p: t.X })];
      started.push(...moves);
      const waiting = await waitFor('both moves to wait', async () => {
        const parked = await session.waitingFor([session.pid]);
        const behind = parked.length > 0 ? await session.waitingFor(parked) : [];
        return parked.length + behind.length >= 2 ? parked : undefined;
      });
      bothPastTheirChecks = waiting.length === 2;
    });
    expect(bothPastTheirChecks).toBe(false);
    const [xUnderY, yUnderX] = (await Promise.all(moves)).map((res) => codes(res.body).join());
    const after = { xUnderY, yUnderX, parentOfX: await parentOf(ws, t.X), parentOfY: await parentOf(ws, t.Y) };
    expect([
      { xUnderY: '', yUnderX: 'CONFLICT', parentOfX: { id: t.Y }, parentOfY: null },
      { xUnderY: 'CONFLICT', yUnderX: '', parentOfX: null, parentOfY: { id: t.X } },
    ]).toContainEqual(after);
  });
});
