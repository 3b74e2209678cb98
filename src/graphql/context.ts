// The per-request GraphQL context: the principal, the domain context, fresh loaders.
import type { Principal } from '../auth/principal';
import { domainContextOf } from '../auth/principal';
import type { Db, DomainContext } from '../domain/context';
import type { Group, User } from '../generated/prisma/client';
import type { ApiKey } from '../generated/prisma/client';
import { type Loaders, createLoaders } from './loaders';

export interface GraphQLContext {
  principal: Principal;
  domain: DomainContext;
  loaders: Loaders;
}

export function createContext(db: Db, principal: Principal, maxGroupDepth: number): GraphQLContext {
  const domain = domainContextOf(db, principal, maxGroupDepth);
  return { principal, domain, loaders: createLoaders(domain) };
}

export type ViewerModel = Principal;
export interface GroupPageModel {
  nodes: Group[];
  total: number;
  offset: number;
  limit: number;
}
export interface UserPageModel {
  nodes: User[];
  total: number;
  offset: number;
  limit: number;
}
export interface SetGroupMembersModel {
  group: Group;
  added: number[];
  removed: number[];
}
export interface CreatedApiKeyModel {
  key: string;
  apiKey: ApiKey;
}
