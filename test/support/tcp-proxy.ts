// A loopback TCP proxy in front of PostgreSQL that a test can cut and restore (node:net only):
// - cut('reset'): every open connection is reset (RST) and new ones are accepted and reset at once
//   (a restart, a firewall reset): clients fail fast with ECONNRESET.
// - cut('blackhole'): nothing is forwarded any more, either way, and new connections are accepted
//   but never answered; whatever arrives is read and dropped (a partition, a hung middlebox).
//   The PostgreSQL side of an open connection stays open, as it would behind a real partition.
// - restore(): new connections are forwarded again; the blackholed ones are reset (their peers
//   reconnect), connections that were never cut carry on.
import { type AddressInfo, type Server, type Socket, createConnection, createServer } from 'node:net';

type Mode = 'forward' | 'reset' | 'blackhole';

interface Link {
  client: Socket;
  upstream: Socket | null;
  silenced: boolean;
}

const drop = (): void => undefined;

export class TcpProxy {
  private server: Server | null = null;
  private mode: Mode = 'forward';
  private readonly links = new Set<Link>();

  constructor(
    private readonly targetHost = '127.0.0.1',
    private readonly targetPort = 5432,
  ) {}

  /** Client connections open through the proxy (forwarded or blackholed). */
  get connections(): number {
    return this.links.size;
  }

  /** Listens on a free port of 127.0.0.1; resolves with it. */
  start(): Promise<number> {
    if (this.server) return Promise.reject(new Error('TcpProxy already started'));
    const server = createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  cut(mode: 'reset' | 'blackhole'): void {
    this.mode = mode;
    for (const link of [...this.links]) {
      if (mode === 'reset') this.reset(link);
      else this.silence(link);
    }
  }

  restore(): void {
    this.mode = 'forward';
    for (const link of [...this.links]) if (link.silenced) this.reset(link);
  }

  /** Closes the listener and every connection; resolves once nothing is left open. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.mode = 'reset';
    for (const link of [...this.links]) this.reset(link);
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.mode = 'forward';
  }

  private accept(client: Socket): void {
    client.on('error', drop);
    if (this.mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const link: Link = { client, upstream: null, silenced: false };
    this.links.add(link);
    client.once('close', () => this.reset(link));
    if (this.mode === 'blackhole') {
      this.silence(link);
      return;
    }
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    link.upstream = upstream;
    upstream.on('error', drop);
    // The server went away (or could not be reached): the client sees its connection reset, unless
    // the link is blackholed, where the client must hear nothing at all.
    upstream.once('close', () => {
      if (!link.silenced) this.reset(link);
    });
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Stops forwarding both ways; from now on whatever either side sends is read and dropped. */
  private silence(link: Link): void {
    if (link.silenced) return;
    link.silenced = true;
    const { client, upstream } = link;
    if (upstream) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      upstream.on('data', drop);
      upstream.resume();
    }
    client.on('data', drop);
    client.resume();
  }

  private reset(link: Link): void {
    if (!this.links.delete(link)) return;
    if (link.client.destroyed) {
      // closed already
    } else if (link.client.writableEnded) {
      // The peer closed its side and this one has ended too: libuv refuses to reset a socket that is
      // shutting down (EINVAL), and the handle would then never close (a process that ran this
      // spun at 100% CPU on exit instead of exiting). Closing it is all that is left to do.
      link.client.destroy();
    } else {
      link.client.resetAndDestroy();
    }
    link.upstream?.destroy();
  }
}
