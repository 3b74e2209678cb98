// Builds the executable schema from schema.graphql (the single source of truth).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { resolvers } from './resolvers';
import { applyScopeDirective } from './scope-directive';

export const SCHEMA_PATH = path.resolve(__dirname, '../../schema.graphql');

export function buildSchema(): GraphQLSchema {
  const typeDefs = readFileSync(SCHEMA_PATH, 'utf8');
  return applyScopeDirective(makeExecutableSchema({ typeDefs, resolvers: resolvers as never }));
}
