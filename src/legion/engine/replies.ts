/** The engine's answers: what each success and failure does to the state. */
import { eligible, takeSnapshot } from './election.js';
import { afterRelease, beginRelease, die } from './release.js';
import type { EngineReply, EngineState, ReplyValue, RequestKind } from './types.js';
import { type EStep, emit, log, requestTimeoutOf, ttlOf } from './view.js';

function reachable(st: EStep): void {
  const { s, now } = st;
  if (s.reachable) return;
  s.reachable = true;
  log(st, 'info', 'engine reachable again', { unreachableMs: now - (s.unreachableSinceMs ?? now) });
  s.unreachableSinceMs = null;
  s.lastError = null;
}

function unreachable(st: EStep, kind: RequestKind, error: string): void {
  const { s, now } = st;
  s.lastError = `${kind}: ${error}`;
  if (!s.reachable) return;
  s.reachable = false;
  s.unreachableSinceMs = now;
  log(
    st,
    'warn',
    `engine unreachable (${kind}: ${error}): no lord is known${s.lord ? '; this lord steps down unless it renews in time' : ''}`,
    {
      request: kind,
      error,
    },
  );
}

/** how soon a failed request of this kind is tried again */
export function retryMs(s: EngineState): number {
  return ttlOf(s) / 10;
}

function onFailure(st: EStep, kind: RequestKind, error: string): void {
  const { s, now } = st;
  unreachable(st, kind, error);
  switch (kind) {
    case 'register':
      s.lastRegisterMs = now - ttlOf(s) / 3 + retryMs(s);
      return;
    case 'snapshot':
      s.snapshotSentMs = now - ttlOf(s) / 2 + retryMs(s);
      return;
    case 'renew':
      s.renewFailed = true;
      return;
    case 'release':
      // the title goes with the lease at worst; the fence has stopped the work by then
      afterRelease(st);
      return;
    case 'unregister':
      die(st);
      return;
    case 'acquire':
      return;
  }
}

function onSuccess(st: EStep, v: ReplyValue, sentAtMs: number): void {
  const { s, now } = st;
  reachable(st);
  switch (v.kind) {
    case 'register':
      s.everRegistered = true;
      if (!s.joined) {
        s.joined = true;
        emit(st, 'join');
      }
      return;
    case 'snapshot':
      s.snapshotAtMs = now;
      takeSnapshot(st, v.snapshot, sentAtMs);
      return;
    case 'acquire':
      s.snapshotDirty = true;
      if (!v.result.ok) {
        if (v.result.holder) s.lastHolder = v.result.holder;
        return;
      }
      if (v.result.epoch <= s.maxEpoch)
        log(st, 'error', "the engine's token did not increase (was its data reset?)", {
          epoch: v.result.epoch.toString(),
          highest: s.maxEpoch.toString(),
        });
      else s.maxEpoch = v.result.epoch;
      s.holding = true;
      s.lordEpoch = v.result.epoch;
      s.leaseSentMs = sentAtMs;
      s.lastRenewMs = sentAtMs;
      s.renewFailed = false;
      s.lastHolder = { uuid: s.params.uuid, epoch: v.result.epoch };
      if (s.release !== null || !eligible(s, now)) {
        // asked before a shutdown or stepdown began: the release under way gives it back
        log(st, 'info', 'granted the title while leaving; giving it back', {
          epoch: v.result.epoch.toString(),
        });
        if (s.release === null) beginRelease(st, 'stepdown', 'stepdown');
        return;
      }
      s.lord = true;
      s.lordEventAtMs = now + s.params.lordDelayMs;
      log(st, 'info', 'became lord', { epoch: v.result.epoch.toString() });
      return;
    case 'renew':
      if (!s.holding) return;
      if (v.held) {
        s.leaseSentMs = Math.max(s.leaseSentMs, sentAtMs);
        s.renewFailed = false;
        return;
      }
      s.holding = false;
      s.snapshotDirty = true;
      log(st, 'warn', 'the engine no longer holds the title for this node', {
        epoch: s.lordEpoch.toString(),
      });
      if (s.lord) beginRelease(st, 'stepdown', 'lost');
      return;
    case 'release':
      s.snapshotDirty = true;
      afterRelease(st);
      return;
    case 'unregister':
      die(st);
      return;
  }
}

export function onReply(st: EStep, r: EngineReply): void {
  const { s } = st;
  if (r.dir === 'changed') {
    s.snapshotDirty = true;
    return;
  }
  const kind = r.ok ? r.value.kind : r.kind;
  const p = s.pending.get(kind);
  if (!p || p.id !== r.id) return; // superseded or timed out already
  s.pending.delete(kind);
  if (r.ok) onSuccess(st, r.value, p.sentAtMs);
  else onFailure(st, kind, r.error);
}

export function expirePending(st: EStep): void {
  const { s, now } = st;
  const limit = requestTimeoutOf(s);
  for (const [kind, p] of [...s.pending]) {
    if (now < p.sentAtMs + limit) continue;
    s.pending.delete(kind);
    onFailure(st, kind, `no answer within ${limit} ms`);
  }
}
