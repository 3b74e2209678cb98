// The operator's context (CLI, demo seed, tests, benches) takes its depth limit from the configuration.
import { treeLimits } from '../src/config';
import { type Db, fullAccessContext } from '../src/domain/context';
import { ValidationError } from '../src/domain/errors';
import { createGroup } from '../src/domain/groups';
import { eachBackend } from './support/harness';

eachBackend('the full-access domain context', (h) => {
  it('refuses a group deeper than the configured MAX_GROUP_DEPTH', async () => {
    const ws = await h.workspace();
    const ctx = fullAccessContext(h.db.prisma, ws.tenant.id, treeLimits({ MAX_GROUP_DEPTH: '2' }));
    const top = await createGroup(ctx, { name: 'Top' });
    const mid = await createGroup(ctx, { name: 'Mid', parentId: top.id });
    const tooDeep = createGroup(ctx, { name: 'Leaf', parentId: mid.id });
    await expect(tooDeep).rejects.toBeInstanceOf(ValidationError);
    await expect(tooDeep).rejects.toMatchObject({ message: expect.stringContaining('MAX_GROUP_DEPTH=2') });
  });
});

it('cannot be built with a depth limit that would refuse every group', () => {
  for (const maxGroupDepth of [0, -1, 1.5, Number.NaN]) {
    expect(() => fullAccessContext({} as Db, 1, { maxGroupDepth })).toThrow(RangeError);
  }
});
