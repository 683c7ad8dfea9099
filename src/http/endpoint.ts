import type { Server } from 'node:http';
import type { HttpConfig } from '../config/types.js';
import type { Logger } from '../daemon/logger.js';
import type { DaemonObserver } from '../daemon/observer.js';
import { createMetrics } from './metrics.js';
import { type Routes, startHttpServer } from './server.js';
import { StatusFeed } from './status.js';
import { readToken } from './token.js';
import { type EndpointLegion, TrackedLegion } from './tracked.js';

const text = new TextDecoder();

/**
 * A legion is healthy while its runner stepped within this many intervals: the runner steps at
 * least once an interval (its announce), so a longer silence is a stalled loop or a wedged runner.
 */
export const HEALTHY_INTERVALS = 3;
/** plus this much slack, for a short GC pause or a loaded machine */
const HEALTH_SLACK_MS = 1000;

export interface HttpEndpointOptions {
  config: HttpConfig;
  logger: Logger;
  /** monotonic ms; default performance.now */
  now?: () => number;
}

/**
 * The metrics and health endpoints of one daemon. It follows the legions as a DaemonObserver
 * (running, leaving, every step) and serves what it saw; the daemon binds it with its other
 * exclusive resources (listen) and closes it last.
 */
export class HttpEndpoint implements DaemonObserver<EndpointLegion> {
  private readonly tracked = new Map<string, TrackedLegion>();
  private readonly now: () => number;
  private readonly metrics;
  private server: Server | null = null;
  /** the status page and its event stream */
  readonly feed = new StatusFeed();

  constructor(private readonly o: HttpEndpointOptions) {
    this.now = o.now ?? (() => performance.now());
    this.metrics = createMetrics({ legions: () => [...this.tracked.values()], now: this.now });
  }

  async listen(): Promise<void> {
    const token = this.o.config.tokenFile === null ? null : await readToken(this.o.config.tokenFile);
    this.server = await startHttpServer({
      config: this.o.config,
      token,
      routes: this.routes(),
      logger: this.o.logger,
    });
  }

  legionRunning(legion: EndpointLegion): void {
    this.tracked.get(legion.name)?.close();
    this.tracked.set(
      legion.name,
      new TrackedLegion(legion, this.now(), (name, e) => this.metrics.workDone(name, e)),
    );
    this.feed.follow(legion);
  }

  legionLeaving(legion: EndpointLegion): void {
    const t = this.tracked.get(legion.name);
    if (t?.legion !== legion) return;
    t.close();
    this.tracked.delete(legion.name);
    this.feed.unfollow(legion.name, legion);
  }

  stepped(legion: EndpointLegion): void {
    const t = this.tracked.get(legion.name);
    if (t?.legion !== legion) return;
    try {
      t.stepped(this.now());
    } catch (e) {
      // called from inside the runner's step: a throw here would stop the election loop
      this.o.logger.error({ err: e, legion: legion.name }, 'http: could not follow a step');
    }
  }

  reloading(): void {}
  reloaded(): void {}
  stopping(): void {}

  async close(): Promise<void> {
    this.feed.close();
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private routes(): Routes {
    return {
      page: (res, head) => this.feed.page(res, head),
      events: (req, res, query) => this.feed.events(req, res, query),
      metrics: async () => ({
        contentType: this.metrics.registry.contentType,
        body: await this.metrics.registry.metrics(),
      }),
      healthz: () => {
        const now = this.now();
        const legions = Object.fromEntries(
          [...this.tracked.values()].map((t) => {
            const ageMs = Math.max(0, Math.round(now - t.lastStepAt));
            const limitMs = HEALTHY_INTERVALS * t.legion.cfg.intervalMs + HEALTH_SLACK_MS;
            return [t.name, { ok: ageMs <= limitMs, lastStepAgeMs: ageMs, limitMs }];
          }),
        );
        const ok = this.tracked.size > 0 && Object.values(legions).every((l) => l.ok);
        return { ok, body: { ok, legions } };
      },
      readyz: () => {
        const now = this.now();
        const legions = Object.fromEntries(
          [...this.tracked.values()].map((t) => {
            if (!t.joined) t.look(now);
            return [t.name, { joined: t.joined }];
          }),
        );
        const ok = this.tracked.size > 0 && Object.values(legions).every((l) => l.joined);
        return { ok, body: { ready: ok, legions } };
      },
      lord: (name) => {
        const t = this.tracked.get(name);
        if (!t) return null;
        const v = t.legion.view();
        return {
          legion: name,
          lord: v.lord
            ? {
                name: v.lord.name,
                uuid: v.lord.uuid,
                epoch: String(v.epoch),
                scroll: text.decode(v.lord.scroll),
              }
            : null,
        };
      },
    };
  }
}
