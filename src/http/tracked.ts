import type { LegionHost, PublicEvent } from '../daemon/legion-host.js';
import type { WorkEvent } from '../daemon/legion-work.js';
import { hasJoined } from '../daemon/notify/joined.js';
import type { LegionView } from '../legion/types.js';

/** What a LegionHost must offer the HTTP endpoints; the tests' fakes are smaller than a host. */
export type EndpointLegion = Pick<
  LegionHost,
  'name' | 'cfg' | 'view' | 'status' | 'workStatus' | 'subscribe' | 'subscribeWork'
>;

/**
 * The reasons a lord change is counted under: the cores' unlord and node-left reasons and the
 * event types. Anything else is `other`, so a new reason in a core cannot grow the label set.
 */
const REASONS = new Set([
  'lease',
  'preempted',
  'stepdown',
  'shutdown',
  'epoch',
  'timeout',
  'death',
  'setup',
  'join',
  'lord',
  'unlord',
  'node-joined',
  'node-left',
  'election',
]);

/** how often a step may look at the view (it copies the member table) */
const LOOK_EVERY_MS = 100;

/**
 * One running legion as the endpoints see it: when it last stepped, whether it has joined (the
 * sd_notify notion), and the lord changes seen, counted by reason. Lord changes come from the
 * event stream and, for the changes a follower sees without an event of its own, from the view.
 */
export class TrackedLegion {
  lastStepAt: number;
  joined = false;
  readonly lordChanges = new Map<string, number>();
  private lord: string | null = null;
  private reason: string | null = null;
  private lookedAt = Number.NEGATIVE_INFINITY;
  private readonly unsubscribe: Array<() => void>;

  constructor(
    readonly legion: EndpointLegion,
    readonly startedAt: number,
    onWork: (legion: string, e: WorkEvent) => void,
  ) {
    this.lastStepAt = startedAt;
    this.unsubscribe = [
      legion.subscribe((ev) => this.onEvent(ev)),
      legion.subscribeWork((e) => onWork(legion.name, e)),
    ];
  }

  get name(): string {
    return this.legion.name;
  }

  stepped(now: number): void {
    this.lastStepAt = now;
    if (now - this.lookedAt >= LOOK_EVERY_MS || !this.joined) this.look(now);
  }

  /** the view, with the join and the lord brought up to date from it */
  look(now: number): LegionView {
    this.lookedAt = now;
    const v = this.legion.view();
    if (!this.joined) this.joined = hasJoined(v, now - this.startedAt, this.legion.cfg.intervalMs);
    this.lordIs(v.lord?.uuid ?? null, this.reason ?? 'election');
    return v;
  }

  close(): void {
    for (const u of this.unsubscribe) u();
  }

  private onEvent(ev: PublicEvent): void {
    const reason = ev.reason ?? ev.type;
    this.reason = REASONS.has(reason) ? reason : 'other';
    this.lordIs(ev.lord?.uuid ?? null, this.reason);
  }

  private lordIs(uuid: string | null, reason: string): void {
    if (uuid === this.lord) return;
    this.lord = uuid;
    this.reason = null;
    this.lordChanges.set(reason, (this.lordChanges.get(reason) ?? 0) + 1);
  }
}
