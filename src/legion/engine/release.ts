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

/** after the hooks (and the workload) are done: the next stage of the release */
export function afterHooks(st: EStep): void {
  const { s, now } = st;
  const r = s.release;
  if (r === null) return;
  if (s.holding) {
    // stand down first, so that peers that see the title gone know the work under it stopped
    r.stage = 'standdown';
    const me = selfCandidate(s, now);
    s.registered = me;
    s.lastRegisterMs = now;
    send(st, { kind: 'register', me, ttlMs: ttlOf(s) });
  } else afterRelease(st);
}

export function releaseTitle(st: EStep): void {
  const { s } = st;
  if (s.release === null) return;
  s.release.stage = 'release';
  send(st, { kind: 'release', uuid: s.params.uuid, epoch: s.lordEpoch });
}

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
