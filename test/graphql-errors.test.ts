import { GraphQLError } from 'graphql';
import { NotFoundError } from '../src/domain/errors';
import { formatGraphQLError } from '../src/graphql/errors';

describe('GraphQL error mapping', () => {
  const format = (original: Error) => {
    const logged: object[] = [];
    const formatter = formatGraphQLError({ error: (obj) => logged.push(obj) });
    const error = new GraphQLError(original.message, { path: ['groups'], originalError: original });
    return { result: formatter({ message: original.message, path: ['groups'], extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at x'] } }, error), logged };
  };

  it('masks unexpected errors: no message, stack or SQL reaches the client, and logs them', () => {
    const { result, logged } = format(new Error('relation "groups" does not exist: SELECT * FROM groups'));
    expect(result).toEqual({ message: 'Internal server error', path: ['groups'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(logged).toHaveLength(1);
  });

  it('gives domain errors their stable code and details', () => {
    const { result, logged } = format(new NotFoundError('Group', 7, 'groupId'));
    expect(result.extensions).toEqual({ code: 'NOT_FOUND', entity: 'Group', id: '7', field: 'groupId' });
    expect(result.message).toBe('Group 7 not found');
    expect(logged).toHaveLength(0);
  });
});
