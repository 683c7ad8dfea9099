/**
 * Peer learning for a unicast legion: configured peers act as seeds, and every node tells the
 * addresses it hears members from to everyone it sends to, in sealed hints (protocol/hints.ts).
 * A node that knows one seed is known by all within a few hints. Only hints that authenticate
 * with the legion's key teach anything, so a node without the secret cannot add destinations.
 */
import type { Logger } from 'pino';
import type { HintAddress, HintCodec } from '../protocol/hints.js';
import { type HintVerdict, LearnedPeers } from './learned.js';

export interface LearningOptions {
  codec: HintCodec;
  /** this node's UUID in the legion */
  uuid: string;
  /** most learned addresses kept (confirmed and suggested together) */
  max: number;
  /** period of the hints; a node that learns a new address also tells the others at once */
  hintEveryMs: number;
  /** a learned address is dropped when no hint has named it for this long */
  ttlMs: number;
  /** a first hint from a member must be this fresh by our wall clock */
  replayWindowMs?: number;
}

export interface LearningStats {
  learnedPeers: number;
  learnRefused: number;
  hintsSent: number;
  hintsReceived: number;
  hintsDropped: number;
}

export interface LearningClock {
  mono(): number;
  wall(): number;
}

const SOON_MS = 20;
const FIRST_GAP_MS = 1000;
const REFUSAL_LOG_EVERY_MS = 10_000;

export class PeerLearning {
  private readonly table: LearnedPeers;
  private readonly stats = { hintsSent: 0, hintsReceived: 0, hintsDropped: 0 };
  private seq: bigint;
  private timer: NodeJS.Timeout | null = null;
  private soonTimer: NodeJS.Timeout | null = null;
  private loggedRefused = 0;
  private lastRefusalLog = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly o: LearningOptions,
    /** sends bytes to each address (the socket's own send, no fan-out of its own) */
    private readonly sendTo: (bytes: Uint8Array, to: HintAddress[]) => void,
    /** the seeds' current addresses */
    private readonly seeds: () => HintAddress[],
    private readonly logger: Logger,
    private readonly clock: LearningClock = { mono: () => performance.now(), wall: () => Date.now() },
  ) {
    this.table = new LearnedPeers({
      max: o.max,
      ttlMs: o.ttlMs,
      replayWindowMs: o.replayWindowMs ?? 30_000,
    });
    // continues above any seq a previous life of this UUID used, as announces do
    this.seq = BigInt(Math.floor(clock.wall())) * 1000n;
  }

  /**
   * The first hints go out at 0, 1, 2, 4 … s, doubling up to the period: a seed that was not up
   * yet when this node started hears of it within a second or two of starting itself.
   */
  start(): void {
    this.sendHint();
    this.next(Math.min(FIRST_GAP_MS, this.o.hintEveryMs));
  }

  private next(gapMs: number): void {
    this.timer = setTimeout(() => {
      this.sendHint();
      this.next(Math.min(2 * gapMs, this.o.hintEveryMs));
    }, gapMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.soonTimer) clearTimeout(this.soonTimer);
    this.timer = null;
    this.soonTimer = null;
  }

  /** learned destinations, without the seeds and this node's own addresses */
  destinations(): HintAddress[] {
    return this.table.destinations(this.clock.mono());
  }

  /** drops the address a hint of this node's own came back from (seeds may list this node) */
  isSelf(a: HintAddress): boolean {
    return this.table.isSelf(a);
  }

  counters(): LearningStats {
    return { ...this.stats, learnedPeers: this.table.size, learnRefused: this.table.refused };
  }

  /** a datagram that `isHintPacket`; a bad one is counted and dropped */
  receive(bytes: Uint8Array, from: HintAddress): void {
    this.stats.hintsReceived++;
    let verdict: HintVerdict;
    let grew: boolean;
    try {
      const hint = this.o.codec.decode(bytes);
      const seeds = new Set(this.seeds().map((a) => `${a.address}|${a.port}`));
      ({ verdict, grew } = this.table.take(
        hint,
        from,
        this.o.uuid,
        this.clock.mono(),
        this.clock.wall(),
        (a) => seeds.has(`${a.address}|${a.port}`),
      ));
      if (verdict === 'learned') this.logger.info({ uuid: hint.uuid, from }, 'learned a peer');
    } catch (err) {
      this.stats.hintsDropped++;
      this.logger.debug({ from, err: (err as Error).message }, 'peer hint dropped');
      return;
    }
    if (verdict === 'replay' || verdict === 'stale') this.stats.hintsDropped++;
    this.noteRefusals();
    if (grew) this.soon();
  }

  private soon(): void {
    if (this.soonTimer) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = null;
      this.sendHint();
    }, SOON_MS);
    this.soonTimer.unref();
  }

  private sendHint(): void {
    const now = this.clock.mono();
    this.seq++;
    const bytes = this.o.codec.encode({
      uuid: this.o.uuid,
      seq: this.seq,
      sentAtMs: this.clock.wall(),
      addresses: this.table.confirmed(now),
    });
    const to = unique([...this.seeds(), ...this.table.destinations(now)]).filter(
      (a) => !this.table.isSelf(a),
    );
    this.stats.hintsSent++;
    this.sendTo(bytes, to);
  }

  private noteRefusals(): void {
    const refused = this.table.refused;
    if (refused === this.loggedRefused) return;
    const now = this.clock.mono();
    if (now - this.lastRefusalLog < REFUSAL_LOG_EVERY_MS) return;
    this.lastRefusalLog = now;
    this.logger.warn(
      { limit: this.o.max, refused, newly: refused - this.loggedRefused },
      'learned peer limit reached: addresses not taken (raise learned_peers_max)',
    );
    this.loggedRefused = refused;
  }
}

export function unique(list: HintAddress[]): HintAddress[] {
  const seen = new Set<string>();
  const out: HintAddress[] = [];
  for (const a of list) {
    const k = `${a.address}|${a.port}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(a);
  }
  return out;
}
