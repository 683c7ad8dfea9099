/**
 * A TCP proxy on loopback the test controls, between one legiond and its engine: `cut()` holds
 * every byte both ways on open and new connections alike (a partition: nothing is refused, the
 * peer hears nothing), `heal()` lets what was held through in order, as TCP's retransmissions
 * would, and `delayMs` holds each chunk that long in each direction (a slow engine).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;
  cutOff = false;
  delayMs = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((down) => this.accept(down));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const a = server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }

  private healed: Promise<void> = Promise.resolve();
  private healNow: () => void = () => {};

  cut(): void {
    if (this.cutOff) return;
    this.cutOff = true;
    this.healed = new Promise((r) => {
      this.healNow = r;
    });
  }

  heal(): void {
    this.cutOff = false;
    this.healNow();
  }

  private accept(down: Socket): void {
    const up = connect(this.targetPort, this.targetHost);
    this.sockets.add(down);
    this.sockets.add(up);
    const forward = (from: Socket, to: Socket) => {
      // a chain keeps the order; each chunk is due `delayMs` after it arrived, so the delay does
      // not add up over a burst, and while cut it waits (as TCP would retransmit it) for heal()
      let chain = Promise.resolve();
      from.on('data', (chunk) => {
        const due = Date.now() + this.delayMs;
        chain = chain.then(async () => {
          while (this.cutOff) await this.healed;
          const wait = due - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          while (this.cutOff) await this.healed;
          if (!to.destroyed) to.write(chunk);
        });
      });
    };
    forward(down, up);
    forward(up, down);
    const close = () => {
      down.destroy();
      up.destroy();
      this.sockets.delete(down);
      this.sockets.delete(up);
    };
    down.on('error', close);
    up.on('error', close);
    down.on('close', close);
    up.on('close', close);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
