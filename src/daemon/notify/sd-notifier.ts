/**
 * legiond's side of systemd's notification protocol (sd_notify(3)), when NOTIFY_SOCKET is set.
 *
 * - READY=1 once every legion has *joined*: it heard another member (or a lord), or its startup
 *   grace passed. Lordship and quorum do not matter: a passive node or the first node of a
 *   quorum-2 legion is up and doing its job, and systemd must not time it out (the `join` hook
 *   means "quorum reached", which is why it is no readiness signal).
 * - STATUS= names each legion's role and lord, sent whenever that text changes.
 * - RELOADING=1 with MONOTONIC_USEC (systemd >= 253 wants it) at SIGHUP, READY=1 after it.
 * - STOPPING=1 when a clean shutdown begins.
 * - WATCHDOG=1 every WATCHDOG_USEC/2 (unless WATCHDOG_PID names another process), sent from the
 *   runners' own steps, and only while every running legion has stepped within that period: a
 *   wedged runner or a stalled event loop stops the pings, and systemd restarts legiond.
 *
 * The core does not say "joined"; it is derived from what the view shows (hasJoined).
 */
import type { LegionView } from '../../legion/types.js';
import type { Logger } from '../logger.js';
import type { DaemonObserver, ObservedLegion } from '../observer.js';
import { hasJoined, JOIN_GRACE_INTERVALS } from './joined.js';
import { NotifySocket, supportedNotifyPath } from './notify-socket.js';

export { JOIN_GRACE_INTERVALS };

/** STATUS is recomputed at most this often per step (a view costs a copy of the member table) */
const STATUS_EVERY_MS = 100;

/** what a notifier sends through; NotifySocket is one */
export interface NotifySink {
  send(message: string): void;
  close(): Promise<void>;
}

export interface SdNotifierOptions {
  sink: NotifySink;
  /** half of WATCHDOG_USEC, in ms; null when the watchdog is off */
  watchdogEveryMs: number | null;
  /** monotonic ms */
  now?: () => number;
  /** CLOCK_MONOTONIC in µs, for MONOTONIC_USEC */
  monotonicUsec?: () => bigint;
  /** a timer for the end of a legion's grace; setTimeout by default */
  setTimer?: (f: () => void, ms: number) => void;
  /** where a failure of the notifier itself is reported; it never reaches the runner */
  logger?: Pick<Logger, 'error'>;
}

interface Tracked {
  legion: ObservedLegion;
  startedAt: number;
  joined: boolean;
  lastStepAt: number;
  status: string;
  statusAt: number;
}

export class SdNotifier implements DaemonObserver {
  private readonly legions = new Map<string, Tracked>();
  private ready = false;
  private stopped = false;
  private reloads = 0;
  private lastStatus = '';
  private lastPingAt: number;
  private readonly now: () => number;
  private readonly setTimer: (f: () => void, ms: number) => void;

  constructor(private readonly o: SdNotifierOptions) {
    this.now = o.now ?? (() => performance.now());
    this.setTimer = o.setTimer ?? ((f, ms) => void setTimeout(f, ms).unref());
    this.lastPingAt = this.now();
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** the helper was restarted: what systemd keeps as state is sent again */
  resend(): void {
    if (this.ready && this.reloads === 0 && !this.stopped) this.o.sink.send('READY=1');
    if (this.lastStatus !== '') this.o.sink.send(`STATUS=${this.lastStatus}`);
  }

  legionRunning(legion: ObservedLegion): void {
    const now = this.now();
    this.legions.set(legion.name, {
      legion,
      startedAt: now,
      joined: false,
      lastStepAt: now,
      status: `${legion.name}: joining`,
      statusAt: Number.NEGATIVE_INFINITY,
    });
    this.setTimer(() => this.stepped(legion), JOIN_GRACE_INTERVALS * legion.cfg.intervalMs + 1);
    this.publishStatus();
  }

  legionLeaving(legion: ObservedLegion): void {
    // a leaving legion's runner stops stepping while its death hooks run: it no longer vouches
    // for the daemon, and no longer holds readiness back
    if (this.legions.get(legion.name)?.legion !== legion) return;
    this.legions.delete(legion.name);
    this.checkReady();
    this.publishStatus();
  }

  stepped(legion: ObservedLegion): void {
    const t = this.legions.get(legion.name);
    if (!t || t.legion !== legion || this.stopped) return;
    try {
      const now = this.now();
      t.lastStepAt = now;
      if (!t.joined || now - t.statusAt >= STATUS_EVERY_MS) this.look(t, now);
      this.watchdog(now);
    } catch (e) {
      // called from inside the runner's step: a throw here would stop the election loop
      this.o.logger?.error({ err: e, legion: legion.name }, 'sd_notify: could not report a step');
    }
  }

  reloading(): void {
    if (this.stopped) return;
    this.reloads++;
    if (this.ready) {
      const usec = (this.o.monotonicUsec ?? (() => process.hrtime.bigint() / 1000n))();
      this.o.sink.send(`RELOADING=1\nMONOTONIC_USEC=${usec}`);
    }
  }

  reloaded(): void {
    if (this.stopped || this.reloads === 0) return;
    this.reloads--;
    if (this.reloads === 0 && this.ready) this.o.sink.send('READY=1');
    this.publishStatus();
  }

  stopping(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.o.sink.send('STOPPING=1');
  }

  close(): Promise<void> {
    return this.o.sink.close();
  }

  private look(t: Tracked, now: number): void {
    const v = t.legion.view();
    t.statusAt = now;
    if (!t.joined) t.joined = hasJoined(v, now - t.startedAt, t.legion.cfg.intervalMs);
    t.status = t.joined ? legionStatus(t.legion.name, v) : `${t.legion.name}: joining`;
    if (t.joined) this.checkReady();
    this.publishStatus();
  }

  private checkReady(): void {
    if (this.ready || this.stopped || this.legions.size === 0) return;
    for (const t of this.legions.values()) if (!t.joined) return;
    this.ready = true;
    // during a reload that began before readiness, READY=1 ends the reload too
    if (this.reloads > 0) this.reloads = 0;
    this.o.sink.send(`READY=1\nSTATUS=${this.statusText()}`);
    this.lastStatus = this.statusText();
  }

  private statusText(): string {
    const parts = [...this.legions.values()].map((t) => t.status);
    return parts.length > 0 ? parts.join('; ') : 'no legions';
  }

  private publishStatus(): void {
    if (this.stopped) return;
    const text = this.statusText();
    if (text === this.lastStatus) return;
    this.lastStatus = text;
    this.o.sink.send(`STATUS=${text}`);
  }

  private watchdog(now: number): void {
    const every = this.o.watchdogEveryMs;
    if (every === null || now - this.lastPingAt < every) return;
    for (const t of this.legions.values()) if (now - t.lastStepAt > every) return;
    this.lastPingAt = now;
    this.o.sink.send('WATCHDOG=1');
  }
}

/** `web: follower, lord n3, epoch 7`; role is lord, follower, arbiter, observer, draining or releasing */
export function legionStatus(name: string, v: LegionView): string {
  const role =
    v.phase === 'releasing'
      ? 'releasing'
      : v.lord?.self
        ? 'lord'
        : v.self.observer
          ? 'observer'
          : v.valor === 0n
            ? 'arbiter'
            : v.draining
              ? 'draining'
              : 'follower';
  const lord = v.lord ? v.lord.name.replace(/[\r\n;]/g, ' ') : 'none';
  return `${name}: ${role}, lord ${lord}, epoch ${v.epoch}`;
}

/**
 * The notifier for this process's environment, or null when NOTIFY_SOCKET is unset. The
 * variables are removed from `env` (as sd_notify's unset_environment does): hooks and lord-only
 * work inherit legiond's environment, and with NotifyAccess=all systemd would take their
 * messages for legiond's.
 */
export function notifierFromEnv(env: NodeJS.ProcessEnv, logger: Logger): SdNotifier | null {
  const path = env.NOTIFY_SOCKET;
  const usec = env.WATCHDOG_USEC;
  const pid = env.WATCHDOG_PID;
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  if (path === undefined || path === '') return null;
  if (!supportedNotifyPath(path)) {
    logger.error(
      { notifySocket: path },
      'NOTIFY_SOCKET is neither an absolute path nor @abstract; not notifying',
    );
    return null;
  }
  let watchdogEveryMs: number | null = null;
  const n = usec !== undefined && /^\d+$/.test(usec) ? Number(usec) : 0;
  if (n > 0 && (pid === undefined || pid === '' || Number(pid) === process.pid))
    watchdogEveryMs = Math.max(1, Math.floor(n / 2000));
  else if (usec !== undefined && n === 0)
    logger.warn({ watchdogUsec: usec }, 'WATCHDOG_USEC is not a positive integer; no watchdog pings');
  let notifier: SdNotifier | null = null;
  const sink = new NotifySocket({ path, logger, onRestart: () => notifier?.resend() });
  notifier = new SdNotifier({ sink, watchdogEveryMs, logger });
  logger.info({ notifySocket: path, watchdogEveryMs }, 'sd_notify: speaking to systemd');
  return notifier;
}
