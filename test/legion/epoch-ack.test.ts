/**
 * With a quorum the epoch is a unique fencing token: a lord takes it only once quorum voters
 * acknowledge it, a voter that switches burns the epoch it acknowledged, and a node restarted
 * under a new UUID does not vote twice.
 */
import { describe, expect, it } from 'vitest';
import { announce, eventsOf, Node, params, sendsOf, uuidOf } from './helpers.js';

const SELF = uuidOf(1);
const A = uuidOf(2);
const B = uuidOf(3);
const C = uuidOf(4);

describe('epoch acknowledgement (quorum > 1)', () => {
  it('proposes maxEpoch + 1 and takes the title only when a quorum announces that epoch', () => {
    const n = new Node(params({ quorum: 2, initialEpoch: 4n }));
    n.start();
    n.advanceTo(200);
    // A votes for us but has not seen the proposal yet: not enough
    n.packet(announce(A, { valor: 1n, vote: SELF, epoch: 4n }));
    expect(n.lord).toBe(false);
    expect(n.state.proposedEpoch).toBe(5n);
    const proposalSends = sendsOf(n.effects).filter((a) => a.epoch === 5n);
    expect(proposalSends.length).toBeGreaterThan(0);
    // A acknowledges the proposal: lord at exactly that epoch
    n.packet(announce(A, { valor: 1n, vote: SELF, epoch: 5n }));
    expect(n.lord).toBe(true);
    expect(eventsOf(n.effects, 'lord')[0]?.epoch).toBe(5n);
  });

  it('a voter echoes a higher epoch at once, acknowledging the proposal', () => {
    const n = new Node(params({ quorum: 2, valor: 1n }));
    n.start();
    n.advanceTo(200);
    n.packet(announce(A, { valor: 9n, vote: A, epoch: 0n }));
    const before = n.effects.length;
    n.packet(announce(A, { valor: 9n, vote: A, epoch: 7n }));
    const sent = sendsOf(n.effects.slice(before));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ vote: A, epoch: 7n });
  });

  it('a voter that moves its vote burns the epoch its old vote went out with', () => {
    const n = new Node(params({ quorum: 2, valor: 1n }));
    n.start();
    n.advanceTo(200);
    // its vote for itself went out at epoch 0, which A announces too: moving to A burns it
    n.packet(announce(A, { valor: 9n, vote: A, epoch: 0n }));
    expect(n.state.vote).toBe(A);
    expect(n.state.maxEpoch).toBe(1n);
    expect(sendsOf(n.effects).at(-1)).toMatchObject({ vote: A, epoch: 1n });
    // B outranks A at the epoch the vote for A went out with: an acknowledgement given A can no
    // longer count for B
    n.packet(announce(B, { valor: 20n, vote: B, epoch: 1n }));
    // the vote for A is a promise while A votes for itself; it moves when A does
    expect(n.state.vote).toBe(A);
    n.packet(announce(A, { valor: 9n, vote: B, epoch: 1n }));
    expect(n.state.vote).toBe(B);
    expect(n.state.maxEpoch).toBe(2n);
    expect(sendsOf(n.effects).at(-1)).toMatchObject({ vote: B, epoch: 2n });
  });

  it('a voter that meets a better candidate by its proposal acknowledges it without burning', () => {
    const n = new Node(params({ quorum: 2, valor: 1n }));
    n.start();
    n.advanceTo(200);
    n.packet(announce(A, { valor: 9n, vote: A, epoch: 0n }));
    expect(sendsOf(n.effects).at(-1)).toMatchObject({ vote: A, epoch: 1n });
    // C proposes epoch 5, above the one the vote for A went out with: the new vote goes out at
    // 5 and acknowledges C, where a burn to 6 would have made C propose again
    n.packet(announce(C, { valor: 30n, vote: C, epoch: 5n }));
    expect(n.state.vote).toBe(A);
    n.packet(announce(A, { valor: 9n, vote: C, epoch: 5n }));
    expect(n.state.vote).toBe(C);
    expect(n.state.maxEpoch).toBe(5n);
    expect(sendsOf(n.effects).at(-1)).toMatchObject({ vote: C, epoch: 5n });
  });

  it('does not burn epochs without a quorum (quorum 1 keeps epochs dense)', () => {
    const n = new Node(params({ valor: 1n }));
    n.start();
    n.advanceTo(200);
    n.packet(announce(A, { valor: 9n, vote: A, epoch: 3n }));
    n.packet(announce(B, { valor: 20n, vote: B, epoch: 3n }));
    expect(n.state.maxEpoch).toBe(3n);
  });

  it('counts a restarted node once while its old identity still looks fresh', () => {
    const n = new Node(params({ quorum: 3 }));
    n.start();
    n.advanceTo(200);
    const old = uuidOf(7);
    const reborn = uuidOf(8);
    const voters = () => {
      const e = n.state.maxEpoch;
      n.packet(announce(old, { name: 'host-4', valor: 1n, vote: SELF, epoch: e }));
      n.packet(announce(reborn, { name: 'host-4', valor: 1n, vote: SELF, epoch: e }));
    };
    voters();
    voters();
    expect(n.view().votes).toBe(2);
    expect(n.lord).toBe(false);
    // a third host makes the quorum; everyone then acknowledges the proposal
    n.packet(announce(A, { name: 'host-2', valor: 1n, vote: SELF, epoch: n.state.maxEpoch }));
    voters();
    n.packet(announce(A, { name: 'host-2', valor: 1n, vote: SELF, epoch: n.state.maxEpoch }));
    expect(n.lord).toBe(true);
    expect(n.view().votes).toBe(3);
  });
});
