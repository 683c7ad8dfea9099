/**
 * Who is alive. A peer exists only once heard directly (we need its name, valor and scroll);
 * others' attestations can then keep it alive across lost packets, never bring it back. Joins,
 * leaves (death announces and timeouts), attestations and heartbeats taken in bulk.
 */

import type { Announce } from '../protocol/types.js';
import { announceSoon, MAX_ATTESTATIONS, sameAnnounced, sameBytes } from './announce.js';
import { nodeEvent, scrollChanged } from './events.js';
import { leaseMs, liveness, offerFresh } from './peers.js';
import { log, memberInfo, type NativeState, type Step } from './state.js';
import type { Announced, FoldedHeartbeats, PeerRecord } from './types.js';

/** When the peer counts as dead: a stall of our own postpones it (see checkStall in lordship.ts). */
export function expiresAtMs(st: Step, p: PeerRecord): number {
  return Math.max(liveness(p), st.s.stallWakeMs) + st.s.params.toleranceMs;
}

export function receivePeer(st: Step, a: Announce): void {
  const { s, now } = st;
  const old = s.peers.get(a.uuid);
  if (a.flags.dead) {
    // Repeats of a death announce, or one for a peer we never knew, change nothing.
    if (!old) return;
    s.peers.delete(a.uuid);
    log(st, 'info', 'member left', { uuid: a.uuid, name: old.name, reason: 'death' });
    nodeEvent(st, 'node-left', memberInfo(old), 'death');
    return;
  }
  if (old !== undefined) {
    if (sameAnnounced(old, a)) {
      // timing only: every summary the table keeps stays true when liveness moves later
      old.lastDirectMs = now;
      s.peers.heardDirectly(old);
    } else {
      // compared only when the announce has news: a heartbeat costs nothing more
      const newScroll = !sameBytes(old.scroll, a.scroll);
      s.peers.revise(old, a, now);
      if (newScroll) scrollChanged(st, memberInfo(old));
    }
    attest(st, a);
    return;
  }
  const rec: PeerRecord = {
    uuid: a.uuid,
    name: a.name,
    valor: a.valor,
    epoch: a.epoch,
    vote: a.vote,
    flags: a.flags,
    scroll: a.scroll,
    viewDigest: a.viewDigest,
    firstHeardMs: now,
    lastDirectMs: now,
    attestedMs: Number.NEGATIVE_INFINITY,
  };
  s.peers.set(a.uuid, rec);
  log(st, 'info', 'member joined', { uuid: a.uuid, name: a.name, valor: a.valor.toString() });
  nodeEvent(st, 'node-joined', memberInfo(rec));
  // a newcomer must hear the sitting lord before its startup grace ends, so the lord answers
  // soon (coalesced); the others' periodic announces reach it within an interval, which is
  // shorter than the grace. Were everyone to answer, one restart in a legion of N would make
  // N announces, N·(N-1) packets, at once.
  if (st.s.lord) announceSoon(st);
  attest(st, a);
}

/** The sender is live (we just heard it), so what it heard directly refreshes our estimates. */
function attest(st: Step, a: Announce): void {
  const { s, now } = st;
  const self = s.params.uuid;
  const peers = s.peers;
  const seen = a.seen;
  for (let i = 0; i < seen.length; i++) {
    const { uuid, agoMs } = seen[i]!;
    const p = peers.get(uuid);
    if (p === undefined || uuid === a.uuid || uuid === self) continue;
    const heard = now - (agoMs > 0 ? agoMs : 0);
    // only news matters: most attestations are older than what we heard ourselves
    if (heard > p.attestedMs && heard > p.lastDirectMs) p.attestedMs = heard;
  }
}

/**
 * Drops members silent for the tolerance. Between scans the table's liveness floor says that no
 * one can have expired yet, so most steps skip the scan; a scan resets the floor to the exact
 * minimum of the members that stay.
 */
export function expirePeers(st: Step): void {
  const { s, now } = st;
  const peers = s.peers;
  const slack = Math.max(peers.livenessFloor, s.stallWakeMs) + s.params.toleranceMs;
  if (now <= slack) return;
  let floor = Number.POSITIVE_INFINITY;
  for (const p of [...peers.values()]) {
    if (now <= expiresAtMs(st, p)) {
      const live = liveness(p);
      if (live < floor) floor = live;
      continue;
    }
    peers.delete(p.uuid);
    log(st, 'info', 'member left', {
      uuid: p.uuid,
      name: p.name,
      reason: 'timeout',
      silentMs: now - liveness(p),
    });
    nodeEvent(st, 'node-left', memberInfo(p), 'timeout');
  }
  peers.setLivenessFloor(floor);
}

// Folded heartbeats (types.ts, FoldedHeartbeats): many members refreshed at once.

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
