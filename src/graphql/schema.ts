// Builds the executable schema from schema.graphql (the single source of truth).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { enforcePrices } from './cost';
import { resolvers } from './resolvers';
import { applyScopeDirective } from './scope-directive';

export const SCHEMA_PATH = path.resolve(__dirname, '../../schema.graphql');

/** List bounds that follow the configuration: a group has at most MAX_GROUP_DEPTH - 1 ancestors (and a role change as many granting groups). */
export const listSizeOverrides = (maxGroupDepth: number): Record<string, number> => {
  const ancestors = Math.max(1, maxGroupDepth - 1);
  return { 'Group.ancestors': ancestors, 'RoleChange.grantedBy': ancestors };
};

export function buildSchema(maxGroupDepth = 50): GraphQLSchema {
  const typeDefs = readFileSync(SCHEMA_PATH, 'utf8');
  const schema = applyScopeDirective(makeExecutableSchema({ typeDefs, resolvers: resolvers as never }));
  return enforcePrices(schema, listSizeOverrides(maxGroupDepth));
}
