// Group reads by id go below Prisma on PostgreSQL (src/db/reader.ts): the rows must be exactly
// what the Prisma client returns, every column included, counted as statements, and filtered
// by what the credential may read.
import { readerOf } from '../src/db';
import { groupsByIds } from '../src/domain/reads/groups';
import { Prisma } from '../src/generated/prisma/client';
import { postgresOnly } from './support/harness';

postgresOnly('group reads below Prisma', (h) => {
  it('returns the rows the Prisma client returns, with every column, counted, and only visible ones for a restricted credential', async () => {
    const ws = await h.workspace();
    const a = Number(await ws.group('A', null, 'described'));
    const b = Number(await ws.group('B', String(a)));
    const c = Number(await ws.group('C'));
    expect(readerOf(h.db.prisma)).not.toBeNull();
    await h.app.settled(); // the key's first use is recorded (lastUsedAt) after its response

    const before = h.db.statements.total;
    const fast = await groupsByIds(ws.ctx, [b, 999_999, a, c]);
    expect(h.db.statements.total - before).toBe(1);
    const viaPrisma = await h.db.prisma.group.findMany({ where: { id: { in: [a, b, c] } } });
    const byId = new Map(viaPrisma.map((row) => [row.id, row]));
    expect(fast).toEqual([byId.get(b), null, byId.get(a), byId.get(c)]);
    expect(Object.keys(fast[0]!).sort()).toEqual(Object.values(Prisma.GroupScalarFieldEnum).sort());
    expect(fast[0]!.createdAt).toBeInstanceOf(Date);
    expect(fast[0]!.path).toEqual([a, b]);

    const restricted = { ...ws.ctx, access: { ...ws.ctx.access, visibleRoots: [a] } };
    expect((await groupsByIds(restricted, [a, b, c])).map((row) => row?.id ?? null)).toEqual([a, b, null]);
    expect((await groupsByIds(restricted, [c], { ignoreVisibility: true }))[0]?.id).toBe(c);
  });

  it("is not used inside a transaction: reads there see the transaction's own writes", async () => {
    const ws = await h.workspace();
    const id = Number(await ws.group('before'));
    const seen = await h.db.prisma.$transaction(async (tx) => {
      expect(readerOf(tx)).toBeNull();
      await tx.group.update({ where: { id }, data: { name: 'inside' } });
      return (await groupsByIds({ ...ws.ctx, db: tx as typeof h.db.prisma }, [id]))[0]?.name;
    });
    expect(seen).toBe('inside');
  });
});
