// 50 simultaneous membership writes on the same memberships, sent to two apps on one database as
// two server processes would get them: every one answers 204 (no deadlock, no unique violation,
// no transaction timeout) and the last writes win. On PostgreSQL only: PGlite runs one statement
// at a time, so there nothing would race.
import { anotherApp } from '../support/harness';
import { racesOnPostgres } from '../support/races';
import { Rest } from '../support/rest';
import { checkTreesAfterEach } from '../support/tree-check';

const REQUESTS_PER_WAVE = 50;

type Op = 'POST' | 'DELETE';
interface Membership {
  groupId: number;
  userId: number;
}

racesOnPostgres('REST membership writes under concurrency', (h) => {
  checkTreesAfterEach(h);
  const other = anotherApp();

  async function setUp() {
    const api = new Rest(await h.workspace());
    const parent = await api.group('Parent');
    const child = await api.group('Child', parent.id);
    const users: number[] = [];
    for (let i = 0; i < 5; i += 1) users.push(await api.user());
    const memberships: Membership[] = [parent, child].flatMap((g) => users.map((userId) => ({ groupId: g.id, userId })));
    // Half the requests use a key restricted to the subtree, so the domain checks paths under the lock.
    const restricted = api.as(await api.ws.key([`groups:members:write@${parent.id}`]));
    const elsewhere = [api, restricted].map((client) => new Rest(api.ws.through(other), client.key));
    return { api, clients: [api, restricted, ...elsewhere], parent, child, memberships };
  }

  /** Sends all requests at once; resolves to their statuses in order. */
  async function wave(clients: Rest[], requests: [Membership, Op][]): Promise<number[]> {
    const responses = await Promise.all(
      requests.map(([m, op], i) => clients[i % clients.length].request(op, `/groups/${m.groupId}/members/${m.userId}`)),
    );
    return responses.map((res) => res.status);
  }

  async function stateOf(api: Rest, memberships: Membership[]): Promise<boolean[]> {
    const byGroup = new Map<number, number[]>();
    for (const groupId of new Set(memberships.map((m) => m.groupId))) {
      const ids = await api.memberIds(groupId);
      expect(new Set(ids).size).toBe(ids.length);
      byGroup.set(groupId, ids);
    }
    return memberships.map((m) => byGroup.get(m.groupId)!.includes(m.userId));
  }

  it('answers 204 to 50 simultaneous adds and removes on the same memberships, and keeps the last writes', async () => {
    const { api, clients, memberships } = await setUp();
    const perMembership = REQUESTS_PER_WAVE / memberships.length;

    // Wave 1: on every membership, adds and removes race each other.
    const mixed: [Membership, Op][] = Array.from({ length: REQUESTS_PER_WAVE }, (_, i) => [
      memberships[i % memberships.length],
      Math.floor(i / memberships.length) % 2 === 0 ? 'POST' : 'DELETE',
    ]);
    expect(await wave(clients, mixed)).toEqual(Array(REQUESTS_PER_WAVE).fill(204));
    await stateOf(api, memberships);

    // Waves 2 and 3: once the race is over, each membership gets one intended last write,
    // sent `perMembership` times at once; the state must then be exactly those writes.
    for (const wantedFor of [(i: number) => i % 3 !== 0, (i: number) => i % 3 === 0]) {
      const wanted = memberships.map((_, i) => wantedFor(i));
      const last: [Membership, Op][] = Array.from({ length: REQUESTS_PER_WAVE }, (_, i) => {
        const index = i % memberships.length;
        return [memberships[index], wanted[index] ? 'POST' : 'DELETE'];
      });
      expect(last.length / memberships.length).toBe(perMembership);
      expect(await wave(clients, last)).toEqual(Array(REQUESTS_PER_WAVE).fill(204));
      expect(await stateOf(api, memberships)).toEqual(wanted);
    }
  });
});
