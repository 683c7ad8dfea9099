import { MAX_ATTESTATIONS } from './announce.js';
import { sameBytes } from './bytes.js';
import { leaseMs } from './liveness.js';
import { offerFresh } from './peer-table.js';
import type { NativeState, PeerRecord } from './state.js';
import type { FoldedHeartbeats } from './types.js';

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
 * remember what it found there. Edits the table in place, like a step.
 */
export function noteHeard(
  state: NativeState,
  heardAt: (uuid: string, index: number) => number,
  now: number,
): number {
  const peers = state.peers;
  const me = state.params.uuid;
  // most nodes are followers: no vote to compare (a uuid read from a record out of cache)
  const votedFor = peers.tally.get(me) > 0;
  let floor = Number.POSITIVE_INFINITY;
  let earliestDirect = now;
  let earliestVoter = Number.POSITIVE_INFINITY;
  // the freshest members, gathered in the same pass: the next announce attests them, and a scan
  // of its own there cost as much again as this one
  const top: PeerRecord[] = [];
  const k = MAX_ATTESTATIONS;
  let index = 0;
  for (const p of peers.values()) {
    const t = heardAt(p.uuid, index++);
    if (t > p.lastDirectMs && t <= now) p.lastDirectMs = t;
    const direct = p.lastDirectMs;
    if (direct < earliestDirect) earliestDirect = direct;
    if (votedFor && direct < earliestVoter && p.vote === me) earliestVoter = direct;
    // liveness is at least the direct hearing: only then can the attested time lower the floor
    if (direct < floor) {
      const live = direct > p.attestedMs ? direct : p.attestedMs;
      if (live < floor) floor = live;
    }
    offerFresh(top, p, k);
  }
  // every member was visited, so the floor can be exact (a tighter floor means fewer early ticks)
  peers.setLivenessFloor(floor);
  peers.heardInBulk(top, k);
  const params = state.params;
  const tolerance = params.toleranceMs;
  return Math.min(earliestDirect + tolerance, earliestVoter + Math.min(leaseMs(params), tolerance));
}

/**
 * The refresh due after a step on `packet`: a packet that votes for this node and was not folded
 * leaves its sender's vote fresh for a lease from `now`, after which heartbeats not yet taken
 * would count (see the header).
 */
export function heardDueAfter(state: NativeState, due: number, packet: Announced, now: number): number {
  if (packet.vote !== state.params.uuid) return due;
  return Math.min(due, now + Math.min(leaseMs(state.params), state.params.toleranceMs));
}

/**
 * The native core's bulk refresh as a capability (types.ts, FoldedHeartbeats): a shell that folds
 * heartbeats runs `{ ...nativeMachine, ...nativeHeartbeats }`.
 */
export const nativeHeartbeats: FoldedHeartbeats<NativeState, Announced> = { noteHeard, heardDueAfter };
