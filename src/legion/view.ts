/** What `legionctl status` shows, computed at `ctx.now` without changing the state. */
import { lordInfo, membersSnapshot } from './events.js';
import { expiresAtMs } from './liveness.js';
import { PeerTable } from './peer-table.js';
import { quorumAgrees, votesForSelf } from './quorum.js';
import { isDraining } from './self.js';
import type { NativeState } from './state.js';
import type { Step } from './step.js';
import type { Ctx, LegionView } from './types.js';

export function nativeView(state: NativeState, ctx: Ctx): LegionView {
  // A working copy with its own table: the view must leave the state's table untouched.
  const peers = new PeerTable();
  const st: Step = { s: { ...state, peers }, now: ctx.now, rand: ctx.rand, effects: [] };
  // Peers that expired since the last step are gone already, even if no tick has removed them.
  for (const p of state.peers.values()) if (ctx.now <= expiresAtMs(st, p)) peers.set(p.uuid, p);
  const members = membersSnapshot(st);
  const self = members.find((m) => m.self)!;
  const draining = isDraining(st);
  return {
    legion: state.params.legion,
    self,
    lord: lordInfo(st),
    epoch: state.maxEpoch,
    quorum: state.params.quorum,
    quorumMet: quorumAgrees(st),
    votes: votesForSelf(st),
    baseValor: state.baseValor,
    valor: state.params.valor,
    draining,
    drainingUntilMs: draining ? state.drainingUntilMs : null,
    members,
    phase: state.phase,
  };
}
