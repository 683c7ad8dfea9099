/**
 * Datagrams to systemd's notification socket (NOTIFY_SOCKET) without a native addon.
 *
 * Node's dgram has no AF_UNIX datagrams, and net speaks only streams. A native addon would add a
 * build step, and spawning `systemd-notify` per message races systemd's lookup of the sender's
 * PID (the sender exits before systemd reads its credentials) and costs a process per WATCHDOG=1.
 * So one long-lived `perl` child does the sending: perl-base is Essential in Debian (always
 * installed) and its Socket module sends SOCK_DGRAM to a unix path, abstract names included. It
 * reads one message per line on stdin, hex-encoded so that multi-line messages stay one datagram.
 *
 * Consequences:
 * - The sender is the perl child, not legiond's main PID, so the unit needs NotifyAccess=all.
 * - The child exits at EOF on stdin, so it never outlives legiond, and it ignores INT, TERM and
 *   HUP: a `systemctl stop` signals the whole control group, and STOPPING=1 must still get out.
 * - It sends with MSG_DONTWAIT: a full or absent socket drops that message (reported on stderr,
 *   which is logged) rather than blocking the pipe behind it.
 * - A child that dies is logged and restarted with backoff; `onRestart` lets the caller send the
 *   state again (READY, STATUS). Nothing here throws into legiond.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../logger.js';

const SENDER = String.raw`
use strict; use warnings;
use Socket qw(AF_UNIX SOCK_DGRAM MSG_DONTWAIT pack_sockaddr_un);
$SIG{INT} = $SIG{TERM} = $SIG{HUP} = 'IGNORE';
my $path = shift;
$path =~ s/^@/\0/;
socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!\n";
my $addr = pack_sockaddr_un($path);
$| = 1;
while (my $line = <STDIN>) {
  chomp $line;
  next if $line eq '';
  send($s, pack('H*', $line), MSG_DONTWAIT, $addr) or print STDERR "send: $!\n";
}
`;

/** more than this many bytes waiting for the child: drop messages rather than grow without bound */
const MAX_PENDING_BYTES = 64 * 1024;
const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 10_000;

export interface NotifySocketOptions {
  /** NOTIFY_SOCKET: an absolute path, or `@name` for the abstract namespace */
  path: string;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** a restarted child is up: send again what systemd must not miss */
  onRestart?: () => void;
  /** the perl to run; `perl` on PATH by default */
  perl?: string;
}

/** Accepts an absolute path or `@abstract`; anything else (vsock:, relative) is not supported. */
export function supportedNotifyPath(path: string): boolean {
  return (path.startsWith('/') || path.startsWith('@')) && path.length > 1 && !path.includes('\n');
}

export class NotifySocket {
  private child: ChildProcess | null = null;
  private closed = false;
  private backoffMs = BACKOFF_MIN_MS;
  private restartTimer: NodeJS.Timeout | null = null;
  private dropped = 0;
  private startedOnce = false;

  constructor(private readonly o: NotifySocketOptions) {
    this.startChild();
  }

  /** one datagram; `message` is `KEY=VALUE` lines joined by "\n" */
  send(message: string): void {
    const stdin = this.child?.stdin;
    if (this.closed || !stdin || !stdin.writable) return void this.drop(message);
    if (stdin.writableLength > MAX_PENDING_BYTES) return void this.drop(message);
    stdin.write(`${Buffer.from(message, 'utf8').toString('hex')}\n`);
  }

  /** ends the child's input (it sends what it has, then exits) and waits a little for it */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.stdin?.end();
    await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 1000).unref())]);
  }

  private drop(message: string): void {
    this.dropped++;
    // a watchdog ping lost now and then is harmless; a pattern of losses is worth a line
    if (this.dropped === 1 || this.dropped % 100 === 0)
      this.o.logger.warn(
        { dropped: this.dropped, message: message.split('\n')[0] },
        'sd_notify: message dropped (helper not running or not keeping up)',
      );
  }

  private startChild(): void {
    if (this.closed) return;
    let child: ChildProcess;
    try {
      child = spawn(this.o.perl ?? 'perl', ['-e', SENDER, this.o.path], {
        stdio: ['pipe', 'ignore', 'pipe'],
      });
    } catch (e) {
      this.o.logger.error({ err: e }, 'sd_notify: cannot start the perl helper');
      this.scheduleRestart();
      return;
    }
    this.child = child;
    // a write to a helper that just died must not become an uncaught EPIPE in legiond
    child.stdin?.on('error', () => undefined);
    child.on('error', (e) => {
      // not the whole error: its spawnargs would put the helper's script in every line
      const code = (e as NodeJS.ErrnoException).code;
      this.o.logger.error({ code, reason: e.message }, 'sd_notify: perl helper failed (is perl installed?)');
      // a spawn that failed may never report an exit
      if (child.pid === undefined) {
        if (this.child === child) this.child = null;
        this.scheduleRestart();
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) =>
      this.o.logger.warn({ helper: line }, 'sd_notify: helper reported a problem'),
    );
    child.on('spawn', () => {
      if (this.startedOnce) {
        this.o.logger.info('sd_notify: helper restarted');
        this.o.onRestart?.();
      }
      this.startedOnce = true;
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      if (this.closed) return;
      this.o.logger.error({ code, signal }, 'sd_notify: perl helper exited; restarting it');
      this.scheduleRestart();
    });
  }

  private scheduleRestart(): void {
    if (this.closed || this.restartTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.startChild();
    }, delay);
    this.restartTimer.unref();
    // a helper that stays up a while earns a quick restart next time
    setTimeout(() => {
      if (this.child && this.child.exitCode === null) this.backoffMs = BACKOFF_MIN_MS;
    }, delay + 30_000).unref();
  }
}
