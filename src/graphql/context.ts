// The per-request GraphQL context: the principal, the domain context, fresh loaders.
import type { Principal } from '../auth/principal';
import { domainContextOf } from '../auth/principal';
import type { Clock } from '../clock';
import type { Db, DomainContext } from '../domain/context';
import type { UserImpact } from '../domain/move-impact';
import type { Page } from '../domain/pages';
import type { Group, Role, User } from '../generated/prisma/client';
import type { ApiKey, AuditEvent } from '../generated/prisma/client';
import type { RequestWork } from '../edge/request-work';
import { type BatchObserver, type Loaders, createLoaders } from './loaders';

export interface GraphQLContext {
  principal: Principal;
  domain: DomainContext;
  loaders: Loaders;
  /** The request's deadline, disconnect signal and accounting. */
  work: RequestWork;
  /** The time key expiry is judged by. */
  clock: Clock;
}

export function createContext(
  db: Db,
  principal: Principal,
  maxGroupDepth: number,
  work: RequestWork,
  clock: Clock,
  requestId: string | null,
  onBatch?: BatchObserver,
): GraphQLContext {
  const domain = domainContextOf(db, principal, maxGroupDepth, requestId);
  return { principal, domain, loaders: createLoaders(domain, work, onBatch), work, clock };
}

export type ViewerModel = Principal;
/** A page of a connection, and how to count the whole list (only when `totalCount` is asked for). */
export interface ConnectionModel<T> {
  page: Page<T>;
  totalCount: () => number | Promise<number>;
}
export interface EdgeModel<T> {
  cursor: string;
  node: T;
}
export type GroupConnectionModel = ConnectionModel<Group>;
export type GroupEdgeModel = EdgeModel<Group>;
export type UserConnectionModel = ConnectionModel<User>;
export type UserEdgeModel = EdgeModel<User>;
export type RoleConnectionModel = ConnectionModel<Role>;
export type RoleEdgeModel = EdgeModel<Role>;
export type ApiKeyConnectionModel = ConnectionModel<ApiKey>;
export type ApiKeyEdgeModel = EdgeModel<ApiKey>;
export type MoveImpactUserConnectionModel = ConnectionModel<UserImpact>;
export type MoveImpactUserEdgeModel = EdgeModel<UserImpact>;
export interface SetGroupMembersModel {
  group: Group;
  added: number[];
  removed: number[];
}
export interface CreatedApiKeyModel {
  key: string;
  apiKey: ApiKey;
}
export interface PageInfoModel {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}
export interface AuditEventConnectionModel {
  events: AuditEvent[];
  pageInfo: PageInfoModel;
}
export interface AuditChangeModel {
  field: string;
  before: unknown;
  after: unknown;
}
