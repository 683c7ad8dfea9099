/**
 * A throwaway PostgreSQL 15 server for tests and benches: its own data directory in a temp dir,
 * 127.0.0.1 on a free random port, the unix socket in the temp dir. initdb and postgres refuse to
 * run as root, so the directory is given to the `postgres` user and both run as that user (the
 * uid/gid of child_process, as `runuser -u postgres --` would, without a runuser in between:
 * runuser stops itself when its child is stopped, and would then need waking too).
 *
 * pause() freezes the postmaster and every process it started, as a frozen host would: SIGSTOP
 * of the postmaster alone would leave the backends of open connections answering, and a signal
 * to its process group misses them too (each backend calls setsid()).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const PG_BIN = process.env.LEGIOND_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PgServerOptions {
  /** extra `-c name=value` settings */
  settings?: Record<string, string>;
  /** pg_hba.conf in place of initdb's (trust for all); the test's own admin queries use the unix socket */
  hba?: string;
  /** serve TLS with this certificate and key (copied into the data directory, the key 0600 and owned by postgres) */
  ssl?: { cert: string; key: string };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const asRoot = process.getuid?.() === 0;

/** spawn options that run a child as `postgres` when we are root */
function asPostgres(): { uid?: number; gid?: number; env: NodeJS.ProcessEnv } {
  if (!asRoot) return { env: process.env };
  return {
    uid: uid('postgres'),
    gid: gid('postgres'),
    env: { ...process.env, HOME: '/var/lib/postgresql', USER: 'postgres' },
  };
}

export class PgServer {
  readonly dir: string;
  readonly data: string;
  readonly log: string;
  private proc: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  paused = false;

  private constructor(
    readonly port: number,
    private readonly settings: Record<string, string>,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'legiond-pg-'));
    this.data = join(this.dir, 'data');
    this.log = join(this.dir, 'server.log');
  }

  /** initdb and start; throws naming the missing tool when PostgreSQL is not installed */
  static async start(o: PgServerOptions = {}): Promise<PgServer> {
    const initdb = join(PG_BIN, 'initdb');
    if (!existsSync(initdb)) {
      throw new Error(
        `PostgreSQL 15 is not installed (no ${initdb}): apt-get install postgresql (.ci/run does)`,
      );
    }
    const srv = new PgServer(await freePort(), { ...o.settings });
    try {
      if (asRoot) chownSync(srv.dir, uid('postgres'), gid('postgres'));
      const args = [
        '-D',
        srv.data,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--no-sync',
        '--no-instructions',
      ];
      execFileSync(initdb, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: srv.dir, ...asPostgres() });
      srv.configure(o);
      await srv.boot();
      return srv;
    } catch (e) {
      await srv.stop();
      throw e;
    }
  }

  /** the pg_hba.conf and TLS files of PgServerOptions, in the data directory, owned by postgres */
  private configure(o: PgServerOptions): void {
    const own = (f: string, mode: number) => {
      chmodSync(f, mode);
      if (asRoot) chownSync(f, uid('postgres'), gid('postgres'));
    };
    if (o.hba !== undefined) {
      writeFileSync(join(this.data, 'pg_hba.conf'), o.hba);
      own(join(this.data, 'pg_hba.conf'), 0o600);
    }
    if (o.ssl) {
      const cert = join(this.data, 'server.crt');
      const key = join(this.data, 'server.key');
      copyFileSync(o.ssl.cert, cert);
      copyFileSync(o.ssl.key, key);
      own(cert, 0o644);
      own(key, 0o600); // postgres refuses a key others can read
      Object.assign(this.settings, { ssl: 'on', ssl_cert_file: cert, ssl_key_file: key });
    }
  }

  /** node-postgres options for a client of this server */
  get connection(): { host: string; port: number; user: string; database: string } {
    return { host: '127.0.0.1', port: this.port, user: 'postgres', database: 'postgres' };
  }

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** one statement on a fresh connection (admin work of the test: deleting rows by hand) */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []) {
    // the unix socket: a pg_hba.conf of the test's may refuse unencrypted TCP, never the socket's trust
    const c = new pg.Client({ ...this.connection, host: this.dir, connectionTimeoutMillis: 10_000 });
    await c.connect();
    try {
      return await c.query<R>(text, values);
    } finally {
      await c.end();
    }
  }

  /** the server's clock, in ms since the epoch (fractional) */
  async clockMs(): Promise<number> {
    const r = await this.query<{ t: string }>(
      'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::text AS t',
    );
    return Number(r.rows[0]!.t);
  }

  pause(): void {
    this.signalServer('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.signalServer('SIGCONT');
    this.paused = false;
  }

  /** the postmaster first (so it forks nothing new), then its children */
  private signalServer(sig: NodeJS.Signals): void {
    const pm = this.postmasterPid();
    if (!pm) throw new Error('postgres is not running');
    const pids = [pm, ...childrenOf(pm)];
    for (const pid of sig === 'SIGCONT' ? pids.reverse() : pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // a backend that just exited
      }
    }
  }

  /** stop (fast: SIGINT; immediate: SIGQUIT, crash-like) and start again on the same port */
  async restart(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.halt(mode);
    await this.boot();
  }

  /** stop the server and remove its directory; safe to call twice and after a failed start */
  async stop(): Promise<void> {
    await this.halt('fast');
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** synchronous, for an 'exit' handler: SIGQUIT the server (its backends follow) and remove its directory */
  killNow(): void {
    const pid = this.postmasterPid();
    try {
      if (pid) process.kill(pid, this.paused ? 'SIGKILL' : 'SIGQUIT');
    } catch {
      // already gone
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private postmasterPid(): number | null {
    try {
      const pid = Number(readFileSync(join(this.data, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  private signalGroup(sig: NodeJS.Signals): void {
    if (this.proc?.pid) process.kill(-this.proc.pid, sig);
  }

  private async boot(): Promise<void> {
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: this.dir,
      fsync: 'off', // a test server: its process may crash, its host will not
      max_connections: '200',
      log_min_messages: 'warning',
      ...this.settings,
    };
    const args = ['-D', this.data, '-p', String(this.port)];
    for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
    const out = openSync(this.log, 'a');
    const proc = spawn(join(PG_BIN, 'postgres'), args, {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: this.dir,
      ...asPostgres(),
    });
    closeSync(out);
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`postgres exited at start:\n${this.tail()}`);
      try {
        await this.query('SELECT 1');
        return;
      } catch (e) {
        if (Date.now() > deadline)
          throw new Error(`postgres did not accept connections in 30 s: ${e}\n${this.tail()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private async halt(mode: 'fast' | 'immediate'): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    if (this.paused) this.resume();
    const pid = this.postmasterPid();
    try {
      if (pid) process.kill(pid, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
      else this.signalGroup('SIGKILL');
    } catch {
      // already gone
    }
    const killed = setTimeout(() => {
      try {
        this.signalGroup('SIGKILL');
      } catch {
        // already gone
      }
    }, 15_000);
    await this.exited;
    clearTimeout(killed);
    this.proc = null;
  }

  tail(): string {
    try {
      return readFileSync(this.log, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no server log)';
    }
  }
}

function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      // the command name may hold spaces and parentheses: ppid is the 2nd field after the last ')'
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppidOf = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppidOf === ppid) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}
