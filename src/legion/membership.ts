/**
 * Who is alive. A peer exists only once heard directly (we need its name, valor and scroll);
 * others' attestations can then keep it alive across lost packets, never bring it back.
 */
import type { Announce } from '../protocol/types.js';
import { announceSoon } from './announce.js';
import { memberInfo, nodeEvent } from './events.js';
import { sameAnnounced } from './heard.js';
import { expiresAtMs, liveness } from './liveness.js';
import type { PeerRecord } from './state.js';
import { log, type Step } from './step.js';

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
      s.peers.revise(old, a, now);
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
