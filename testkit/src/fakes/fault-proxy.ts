/**
 * A TCP proxy on 127.0.0.1 in front of a local service (kinesalite) that a test can cut and
 * restore: `down()` stops listening and destroys every open connection (clients see ECONNREFUSED
 * / ECONNRESET, as when a service is unreachable); `up()` listens again on the same port.
 * `delayMs` holds each chunk from the client for that long (a slow network).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class FaultProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  delayMs = 0;
  /** Connections refused or cut while down (for reporting). */
  cuts = 0;

  constructor(private readonly targetPort: number) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isUp(): boolean {
    return this.server !== undefined;
  }

  async up(): Promise<this> {
    if (this.server) return this;
    const server = createServer((client) => this.pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
    return this;
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.targetPort, '127.0.0.1');
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk) => {
      if (this.delayMs > 0) {
        client.pause();
        setTimeout(() => {
          if (!upstream.destroyed) upstream.write(chunk);
          client.resume();
        }, this.delayMs).unref();
      } else upstream.write(chunk);
    });
    upstream.pipe(client);
  }

  /** Stops accepting and cuts every open connection. */
  async down(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    this.cuts += this.sockets.size;
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  async stop(): Promise<void> {
    await this.down();
  }
}
