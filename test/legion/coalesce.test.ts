/**
 * Which changes go out at once and which wait for the next periodic announce: a legion starting
 * all at once must not announce at every better candidate and every burned epoch, but an
 * acknowledgement and anything after the startup grace must not wait (failover speed).
 */
import { describe, expect, it } from 'vitest';
import { announce, Node, params, sendsOf, uuidOf } from './helpers.js';

const SELF = uuidOf(1);
const A = uuidOf(2);
const B = uuidOf(3);
const C = uuidOf(4);
const D = uuidOf(5);

// params(): interval 100 ms without jitter, so the periodic announces go out at 0, 100, 200 …
// and the startup grace lasts 150 ms
const PERIODIC_MS = 100;

describe('announce coalescing', () => {
  it('during the startup grace, vote changes wait for the periodic announce, which has the latest vote', () => {
    const n = new Node(params({ valor: 1n }));
    n.start();
    n.advance(20);
    // three ever better candidates within a few ms: three vote changes
    expect(sendsOf(n.packet(announce(A, { valor: 5n })))).toEqual([]);
    n.advance(1);
    expect(sendsOf(n.packet(announce(B, { valor: 6n })))).toEqual([]);
    n.advance(1);
    expect(sendsOf(n.packet(announce(C, { valor: 7n })))).toEqual([]);
    expect(n.state.vote).toBe(C);
    expect(sendsOf(n.advanceTo(PERIODIC_MS - 1))).toEqual([]);
    const sent = sendsOf(n.advanceTo(PERIODIC_MS));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.vote).toBe(C);
  });

  it('with a quorum, leaving a vote that never went out burns no epoch', () => {
    const n = new Node(params({ valor: 1n, quorum: 2 }));
    n.start(); // announces a vote for itself
    n.advance(10);
    n.packet(announce(A, { valor: 5n })); // leaves its own announced vote: burns
    expect(n.state.maxEpoch).toBe(1n);
    n.packet(announce(B, { valor: 6n })); // leaves A, never announced
    n.packet(announce(C, { valor: 7n }));
    expect(n.state.maxEpoch).toBe(1n);
    expect(sendsOf(n.advanceTo(PERIODIC_MS)).map((a) => [a.vote, a.epoch])).toEqual([[C, 1n]]);
    // C went out: leaving it now burns
    n.packet(announce(D, { valor: 8n }));
    expect(n.state.maxEpoch).toBe(2n);
  });

  it('a change that waits goes out at the end of the grace at the latest', () => {
    const n = new Node(params({ valor: 1n }));
    n.start();
    n.advanceTo(120);
    expect(sendsOf(n.packet(announce(A, { valor: 5n })))).toEqual([]);
    // the next periodic announce would be at 200, after the grace (150): the grace's end sends it
    expect(sendsOf(n.advanceTo(149))).toEqual([]);
    expect(sendsOf(n.advanceTo(150)).map((a) => a.vote)).toEqual([A]);
  });

  it('after the startup grace, a vote change goes out at once', () => {
    const n = new Node(params({ valor: 1n }));
    n.start();
    n.packet(announce(A, { valor: 5n }));
    n.advanceTo(200);
    const sent = sendsOf(n.packet(announce(B, { valor: 6n })));
    expect(sent.map((a) => a.vote)).toEqual([B]);
  });

  it('with a quorum, during the grace an epoch that acknowledges nobody waits; an acknowledgement does not', () => {
    const n = new Node(params({ valor: 1n, quorum: 2 }));
    n.start();
    n.packet(announce(A, { valor: 5n, vote: A, epoch: 0n }));
    n.advanceTo(50);
    // B, voting for A too, knows a higher epoch (burned elsewhere): learning it is no acknowledgement
    const learned = n.packet(announce(B, { valor: 2n, vote: A, epoch: 3n }));
    expect(n.state.maxEpoch).toBe(3n);
    expect(sendsOf(learned)).toEqual([]);
    expect(sendsOf(n.advanceTo(PERIODIC_MS)).map((a) => a.epoch)).toEqual([3n]);
    // A proposes epoch 4: echoing it is the acknowledgement A waits for, so it goes out at once
    const ack = n.packet(announce(A, { valor: 5n, vote: A, epoch: 4n }));
    expect(sendsOf(ack).map((a) => [a.vote, a.epoch])).toEqual([[A, 4n]]);
  });

  it('with a quorum, after the grace an epoch that acknowledges nobody waits; a vote change and an acknowledgement do not', () => {
    const n = new Node(params({ valor: 1n, quorum: 2 }));
    n.start();
    n.packet(announce(A, { valor: 5n, vote: A, epoch: 0n }));
    n.advanceTo(310);
    // B, voting for A too, burned an epoch elsewhere; B announced it already, A hears it from B
    expect(sendsOf(n.packet(announce(B, { valor: 2n, vote: A, epoch: 3n })))).toEqual([]);
    expect(n.state.maxEpoch).toBe(3n);
    expect(sendsOf(n.advanceTo(399))).toEqual([]);
    expect(sendsOf(n.advanceTo(400)).map((a) => a.epoch)).toEqual([3n]);
    // A proposes epoch 4: the acknowledgement goes out at once
    expect(sendsOf(n.packet(announce(A, { valor: 5n, vote: A, epoch: 4n }))).map((a) => a.epoch)).toEqual([
      4n,
    ]);
    // a better candidate: once A moves to it (the vote for A is a promise until then), the vote
    // change goes out at once (with the epoch it burns)
    expect(sendsOf(n.packet(announce(C, { valor: 9n, epoch: 4n })))).toEqual([]);
    const moved = sendsOf(n.packet(announce(A, { valor: 5n, vote: C, epoch: 4n })));
    expect(moved.map((a) => [a.vote, a.epoch])).toEqual([[C, 5n]]);
  });

  it("a candidate's proposal goes out at once", () => {
    const n = new Node(params({ quorum: 2 }));
    n.start();
    n.advanceTo(200);
    const fx = n.packet(announce(A, { valor: 1n, vote: SELF, epoch: 0n }));
    expect(n.state.proposedEpoch).toBe(1n);
    expect(sendsOf(fx).map((a) => a.epoch)).toEqual([1n]);
  });
});
