/**
 * A real AF_UNIX datagram socket standing in for systemd's notification socket: a perl script
 * (perl-base is Essential in Debian) binds it and prints each datagram as a hex line; the test
 * reads them back as sd_notify messages with their arrival time.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

const LISTENER = String.raw`
use strict; use warnings;
use Socket qw(AF_UNIX SOCK_DGRAM pack_sockaddr_un);
my $path = shift; my $addr = $path; $addr =~ s/^@/\0/;
socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!\n";
bind($s, pack_sockaddr_un($addr)) or die "bind $path: $!\n";
$| = 1; print "listening\n";
while (1) { my $buf; defined(recv($s, $buf, 65536, 0)) or die "recv: $!\n"; print unpack('H*', $buf), "\n"; }
`;

export interface NotifyMessage {
  /** KEY=VALUE fields of one datagram */
  fields: Record<string, string>;
  raw: string;
  /** Date.now() when the test read it */
  at: number;
}

export function requirePerl(): void {
  const r = spawnSync('perl', ['-MSocket', '-e', '1'], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`perl with its Socket module is required (Debian: perl-base): ${r.error ?? r.stderr}`);
}

export class NotifyListener {
  readonly messages: NotifyMessage[] = [];
  private readonly child: ChildProcess;
  private readonly listening: Promise<void>;
  private readonly stderr: string[] = [];

  /** `path`: a file path, or `@name` for the abstract namespace */
  constructor(readonly path: string) {
    requirePerl();
    this.child = spawn('perl', ['-e', LISTENER, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stderr! }).on('line', (l) => this.stderr.push(l));
    this.listening = new Promise((resolve, reject) => {
      this.child.once('exit', (code) =>
        reject(new Error(`listener exited ${code}: ${this.stderr.join('\n')}`)),
      );
      createInterface({ input: this.child.stdout! }).on('line', (l) => {
        if (l === 'listening') return resolve();
        const raw = Buffer.from(l, 'hex').toString('utf8');
        const fields: Record<string, string> = {};
        for (const line of raw.split('\n')) {
          const eq = line.indexOf('=');
          if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1);
        }
        this.messages.push({ fields, raw, at: Date.now() });
      });
    });
  }

  ready(): Promise<void> {
    return this.listening;
  }

  mark(): number {
    return this.messages.length;
  }

  since(i: number): NotifyMessage[] {
    return this.messages.slice(i);
  }

  count(key: string, since = 0): number {
    return this.messages.slice(since).filter((m) => key in m.fields).length;
  }

  /** the first message from `since` on that matches, or a failure naming what was seen */
  async waitFor(pred: (m: NotifyMessage) => boolean, what: string, timeoutMs = 10_000, since = 0) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.messages.slice(since).find(pred);
      if (hit) return hit;
      if (Date.now() > deadline)
        throw new Error(
          `timed out waiting for ${what} on ${this.path}; got:\n${this.messages
            .map((m) => JSON.stringify(m.raw))
            .join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
