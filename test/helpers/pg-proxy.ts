/**
 * A TCP proxy the test controls, between one client and its server on loopback.
 *
 * cut() is a silent partition: nothing is forwarded any more, in either direction, and nothing is
 * closed, so both ends see a half-open connection (as when a link or a host's network dies); new
 * connections are accepted and then hear nothing. heal() forwards again for new connections and
 * resets the ones that lost data during the cut (their byte stream has a hole). delay(ms) holds
 * every chunk that long, in order. reset() closes every connection at once.
 */
import { createServer, type Server, Socket } from 'node:net';

interface Pair {
  client: Socket;
  server: Socket;
  /** lost bytes during a cut: the stream cannot be resumed */
  torn: boolean;
}

export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private cutOff = false;
  private delayMs = 0;
  /** per direction, the time the last delayed chunk is due, so chunks never overtake */
  private readonly due = new WeakMap<Socket, number>();
  /** connections accepted so far */
  accepted = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = createServer((client) => proxy?.accept(client, targetPort, targetHost));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const a = server.address();
    proxy = new TcpProxy(server, typeof a === 'object' && a ? a.port : 0);
    return proxy;
  }

  cut(): void {
    this.cutOff = true;
  }

  heal(): void {
    this.cutOff = false;
    for (const p of this.pairs) if (p.torn) this.drop(p);
  }

  delay(ms: number): void {
    this.delayMs = ms;
  }

  reset(): void {
    for (const p of this.pairs) this.drop(p);
  }

  get connections(): number {
    return this.pairs.size;
  }

  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private drop(p: Pair): void {
    p.client.destroy();
    p.server.destroy();
    this.pairs.delete(p);
  }

  private accept(client: Socket, port: number, host: string): void {
    this.accepted++;
    const server = new Socket();
    const pair: Pair = { client, server, torn: false };
    this.pairs.add(pair);
    const end = () => this.drop(pair);
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
    client.on('data', (chunk) => this.forward(pair, chunk, server));
    server.on('data', (chunk) => this.forward(pair, chunk, client));
    server.connect(port, host);
  }

  private forward(pair: Pair, chunk: Buffer, to: Socket): void {
    if (this.cutOff) {
      pair.torn = true;
      return;
    }
    if (this.delayMs <= 0) {
      to.write(chunk);
      return;
    }
    const now = performance.now();
    const at = Math.max(now + this.delayMs, this.due.get(to) ?? 0);
    this.due.set(to, at);
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, at - now);
  }
}
