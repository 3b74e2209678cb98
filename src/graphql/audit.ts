// The audit trail as GraphQL reads it: a page of the trail (Query.auditEvents), and the live
// feed of group changes (Subscription.groupChanges) filtered by what the credential may read.
import * as audit from '../domain/audit';
import { type DomainContext, withinRoots } from '../domain/context';
import { UnauthenticatedError } from '../auth/errors';
import { NotFoundError, ValidationError } from '../domain/errors';
import { parseId } from '../domain/validate';
import type { ChangeHub } from '../feed/hub';
import type { AuditEventFilter } from '../generated/graphql';
import type { AuditEventConnectionModel, GraphQLContext } from './context';

export const MAX_AUDIT_PAGE = 100;

export async function auditPage(
  domain: DomainContext,
  args: { first?: number | null; after?: string | null; filter?: AuditEventFilter | null },
): Promise<AuditEventConnectionModel> {
  const first = args.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > MAX_AUDIT_PAGE) {
    throw new ValidationError('first', `first must be between 1 and ${MAX_AUDIT_PAGE}`);
  }
  const after = args.after == null ? null : audit.decodeCursor(args.after, 'after');
  const filter = args.filter ?? {};
  const { events, hasNextPage } = await audit.listAuditEvents(domain, { after, first }, {
    groupId: filter.group == null ? null : parseId(filter.group, 'filter.group'),
    includeSubtree: filter.includeSubtree ?? false,
    actor: filter.actor,
    action: filter.action,
    since: filter.since,
  });
  const cursors = events.map((event) => audit.encodeCursor(event.seq));
  return {
    events,
    pageInfo: { hasNextPage, hasPreviousPage: false, startCursor: cursors[0] ?? null, endCursor: cursors.at(-1) ?? null },
  };
}

/** `promise`, or the signal's reason once it is aborted, whichever comes first. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error) => (signal.removeEventListener('abort', onAbort), reject(error)),
    );
  });
}

/** What a subscription's context holds beyond a request's: the process's change hub. */
export interface SubscriptionContext extends GraphQLContext {
  feed: Pick<ChangeHub, 'subscribe'>;
  /** Aborted when the connection's credential is found revoked or expired: the subscription ends with the reason. */
  connection: AbortSignal;
  /**
   * Called before each event is resolved: fresh loaders (the tree has changed), a fresh deadline and
   * budget, and a slot among the credential's requests running at once, held until the event is sent.
   */
  renew(): Promise<void>;
  /** Called when the subscription ends: the work of its last event, and its slot, are let go. */
  end(): void;
}

/**
 * The events about groups the credential can read (`groups:read`, restricted or not), within
 * `root`'s subtree when given. Ends when the key is revoked or the credential expires.
 */
export async function groupChanges(ctx: GraphQLContext, root: number | null): Promise<AsyncIterable<audit.AuditEvent>> {
  const context = ctx as SubscriptionContext;
  if (!('feed' in context)) throw new ValidationError('groupChanges', 'subscriptions are served over WebSocket at /graphql/ws');
  if (root !== null && !(await ctx.loaders.groupById.load(root))) throw new NotFoundError('Group', root, 'root');
  const { principal, domain, clock } = ctx;
  const keyId = principal.apiKey ? String(principal.apiKey.id) : null;
  const deliveries = await context.feed.subscribe(domain.tenantId, (event) => {
    if (event.action === 'API_KEY_REVOKED' && event.targetId === keyId) return new UnauthenticatedError('the API key was revoked');
    if (principal.expiresAt && principal.expiresAt <= clock.now()) return new UnauthenticatedError('the credential expired');
    if (event.groupId === null || !withinRoots(domain.access.visibleRoots, event.groupPath)) return false;
    return root === null || event.groupPath.includes(root);
  });
  return {
    [Symbol.asyncIterator]: () => ({
      async next() {
        const next = await unlessAborted(deliveries.next(), context.connection);
        if (next.done) return { value: undefined, done: true };
        const delivery = next.value;
        // An ending is delivered as the subscription's last result: its error, then completion.
        if ('end' in delivery) throw delivery.end;
        await context.renew();
        return { value: delivery.event, done: false };
      },
      return: async () => {
        context.end();
        await deliveries.return?.();
        return { value: undefined, done: true };
      },
    }),
  };
}
