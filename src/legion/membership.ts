/**
 * Who is alive. A peer exists only once heard directly (we need its name, valor and scroll);
 * others' attestations can then keep it alive across lost packets, never bring it back.
 */
import type { Announce } from '../protocol/types.js';
import { memberInfo, nodeEvent } from './events.js';
import { expiresAtMs, liveness } from './liveness.js';
import type { PeerRecord } from './state.js';
import { log, type Step } from './step.js';

/** how soon, as a fraction of the interval, a node announces after hearing a new member */
export const GREET_FRACTION = 0.1;

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
  const rec: PeerRecord = {
    uuid: a.uuid,
    name: a.name,
    valor: a.valor,
    epoch: a.epoch,
    vote: a.vote,
    flags: { ...a.flags },
    scroll: a.scroll,
    viewDigest: a.viewDigest,
    firstHeardMs: old ? old.firstHeardMs : now,
    lastDirectMs: now,
    attestedMs: old ? old.attestedMs : Number.NEGATIVE_INFINITY,
  };
  s.peers.set(a.uuid, rec);
  if (!old) {
    log(st, 'info', 'member joined', { uuid: a.uuid, name: a.name, valor: a.valor.toString() });
    nodeEvent(st, 'node-joined', memberInfo(rec));
    // a newcomer must hear a sitting lord before its startup grace ends: answer soon, but
    // coalesced, so a legion starting all at once does not answer every join separately
    s.nextAnnounceMs = Math.min(s.nextAnnounceMs, now + s.params.intervalMs * GREET_FRACTION);
  }
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
    // only news matters: most attestations are older than what we heard ourselves, and a
    // record copied per attestation made garbage collection the main cost at N = 50
    if (heard > p.attestedMs && heard > p.lastDirectMs) peers.set(uuid, { ...p, attestedMs: heard });
  }
}

export function expirePeers(st: Step): void {
  const { s, now } = st;
  for (const p of [...s.peers.values()]) {
    if (now <= expiresAtMs(st, p)) continue;
    s.peers.delete(p.uuid);
    log(st, 'info', 'member left', {
      uuid: p.uuid,
      name: p.name,
      reason: 'timeout',
      silentMs: now - liveness(p),
    });
    nodeEvent(st, 'node-left', memberInfo(p), 'timeout');
  }
}
