// Live updates: while the console is open it holds a `groupChanges` subscription (graphql-ws at
// /graphql/ws, the key in connectionParams), and a change made elsewhere (another tab, the CLI,
// SCIM) shows within a second. Each burst of events (debounced) refreshes the tree's loaded levels
// in place, keeping expansion, selection and focus (GroupTree.refresh), and the details of the
// shown group if what the service now says of it differs from what is shown. Details are redrawn
// only when the person is not in the middle of something there (typing, a confirmation or the
// move picker open): then a notice offers to show the latest instead, and nothing typed is lost.
// A small status says whether the connection is live; the library reconnects on its own, and a
// reconnection refreshes too (events may have been missed meanwhile).
import { type Client, createClient } from 'graphql-ws';
import { GROUP_DETAILS, type GraphQLError, PAGE_SIZE, apiKey, graphql } from './api';
import { h } from './dom';
import { gql } from './generated';
import { routeOf } from './route';
import type { GroupTree } from './tree';

export const GROUP_CHANGES = gql(`
  subscription GroupChanges {
    groupChanges { cursor action groupId group { id } }
  }
`);

/** Events closer together than this are one burst: one refresh. */
const DEBOUNCE_MS = 80;
/** While the details pane is loading, its check waits this long and tries again. */
const BUSY_RETRY_MS = 250;

export class LiveUpdates {
  /** "Live", "Connecting…", "Reconnecting…", or why live updates stopped. */
  readonly status = h('span', { id: 'live', role: 'status', class: 'live' });
  private client: Client | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The refresh running, and whether another burst came meanwhile (one more refresh follows). */
  private running: Promise<void> | null = null;
  private again = false;
  /** The group the details show and what the service said of it then (null: it could not be read). */
  private shownGroup: { id: string; data: string } | null = null;
  /** Fields typed into in the details pane: while one is still there, the pane is not redrawn. */
  private readonly typed = new Set<Element>();

  constructor(
    private readonly tree: GroupTree,
    private readonly details: HTMLElement,
    private readonly reshow: () => Promise<void>,
  ) {
    details.addEventListener('input', (event) => this.typed.add(event.target as Element));
  }

  /** Opens the connection and subscribes (the stored key); a previous connection is closed first. */
  start(): void {
    this.stop();
    this.say('Connecting…', 'connecting');
    let connectedBefore = false;
    const client = createClient({
      url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql/ws`,
      connectionParams: () => ({ authorization: `Bearer ${apiKey.get() ?? ''}` }),
      // Keeps trying (with the library's randomised back-off) while the page is open; a refused
      // key (4403) is not retried.
      retryAttempts: Number.MAX_SAFE_INTEGER,
      on: {
        connected: () => {
          if (this.client !== client) return;
          this.say('Live', 'live');
          if (connectedBefore) this.changed(); // events may have been missed while away
          connectedBefore = true;
        },
        closed: () => {
          if (this.client === client) this.say('Reconnecting…', 'reconnecting');
        },
      },
    });
    this.client = client;
    this.subscribe(client);
  }

  /** Closes the connection ("Forget key", or back to the key form). */
  stop(): void {
    clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    this.shownGroup = null;
    void client?.dispose();
    this.say('', 'off');
  }

  /** What the details pane now shows: the group `id` as the service gave it (null: not readable). */
  shown(id: string, group: unknown): void {
    this.shownGroup = { id, data: JSON.stringify(group) };
  }

  private subscribe(client: Client): void {
    client.subscribe(
      { query: GROUP_CHANGES.toString(), operationName: 'GroupChanges' },
      {
        next: () => this.changed(),
        error: (error) => {
          if (this.client !== client) return;
          const errors = Array.isArray(error) ? (error as GraphQLError[]) : [];
          // A subscriber that fell behind is ended by the service: subscribe again, and refresh.
          if (errors.some((e) => e.extensions?.code === 'SLOW_SUBSCRIBER')) {
            this.changed();
            this.subscribe(client);
            return;
          }
          const said = errors.length
            ? errors.map((e) => `${e.extensions?.code ?? 'ERROR'} ${e.message}`).join('; ')
            : error instanceof CloseEvent
              ? `${error.code} ${error.reason}`
              : String((error as Error)?.message ?? error);
          this.say(`Live updates stopped: ${said}`, 'stopped');
        },
        complete: () => {
          if (this.client === client) this.say('Live updates stopped.', 'stopped');
        },
      },
    );
  }

  private say(text: string, state: string): void {
    this.status.textContent = text;
    this.status.dataset.state = state;
  }

  /** An event: one refresh for the burst, after it. */
  private changed(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), DEBOUNCE_MS);
  }

  /** One refresh at a time; a burst during one is followed by one more. */
  private async flush(): Promise<void> {
    if (!this.client) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = Promise.all([this.tree.refresh(), this.refreshDetails()]).then(() => undefined);
    await this.running;
    this.running = null;
    if (this.again) {
      this.again = false;
      void this.flush();
    }
  }

  /** Redraws the shown group's details if the service now says something else of it. */
  private async refreshDetails(): Promise<void> {
    const route = routeOf(location.hash);
    const shown = this.shownGroup;
    if (!route || !('group' in route) || shown?.id !== route.group) return;
    if (this.details.hasAttribute('aria-busy')) {
      // A view is loading: check once it is in.
      setTimeout(() => this.changed(), BUSY_RETRY_MS);
      return;
    }
    const result = await graphql(GROUP_DETAILS, { id: shown.id, first: PAGE_SIZE });
    if (result.data === null && result.errors.length && !result.errors.some((e) => e.extensions?.code === 'NOT_FOUND')) return;
    if (this.shownGroup !== shown || JSON.stringify(result.data?.group ?? null) === shown.data) return;
    if (this.inUse()) this.offerLatest();
    else await this.redraw();
  }

  /** Whether the person is busy in the details pane: a field typed into, or a confirmation or picker open. */
  private inUse(): boolean {
    for (const field of this.typed) if (!field.isConnected) this.typed.delete(field);
    return this.typed.size > 0 || this.details.querySelector('[role="group"]:not([hidden])') !== null;
  }

  private offerLatest(): void {
    if (this.details.querySelector('#live-stale')) return;
    const button = h('button', { type: 'button', id: 'live-show-latest' }, 'Show the latest');
    button.addEventListener('click', () => void this.redraw(true));
    this.details.prepend(h('p', { id: 'live-stale', class: 'status', role: 'status' }, 'This group was changed elsewhere. ', button));
  }

  /** Shows the addressed view again; focus that was in the pane goes back to its element of the same id, or the heading. */
  private async redraw(focusHeading = false): Promise<void> {
    const active = document.activeElement;
    const hadFocus = active instanceof HTMLElement && this.details.contains(active);
    await this.reshow();
    if (!hadFocus || (document.activeElement !== document.body && document.activeElement !== null)) return;
    const again = (!focusHeading && active.id && document.getElementById(active.id)) || this.details.querySelector<HTMLElement>('h2');
    again?.focus({ preventScroll: true });
  }
}
