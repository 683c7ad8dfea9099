/**
 * Heartbeats taken in bulk, for a shell that does not hand the core every repeat of an unchanged
 * announce (the simulator's folded heartbeats, sim/heartbeats.ts). Such a repeat does nothing to
 * the receiver but move the sender's direct liveness later (membership.ts, `sameAnnounced`), and
 * its attestations only matter for senders whose own packets are lost.
 *
 * Liveness is read by decisions only through expiry (liveness + tolerance, liveness >= last
 * direct hearing) and vote freshness (at least last direct hearing + lease). So until the
 * earliest direct hearing in the table plus the shorter of the two, every step decides the same
 * with or without the refresh: `noteHeard` returns that instant, and the shell refreshes again
 * before it steps the core at or after it.
 */
import { LegiondError } from '../errors.js';
import { sameBytes } from './bytes.js';
import { leaseMs } from './liveness.js';
import type { NativeState, PeerRecord } from './state.js';

/** What a receiver keeps of an announce besides timing: a peer record, or an announce itself. */
export type Announced = Pick<
  PeerRecord,
  'name' | 'valor' | 'epoch' | 'vote' | 'viewDigest' | 'flags' | 'scroll'
>;

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

/**
 * Moves each member's direct hearing up to `heardAt(uuid, index)` (ignored when earlier, or
 * after `now`), and returns until when the table may go without another refresh. `index` is the
 * member's position in the table, which stays put while no one joins or leaves: a caller may
 * remember what it found there. Edits the table in place, like a step: pass the newest state.
 */
export function noteHeard(
  state: NativeState,
  heardAt: (uuid: string, index: number) => number,
  now: number,
): number {
  const peers = state.peers;
  if (peers.owner !== state) {
    throw new LegiondError('ERR_STATE_CONSUMED', 'this state was already stepped: pass the newest state');
  }
  let floor = Number.POSITIVE_INFINITY;
  let earliestDirect = now;
  let index = 0;
  for (const p of peers.values()) {
    const t = heardAt(p.uuid, index++);
    if (t > p.lastDirectMs && t <= now) p.lastDirectMs = t;
    if (p.lastDirectMs < earliestDirect) earliestDirect = p.lastDirectMs;
    const live = p.lastDirectMs > p.attestedMs ? p.lastDirectMs : p.attestedMs;
    if (live < floor) floor = live;
  }
  // every member was visited, so the floor can be exact (a tighter floor means fewer early ticks)
  peers.setLivenessFloor(floor);
  peers.heardInBulk();
  const params = state.params;
  return earliestDirect + Math.min(leaseMs(params), params.toleranceMs);
}
