/**
 * A TCP proxy to put between a worker and PostgreSQL, to make the database
 * "go away" the ways it really does: open connections cut (RST), new ones
 * refused (nothing listens: ECONNREFUSED) or accepted and reset at once, then
 * back to normal. Counts what it did, so a test can show the outage was real.
 */
import net from 'node:net';

export type ProxyMode = 'open' | 'refuse' | 'reset';

export class TcpProxy {
  private server: net.Server | null = null;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private mode: ProxyMode = 'open';
  port = 0;
  readonly stats = { forwarded: 0, dropped: 0, reset: 0 };

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens (on a free port unless one is given) and returns the port. */
  async start(port = 0): Promise<number> {
    await this.listen(port);
    return this.port;
  }

  get state(): ProxyMode {
    return this.mode;
  }

  private listen(port: number): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private stopListening(): Promise<void> {
    const server = this.server;
    this.server = null;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.mode === 'reset') {
      this.stats.reset++;
      client.resetAndDestroy();
      return;
    }
    this.stats.forwarded++;
    const upstream = net.connect(this.target);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const end = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Cuts every open connection: the client side sees a reset, as after a network fault or a killed server. */
  dropAll(): number {
    const count = this.pairs.size;
    for (const { client, upstream } of [...this.pairs]) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
    this.stats.dropped += count;
    return count;
  }

  /** Cuts open connections and stops listening: new connections are refused. */
  async refuse(): Promise<void> {
    this.mode = 'refuse';
    this.dropAll();
    await this.stopListening();
  }

  /** Cuts open connections; new ones are accepted and reset at once. */
  async reset(): Promise<void> {
    this.mode = 'reset';
    this.dropAll();
    if (!this.server) await this.listen(this.port);
  }

  /** Forwards again, on the same port. */
  async restore(): Promise<void> {
    this.mode = 'open';
    if (!this.server) await this.listen(this.port);
  }

  async close(): Promise<void> {
    this.dropAll();
    await this.stopListening();
  }
}
