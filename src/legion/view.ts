/** What `legionctl status` shows, computed at `ctx.now` without changing the state. */
import { lordInfo, membersSnapshot } from './events.js';
import { expiresAtMs } from './liveness.js';
import { quorumAgrees, votesForSelf } from './quorum.js';
import { isDraining } from './self.js';
import type { NativeState } from './state.js';
import { beginStep } from './step.js';
import type { Ctx, LegionView } from './types.js';

export function nativeView(state: NativeState, ctx: Ctx): LegionView {
  const st = beginStep(state, ctx.now, ctx.rand);
  // Peers that expired since the last step are gone already, even if no tick has removed them.
  for (const p of [...st.s.peers.values()]) if (ctx.now > expiresAtMs(st, p)) st.s.peers.delete(p.uuid);
  const members = membersSnapshot(st);
  const self = members.find((m) => m.self)!;
  const draining = isDraining(st);
  return {
    legion: state.params.legion,
    self,
    lord: lordInfo(st, members),
    epoch: state.maxEpoch,
    quorum: state.params.quorum,
    quorumMet: quorumAgrees(st),
    votes: votesForSelf(st),
    valor: state.params.valor,
    draining,
    drainingUntilMs: draining ? state.drainingUntilMs : null,
    members,
    phase: state.phase,
  };
}
