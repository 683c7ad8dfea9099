/**
 * The reference of bench/engines.ts for PostgreSQL: a minimal "one active runner" of the kind the
 * OCA/queue job runner discussion settled on (OCA/queue #607, #668). Each runner holds one
 * connection and polls `pg_try_advisory_lock(key)`; the one that gets the session lock starts the
 * workload and then just holds the connection (no statements: the lock lives as long as the
 * session). It has no fencing token and no lease: the lock goes when the server drops the session.
 *
 *   node --import tsx bench/lib/pg-advisory-runner.ts URL KEY POLL_MS NAME [COUNT] -- WORKLOAD...
 *
 * SIGTERM: stop the workload (SIGTERM, wait), `pg_advisory_unlock`, close, exit 0. The connection
 * failing while holding: stop the workload, exit 1. COUNT > 1 runs that many runners in this
 * process (separate connections, NAME-1, NAME-2, ...): the engine load at N = 50 without fifty
 * Node processes; only the first may run the workload.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

const [url, keyText, pollText, name, ...rest] = process.argv.slice(2);
const sep = rest.indexOf('--');
const count = sep > 0 ? Number(rest[0]) : 1;
const workload = sep >= 0 ? rest.slice(sep + 1) : [];
if (!url || !keyText || !pollText || !name || !Number.isInteger(count) || count < 1) {
  process.stderr.write('usage: pg-advisory-runner URL KEY POLL_MS NAME [COUNT] -- WORKLOAD...\n');
  process.exit(2);
}
const key = BigInt(keyText);
const pollMs = Number(pollText);

class Runner {
  private readonly client: pg.Client;
  private child: ChildProcess | null = null;
  private timer: NodeJS.Timeout | undefined;
  holding = false;

  constructor(
    readonly name: string,
    private readonly runsWorkload: boolean,
  ) {
    this.client = new pg.Client({
      connectionString: url,
      keepAlive: true,
      application_name: `advisory ${name}`,
    });
    this.client.on('error', () => this.lost());
    this.client.on('end', () => this.lost());
  }

  async start(): Promise<void> {
    await this.client.connect();
    await this.poll();
  }

  private async poll(): Promise<void> {
    const r = await this.client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [
      key.toString(),
    ]);
    if (r.rows[0]?.got) {
      this.holding = true;
      process.stdout.write(`${this.name} holds the lock\n`);
      if (this.runsWorkload && workload.length > 0) this.run();
      return;
    }
    this.timer = setTimeout(() => void this.poll().catch(() => this.lost()), pollMs);
  }

  private run(): void {
    const [cmd, ...args] = workload;
    this.child = spawn(cmd!, args, {
      stdio: 'ignore',
      env: { ...process.env, LEGION_NODE_NAME: this.name, LEGION_NODE_UUID: randomUUID(), LEGION_EPOCH: '-' },
    });
  }

  private async stopWorkload(): Promise<void> {
    const c = this.child;
    this.child = null;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await gone;
  }

  /** the session is gone, and the lock with it: the workload must stop */
  private lost(): void {
    clearTimeout(this.timer);
    const was = this.holding;
    this.holding = false;
    void this.stopWorkload().then(() => process.exit(was ? 1 : 3));
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.client.removeAllListeners('end');
    this.client.removeAllListeners('error');
    this.client.on('error', () => {});
    await this.stopWorkload();
    if (this.holding)
      await this.client.query('SELECT pg_advisory_unlock($1)', [key.toString()]).catch(() => {});
    await this.client.end().catch(() => {});
  }
}

const runners = Array.from(
  { length: count },
  (_, i) => new Runner(count === 1 ? name : `${name}-${i + 1}`, i === 0),
);
process.on('SIGTERM', () => {
  void Promise.all(runners.map((r) => r.stop())).then(() => process.exit(0));
});
await Promise.all(runners.map((r) => r.start()));
