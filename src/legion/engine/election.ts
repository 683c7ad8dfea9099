/**
 * Who takes the engine's title and when: the best live registered standing candidate by
 * (valor, UUID) acquires it once nobody holds it and nobody may still be working under it; the
 * holder gives it up for a better candidate (after preempt_delay) or on stepdown.
 */
import type { EngineCandidate, EngineSnapshot } from '../../engine/types.js';
import { compareCandidates } from '../peers.js';
import { effectiveValor } from '../types.js';
import type { EngineRequest, EngineState } from './types.js';
import { type EStep, log, noteMembers, ttlOf } from './view.js';

type Body<R> = R extends unknown ? Omit<R, 'dir' | 'id'> : never;

/** Sends `req`; a request of the same kind still pending is superseded (its answer is ignored). */
export function send(st: EStep, req: Body<EngineRequest>): void {
  const { s, now } = st;
  const id = s.nextId++;
  s.pending.set(req.kind, { id, sentAtMs: now });
  st.effects.push({ type: 'send', packet: { ...req, dir: 'request', id } as EngineRequest });
}

/** may stand for the title now: a member with valor, running, not stepping down or held back */
export function eligible(s: EngineState, now: number): boolean {
  return (
    s.phase === 'running' &&
    s.release === null &&
    effectiveValor(s) > 0n &&
    s.params.observer !== true &&
    s.drainingUntilMs === null &&
    now >= s.heldBackUntilMs
  );
}

/**
 * What this node registers as. `standing` also while its lord-only work may still run (holding
 * the title, or stopping it): peers that see the title gone wait for a standing holder.
 */
export function selfCandidate(s: EngineState, now: number): EngineCandidate {
  const stopping = s.release !== null && s.release.stage === 'hooks';
  const standing = eligible(s, now) || s.lord || stopping;
  return {
    uuid: s.params.uuid,
    name: s.params.name,
    valor: effectiveValor(s),
    scroll: s.scroll,
    standing,
  };
}

export function sameCandidate(a: EngineCandidate | null, b: EngineCandidate): boolean {
  if (a === null) return false;
  if (a.name !== b.name || a.valor !== b.valor || a.standing !== b.standing) return false;
  if (a.scroll.length !== b.scroll.length) return false;
  return a.scroll.every((x, i) => x === b.scroll[i]);
}

function rankOf(c: EngineCandidate) {
  return { uuid: c.uuid, valor: c.valor };
}

/** the best standing registered candidate other than this node, or null */
export function bestOther(s: EngineState): EngineCandidate | null {
  let best: EngineCandidate | null = null;
  for (const c of s.snapshot?.candidates ?? []) {
    if (c.uuid === s.params.uuid || !c.standing || c.valor === 0n) continue;
    if (best === null || compareCandidates(rankOf(c), rankOf(best)) > 0) best = c;
  }
  return best;
}

/** whether `other` ranks above this node as it stands now */
export function outranks(s: EngineState, other: EngineCandidate): boolean {
  return compareCandidates(rankOf(other), { uuid: s.params.uuid, valor: effectiveValor(s) }) > 0;
}

/** Takes in a snapshot: members, epochs, and whether the last holder may still be working. */
export function takeSnapshot(st: EStep, snap: EngineSnapshot, sentAtMs: number): void {
  const { s, now } = st;
  s.snapshot = snap;
  s.snapshotAtMs = now;
  noteMembers(st, snap.candidates);
  const t = snap.title;
  if (t !== null) {
    if (t.epoch > s.maxEpoch) s.maxEpoch = t.epoch;
    s.lastHolder = t;
    s.vanishedAtMs = null;
    // a successor holds the title: the hold-back after this node's release has done its work
    if (t.uuid !== s.params.uuid && t.epoch > s.releasedEpoch) s.heldBackUntilMs = 0;
  } else if (s.lastHolder !== null) {
    const h = snap.candidates.find((c) => c.uuid === s.lastHolder!.uuid);
    const mayWork = s.lastHolder.uuid !== s.params.uuid && h !== undefined && h.standing;
    if (!mayWork) {
      s.lastHolder = null;
      s.vanishedAtMs = null;
    } else if (s.vanishedAtMs === null) {
      // its title vanished (removed by hand?) while it still registers as working: it stops at
      // its next failed renewal, within a TTL of now
      s.vanishedAtMs = now;
      log(st, 'warn', 'the title vanished while its holder still stands; waiting for it to stop', {
        holder: s.lastHolder.uuid,
        epoch: s.lastHolder.epoch.toString(),
        waitMs: ttlOf(s),
      });
    }
  }
  // a lord whose title the engine no longer shows (and not from before it took it): ask at once
  if (
    s.holding &&
    sentAtMs >= s.leaseSentMs &&
    (t === null || t.uuid !== s.params.uuid || t.epoch !== s.lordEpoch)
  )
    s.lastRenewMs = Number.NEGATIVE_INFINITY;
}

export function startupGraceMs(s: EngineState): number {
  return Math.min(500, ttlOf(s) / 4);
}

/** The instant this node may acquire from, or null when it may not (someone holds it or ranks higher). */
export function mayAcquireAt(s: EngineState, now: number): number | null {
  const snap = s.snapshot;
  if (snap === null || !s.reachable || s.holding || !eligible(s, now)) return null;
  // nodes started together see each other registered before the first of them takes the title
  if (now < s.startedAtMs + startupGraceMs(s)) return s.startedAtMs + startupGraceMs(s);
  if (snap.title !== null || s.pending.has('acquire')) return null;
  // only a registration the engine shows counts: peers must be able to see who stands
  const me = snap.candidates.find((c) => c.uuid === s.params.uuid);
  if (!me?.standing) return null;
  const other = bestOther(s);
  if (other !== null && outranks(s, other)) return null;
  return s.vanishedAtMs === null ? now : s.vanishedAtMs + ttlOf(s);
}

/** Why the lord should hand the title over now, or null. Tracks the preempt delay. */
export function handOverReason(st: EStep): string | null {
  const { s, now } = st;
  if (s.drainingUntilMs !== null) return 'stepdown';
  if (effectiveValor(s) === 0n || s.params.observer === true) return 'arbiter';
  const other = s.params.preempt ? bestOther(s) : null;
  if (other === null || !outranks(s, other)) {
    s.betterSinceMs = null;
    return null;
  }
  s.betterSinceMs ??= now;
  return now >= s.betterSinceMs + s.params.preemptDelayMs ? 'preempted' : null;
}
