/** Giving the title up, in the order EngineRelease describes. */
import { selfCandidate, send } from './election.js';
import { type EStep, emit, log, ttlOf } from './view.js';

/** Gives the title up: unlord hooks and the workload's stop first, then the engine (see EngineRelease). */
export function beginRelease(st: EStep, kind: 'stepdown' | 'shutdown', reason: string): void {
  const { s } = st;
  if (s.release !== null) {
    if (kind === 'shutdown') s.release = { ...s.release, kind };
    return;
  }
  if (s.lord) {
    s.lord = false;
    log(st, 'info', 'stepped down', { reason, epoch: s.lordEpoch.toString() });
    if (s.lordEventSent) emit(st, 'unlord', { reason });
  }
  s.lordEventAtMs = null;
  s.lordEventSent = false;
  s.betterSinceMs = null;
  s.release = { kind, reason, stage: 'hooks' };
  s.phase = 'releasing';
  st.effects.push({ type: 'await-hooks' });
}

/**
 * After the hooks (and the workload) are done: stand down, give the title back and, leaving,
 * unregister, all at once. The work under the title has stopped, so the order in which the
 * engine applies these does not matter: a peer that sees the title gone while this node still
 * stands only waits until it sees the stand-down.
 */
export function afterHooks(st: EStep): void {
  const { s, now } = st;
  const r = s.release;
  if (r === null) return;
  if (s.holding) {
    // not standing: a release is under way (selfCandidate)
    const me = selfCandidate(s, now);
    s.registered = me;
    s.lastRegisterMs = now;
    send(st, { kind: 'register', me, ttlMs: ttlOf(s) });
    send(st, { kind: 'release', uuid: s.params.uuid, epoch: s.lordEpoch });
    r.stage = 'release';
  }
  if (r.kind === 'shutdown') {
    r.stage = 'unregister';
    send(st, { kind: 'unregister', uuid: s.params.uuid });
    return;
  }
  if (!s.holding) afterRelease(st);
}

/** the release answered (or failed): the title is no longer this node's to vouch for */
export function afterRelease(st: EStep): void {
  const { s, now } = st;
  const r = s.release;
  if (r === null) return;
  if (s.holding) {
    s.holding = false;
    s.releasedEpoch = s.lordEpoch;
    // others must see this node stand aside until one of them holds the title
    s.heldBackUntilMs = now + ttlOf(s);
  }
  // leaving: the unregister's answer ends it
  if (r.stage === 'unregister') return;
  if (r.kind === 'shutdown') {
    r.stage = 'unregister';
    send(st, { kind: 'unregister', uuid: s.params.uuid });
    return;
  }
  s.release = null;
  s.phase = 'running';
  s.registerDirty = true;
  log(st, 'info', 'released lordship', { reason: r.reason });
}

export function die(st: EStep): void {
  const { s } = st;
  s.phase = 'dead';
  s.release = null;
  s.pending.clear();
  emit(st, 'death');
  st.effects.push({ type: 'stopped' });
}
