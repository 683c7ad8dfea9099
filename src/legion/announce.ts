/**
 * Building and scheduling announces: periodically with jitter so nodes do not fall into lockstep,
 * and at once when something peers act on changes; comparing what was announced, and the view
 * digest an announce carries.
 */

import type { Announce, AnnounceFlags, Attestation } from '../protocol/types.js';
import { isDraining, type SentMaterial, type Step } from './state.js';
import type { Announced } from './types.js';

/**
 * Attestations per announce: the freshest few. Every member appears in the lists of those who
 * heard it last, so a receiver still gets about 8·4 = 32 attestations of each member per second
 * at the default interval, whatever N; carrying 32 per packet (the wire limit, MAX_SEEN) made
 * packets three times larger and every receiver look up four times as many entries.
 */
export const MAX_ATTESTATIONS = 8;

/** What this node would announce now; a releasing node keeps its frozen flags and vote. */
export function currentMaterial(st: Step): SentMaterial {
  const { s } = st;
  const live: SentMaterial = {
    name: s.params.name,
    valor: s.params.valor,
    vote: s.vote,
    flags: { lord: s.lord, arbiter: s.params.valor === 0n, dead: false, draining: isDraining(st) },
    epoch: s.maxEpoch,
    scroll: s.params.scroll,
  };
  const frozen = s.release?.frozen;
  return frozen ? { ...live, vote: frozen.vote, flags: frozen.flags, epoch: frozen.epoch } : live;
}

function sameFlags(a: Readonly<AnnounceFlags>, b: Readonly<AnnounceFlags>): boolean {
  return a.lord === b.lord && a.arbiter === b.arbiter && a.dead === b.dead && a.draining === b.draining;
}

/**
 * Whether peers must hear about the difference now. The epoch alone matters for a lord, and with
 * a quorum for everyone: it is how a vote acknowledges a proposal (epoch.ts).
 */
export function materialChanged(a: SentMaterial | null, b: SentMaterial, epochMatters = false): boolean {
  if (a === null) return true;
  return (
    a.name !== b.name ||
    a.valor !== b.valor ||
    a.vote !== b.vote ||
    !sameFlags(a.flags, b.flags) ||
    ((b.flags.lord || epochMatters) && a.epoch !== b.epoch) ||
    !sameBytes(a.scroll, b.scroll)
  );
}

/** Peers we heard directly, freshest first (ties by UUID), at most MAX_ATTESTATIONS (the peer table keeps them). */
export function attestations(st: Step): Attestation[] {
  return st.s.peers
    .freshest(MAX_ATTESTATIONS)
    .map((p) => ({ uuid: p.uuid, agoMs: Math.max(0, st.now - p.lastDirectMs) }));
}

export function buildAnnounce(st: Step, m: SentMaterial): Announce {
  const { s } = st;
  return {
    legion: s.params.legion,
    uuid: s.params.uuid,
    name: m.name,
    valor: m.valor,
    epoch: m.epoch,
    vote: m.vote,
    flags: { ...m.flags },
    viewDigest: s.peers.cachedDigest(() => viewDigest([s.params.uuid, ...s.peers.keys()])),
    scroll: m.scroll,
    seen: attestations(st),
  };
}

export function scheduleNext(st: Step): void {
  const { s } = st;
  s.nextAnnounceMs = st.now + s.params.intervalMs * (1 - s.params.jitter * st.rand());
}

/** how soon, as a fraction of the interval, an announce that may wait a little goes out */
export const SOON_FRACTION = 0.1;

/** Brings the next announce forward to within a tenth of an interval, coalescing what comes meanwhile. */
export function announceSoon(st: Step): void {
  const { s } = st;
  s.nextAnnounceMs = Math.min(s.nextAnnounceMs, st.now + s.params.intervalMs * SOON_FRACTION);
}

/**
 * Whether the change from `a` to `m` may wait for the next periodic announce.
 *
 * During the node's own startup grace (or a stall's), when it cannot be lord anyway: a change of
 * vote or of the epoch it knows, unless the epoch acknowledges a proposal. The periodic announce
 * comes within an interval and the grace lasts longer, so the votes are out before anyone may
 * claim the title. Without this, a legion of N starting at once announces several times per node
 * within milliseconds, at every better candidate it hears: each time N·(N-1) packets. The
 * grace's end is a wake-up.
 *
 * After the grace, only an epoch learned from others that acknowledges nothing: whoever burned
 * it announced it already, with the vote change that burned it, and a candidate that must
 * propose above it hears it from there. Echoed by every voter, one late vote change in a legion
 * cost a round of N² packets. Votes and acknowledgements never wait: a failover
 * depends on them spreading at once.
 */
function canWait(st: Step, a: SentMaterial, m: SentMaterial): boolean {
  const { s } = st;
  if (
    a.name !== m.name ||
    a.valor !== m.valor ||
    !sameFlags(a.flags, m.flags) ||
    !sameBytes(a.scroll, m.scroll)
  )
    return false;
  const inGrace = st.now < s.noLordUntilMs;
  if (a.epoch === m.epoch) return inGrace;
  if (!inGrace && a.vote !== m.vote) return false;
  if (m.flags.lord || m.vote === null) return false;
  // no proposal is made during the grace, so a vote for ourselves acknowledges nothing yet
  if (m.vote === s.params.uuid) return inGrace && s.proposedEpoch === null;
  return s.peers.get(m.vote)?.epoch !== m.epoch;
}

/** Sends when due or when the material changed; either way the periodic timer restarts. */
export function announceIfNeeded(st: Step, force = false): void {
  const { s } = st;
  const m = currentMaterial(st);
  if (!force && st.now < s.nextAnnounceMs) {
    if (!materialChanged(s.lastSent, m, s.params.quorum > 1)) return;
    if (s.lastSent !== null && canWait(st, s.lastSent, m)) return;
  }
  st.effects.push({ type: 'send', packet: buildAnnounce(st, m) });
  s.lastSent = m;
  s.lastAnnounceMs = st.now;
  scheduleNext(st);
}

// Comparing what was announced.

/** Whether `a` repeats what `p` announced, so that receiving it changes only timing. */
export function sameAnnounced(p: Announced, a: Announced): boolean {
  return p.viewDigest === a.viewDigest && sameDecisive(p, a);
}

/**
 * Whether `a` repeats everything of `p` that a receiver acts on: all but the view digest, which
 * receivers only store, so a change of it alone decides nothing.
 */
export function sameDecisive(p: Announced, a: Announced): boolean {
  const f = p.flags;
  const g = a.flags;
  return (
    p.name === a.name &&
    p.valor === a.valor &&
    p.epoch === a.epoch &&
    p.vote === a.vote &&
    f.lord === g.lord &&
    f.arbiter === g.arbiter &&
    f.draining === g.draining &&
    f.dead === g.dead &&
    sameBytes(p.scroll, a.scroll)
  );
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/*
 * The view digest: FNV-1a 32-bit over the sorted member UUIDs, each followed by a newline so
 * ["ab","c"] and ["a","bc"] differ. Canonical UUID text is ASCII, so char codes are the bytes.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function viewDigest(uuids: string[]): number {
  let h = FNV_OFFSET;
  for (const u of [...uuids].sort()) {
    for (let i = 0; i < u.length; i++) {
      h ^= u.charCodeAt(i) & 0xff;
      h = Math.imul(h, FNV_PRIME) >>> 0;
    }
    h ^= 0x0a;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h >>> 0;
}
