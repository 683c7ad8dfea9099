/**
 * A real etcd for a test: Debian's /usr/bin/etcd on loopback, its own data directory, free random
 * client and peer ports; `stop` ends it (SIGTERM, SIGKILL after a bound) and `restart` starts it
 * again on the same ports and data, as an operator's restart would. A missing etcd fails loudly
 * (.ci/run installs etcd-server and etcd-client).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const ETCD = '/usr/bin/etcd';
export const ETCDCTL = '/usr/bin/etcdctl';

export function requireEtcd(): void {
  for (const bin of [ETCD, ETCDCTL])
    if (!existsSync(bin))
      throw new Error(`${bin} is missing: install etcd-server and etcd-client (.ci/run does)`);
}

/** a port nobody listens on right now */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface EtcdServerOptions {
  /**
   * serve clients over TLS only (https) with this certificate and key; `ca` is what etcdctl
   * trusts. `clientCa` becomes --trusted-ca-file, which etcd 3.4 takes as "every client shows a
   * certificate signed by it" even without --client-cert-auth: leave it out for password-only clients.
   */
  tls?: { cert: string; key: string; ca: string; clientCa?: string };
}

export class EtcdServer {
  readonly dir: string;
  child: ChildProcess | null = null;
  readonly log: string[] = [];
  clientPort = 0;
  peerPort = 0;
  /** `name:password` etcdctl authenticates as, once the test enabled auth */
  ctlUser: string | null = null;
  /** the client certificate etcdctl presents (a server with `tls.clientCa` requires one) */
  ctlCert: { cert: string; key: string } | null = null;

  constructor(private readonly o: EtcdServerOptions = {}) {
    requireEtcd();
    this.dir = mkdtempSync(join(tmpdir(), 'legiond-etcd-'));
  }

  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  async start(): Promise<void> {
    if (this.clientPort === 0) {
      this.clientPort = await freePort();
      this.peerPort = await freePort();
    }
    const client = `${this.o.tls ? 'https' : 'http'}://127.0.0.1:${this.clientPort}`;
    const tls = this.o.tls ? ['--cert-file', this.o.tls.cert, '--key-file', this.o.tls.key] : [];
    if (this.o.tls?.clientCa) tls.push('--trusted-ca-file', this.o.tls.clientCa);
    const peer = `http://127.0.0.1:${this.peerPort}`;
    const child = spawn(
      ETCD,
      [
        '--name',
        'test',
        '--data-dir',
        join(this.dir, 'data'),
        '--listen-client-urls',
        client,
        '--advertise-client-urls',
        client,
        '--listen-peer-urls',
        peer,
        '--initial-advertise-peer-urls',
        peer,
        '--initial-cluster',
        `test=${peer}`,
        '--log-level',
        'warn',
        ...tls,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const keep = (b: Buffer) => {
      this.log.push(...b.toString().split('\n').filter(Boolean));
      if (this.log.length > 200) this.log.splice(0, this.log.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await this.waitHealthy(20_000);
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child && this.child.exitCode !== null)
        throw new Error(`etcd exited with ${this.child.exitCode}:\n${this.log.slice(-10).join('\n')}`);
      try {
        await this.ctl(['endpoint', 'health']);
        return;
      } catch {
        if (Date.now() > deadline)
          throw new Error(`etcd not healthy after ${timeoutMs} ms:\n${this.log.slice(-10).join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** etcdctl against this server; rejects on a non-zero exit */
  async ctl(args: string[]): Promise<string> {
    const tls = this.o.tls ? ['--cacert', this.o.tls.ca] : [];
    const user = this.ctlUser ? ['--user', this.ctlUser] : [];
    if (this.ctlCert) user.push('--cert', this.ctlCert.cert, '--key', this.ctlCert.key);
    const endpoint = this.o.tls ? `https://${this.endpoint}` : this.endpoint;
    const all = ['--endpoints', endpoint, '--dial-timeout', '2s', ...tls, ...user, ...args];
    const r = await execFileP(ETCDCTL, all, {
      env: { ...process.env, ETCDCTL_API: '3' },
      timeout: 10_000,
    });
    return r.stdout;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill(sig);
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGCONT');
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async cleanup(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
