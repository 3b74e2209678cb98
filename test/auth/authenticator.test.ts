// The Authenticator's deferred lastUsedAt write, against a stand-in database whose write the
// test completes by hand: settled() is what lets tests (and shutdown) wait for it, not a sleep.
import { Authenticator } from '../../src/auth/authenticate';
import { generateSecret, hashSecret } from '../../src/domain/apikeys';
import type { Db } from '../../src/domain/context';
import { ManualClock } from '../support/clock';

const SECRET = generateSecret();

function standIn() {
  let finishWrite: () => void = () => undefined;
  const writes: { id: number; at: Date }[] = [];
  const db = {
    apiKey: {
      findUnique: async () => ({
        id: 7,
        secretHash: hashSecret(SECRET),
        scopes: ['groups:read'],
        revokedAt: null,
        expiresAt: null,
        tenant: { id: 1, slug: 'acme' },
      }),
      updateMany: ({ where, data }: { where: { id: number }; data: { lastUsedAt: Date } }) =>
        new Promise<void>((resolve) => {
          writes.push({ id: where.id, at: data.lastUsedAt });
          finishWrite = resolve;
        }),
    },
  };
  return { db: db as unknown as Db, writes, finishWrite: () => finishWrite() };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('Authenticator: lastUsedAt', () => {
  it('writes after authentication returns, and settled() resolves only once the write has finished', async () => {
    const { db, writes, finishWrite } = standIn();
    const clock = new ManualClock();
    const authenticator = new Authenticator(db, null, { warn: () => undefined }, clock);

    await authenticator.authenticate(`Bearer kauth_acme_${SECRET}`);
    expect(writes).toEqual([]);
    let settled = false;
    const waiting = authenticator.settled().then(() => {
      settled = true;
    });
    await nextTurn();
    await nextTurn();
    expect(writes).toEqual([{ id: 7, at: clock.now() }]);
    expect(settled).toBe(false);

    finishWrite();
    await waiting;
    expect(settled).toBe(true);
  });
});
