import { describe, expect, it } from 'vitest';
import { makeKeyRing } from '../../src/protocol/crypto.js';
import { NativeDecoder, NativeEncoder } from '../../src/protocol/native.js';
import { codeOf, sampleAnnounce } from './arbitraries.js';

const T = 1_700_000_000_000;
const legion = 'auth';
const te = new TextEncoder();
const oldSecret = te.encode('old secret');
const newSecret = te.encode('new secret');
const otherSecret = te.encode('someone else');

function encoder(keys: ReturnType<typeof makeKeyRing> | null, at = T, l = legion) {
  return new NativeEncoder({ legion: l, keys, wallClock: () => at });
}

describe('authentication', () => {
  it('a packet sealed with a key the receiver does not accept is ERR_AUTH', () => {
    const dec = new NativeDecoder({ legion, keys: makeKeyRing([oldSecret], legion) });
    const p = encoder(makeKeyRing([otherSecret], legion)).encode(sampleAnnounce(legion));
    expect(codeOf(() => dec.decode(p, T))).toBe('ERR_AUTH');
  });

  it('same secret but another legion derives another key: ERR_AUTH', () => {
    const dec = new NativeDecoder({ legion, keys: makeKeyRing([oldSecret], legion) });
    const p = encoder(makeKeyRing([oldSecret], 'other'), T, 'other').encode(sampleAnnounce('other'));
    expect(codeOf(() => dec.decode(p, T))).toBe('ERR_AUTH');
  });

  it('a key holder of this legion naming another legion in the body is ERR_WRONG_LEGION', () => {
    // keys derived for `legion`, body for 'other': only possible for someone holding our key
    const keys = makeKeyRing([oldSecret], legion);
    const p = encoder(keys, T, 'other').encode(sampleAnnounce('other'));
    expect(codeOf(() => new NativeDecoder({ legion, keys }).decode(p, T))).toBe('ERR_WRONG_LEGION');
  });

  it('plaintext for another legion is ERR_WRONG_LEGION', () => {
    const p = encoder(null, T, 'other').encode(sampleAnnounce('other'));
    expect(codeOf(() => new NativeDecoder({ legion, keys: null }).decode(p, T))).toBe('ERR_WRONG_LEGION');
  });

  it('the encoder refuses an announce for a legion it was not made for', () => {
    expect(codeOf(() => encoder(null).encode(sampleAnnounce('other')))).toBe('ERR_WRONG_LEGION');
  });

  it('insecure decoder refuses keyed packets and keyed decoder refuses plaintext', () => {
    const keys = makeKeyRing([oldSecret], legion);
    const keyed = encoder(keys).encode(sampleAnnounce(legion));
    const plain = encoder(null).encode(sampleAnnounce(legion));
    expect(codeOf(() => new NativeDecoder({ legion, keys: null }).decode(keyed, T))).toBe('ERR_AUTH');
    expect(codeOf(() => new NativeDecoder({ legion, keys }).decode(plain, T))).toBe('ERR_AUTH');
  });

  it('rotation: a ring accepting old and new takes both; a sender on the new key reaches old+new receivers', () => {
    const rotating = makeKeyRing([newSecret, oldSecret], legion);
    const dec = new NativeDecoder({ legion, keys: rotating });
    const fromOld = encoder(makeKeyRing([oldSecret], legion)).encode(sampleAnnounce(legion));
    const fromNew = encoder(makeKeyRing([newSecret], legion)).encode(
      sampleAnnounce(legion, { uuid: '22222222-0000-0000-0000-000000000000' }),
    );
    const fromOther = encoder(makeKeyRing([otherSecret], legion)).encode(
      sampleAnnounce(legion, { uuid: '33333333-0000-0000-0000-000000000000' }),
    );
    expect(dec.decode(fromOld, T).announce.uuid).toBe('0123abcd-4567-89ef-0123-456789abcdef');
    expect(dec.decode(fromNew, T).announce.uuid).toBe('22222222-0000-0000-0000-000000000000');
    expect(codeOf(() => dec.decode(fromOther, T))).toBe('ERR_AUTH');
    // the rotating node sends with its first secret, which an old-only receiver does not accept
    const sent = encoder(rotating).encode(
      sampleAnnounce(legion, { uuid: '44444444-0000-0000-0000-000000000000' }),
    );
    expect(
      codeOf(() => new NativeDecoder({ legion, keys: makeKeyRing([oldSecret], legion) }).decode(sent, T)),
    ).toBe('ERR_AUTH');
    expect(
      new NativeDecoder({ legion, keys: makeKeyRing([newSecret], legion) }).decode(sent, T).envelope.seq,
    ).toBe(1n);
  });
});

describe('replay', () => {
  for (const keyed of [false, true]) {
    const keys = keyed ? makeKeyRing([oldSecret], legion) : null;
    const mode = keyed ? 'keyed' : 'insecure';

    it(`${mode}: the same bytes twice are ERR_REPLAY, and so is an older seq`, () => {
      const enc = encoder(keys);
      const dec = new NativeDecoder({ legion, keys });
      const p1 = enc.encode(sampleAnnounce(legion));
      const p2 = enc.encode(sampleAnnounce(legion));
      const p3 = enc.encode(sampleAnnounce(legion));
      expect(dec.decode(p2, T).envelope.seq).toBe(2n);
      expect(codeOf(() => dec.decode(p2, T))).toBe('ERR_REPLAY');
      expect(codeOf(() => dec.decode(p1, T))).toBe('ERR_REPLAY');
      expect(dec.decode(p3, T).envelope.seq).toBe(3n);
    });

    it(`${mode}: an unknown sender outside the window is ERR_REPLAY, inside it is accepted`, () => {
      const window = 30_000;
      const p = encoder(keys, T).encode(sampleAnnounce(legion));
      for (const now of [T - window - 1, T + window + 1]) {
        expect(codeOf(() => new NativeDecoder({ legion, keys }).decode(p, now))).toBe('ERR_REPLAY');
      }
      for (const now of [T - window, T + window]) {
        expect(new NativeDecoder({ legion, keys }).decode(p, now).envelope.sentAtMs).toBe(T);
      }
      const narrow = new NativeDecoder({ legion, keys, replayWindowMs: 100 });
      expect(codeOf(() => narrow.decode(p, T + 101))).toBe('ERR_REPLAY');
    });

    it(`${mode}: a known sender is judged by seq alone, whatever its clock says`, () => {
      const dec = new NativeDecoder({ legion, keys });
      dec.decode(encoder(keys, T).encode(sampleAnnounce(legion)), T);
      let clock = T - 3_600_000;
      const enc = new NativeEncoder({ legion, keys, wallClock: () => clock });
      enc.encode(sampleAnnounce(legion)); // seq 1: already seen from this uuid
      clock = T + 3_600_000;
      expect(dec.decode(enc.encode(sampleAnnounce(legion)), T).envelope.seq).toBe(2n);
    });
  }

  it('a packet refused for authentication does not move the guard', () => {
    const keys = makeKeyRing([oldSecret], legion);
    const dec = new NativeDecoder({ legion, keys });
    const forged = encoder(makeKeyRing([otherSecret], legion)).encode(sampleAnnounce(legion));
    expect(codeOf(() => dec.decode(forged, T))).toBe('ERR_AUTH');
    expect(dec.replay.size).toBe(0);
    expect(dec.decode(encoder(keys).encode(sampleAnnounce(legion)), T).envelope.seq).toBe(1n);
  });

  it('senders beyond maxSenders evict the least recently heard, which then needs the window again', () => {
    const dec = new NativeDecoder({ legion, keys: null, maxSenders: 2 });
    const uuid = (i: number) => `0000000${i}-0000-0000-0000-000000000000`;
    const encs = [1, 2, 3].map(() => encoder(null));
    const first = encs.map((e, i) => e.encode(sampleAnnounce(legion, { uuid: uuid(i + 1) })));
    dec.decode(first[0]!, T);
    dec.decode(first[1]!, T);
    dec.decode(first[2]!, T); // evicts sender 1
    expect(dec.replay.size).toBe(2);
    expect(dec.replay.last(uuid(1))).toBeUndefined();
    // an evicted sender's old packet comes back as "unknown": accepted within the window only
    expect(codeOf(() => dec.decode(first[0]!, T + 30_001))).toBe('ERR_REPLAY');
    expect(dec.decode(first[0]!, T).envelope.seq).toBe(1n);
    // sender 2 was then the oldest and is gone; sender 3 is still tracked
    expect(codeOf(() => dec.decode(first[2]!, T))).toBe('ERR_REPLAY');
    expect(dec.replay.last(uuid(2))).toBeUndefined();
  });

  it('a sender heard again is fresh; one too many drops the stalest sixteenth at once', () => {
    const dec = new NativeDecoder({ legion, keys: null, maxSenders: 32 });
    const uuid = (i: number) => `${String(i).padStart(8, '0')}-0000-0000-0000-000000000000`;
    const encs = Array.from({ length: 34 }, () => encoder(null));
    const send = (i: number) => dec.decode(encs[i]!.encode(sampleAnnounce(legion, { uuid: uuid(i) })), T);
    for (let i = 1; i <= 32; i++) send(i);
    send(1); // heard again: now the freshest
    send(33); // one too many: the two stalest (2 and 3) go
    expect(dec.replay.size).toBe(31);
    expect(dec.replay.last(uuid(1))).toBe(2n);
    expect(dec.replay.last(uuid(2))).toBeUndefined();
    expect(dec.replay.last(uuid(3))).toBeUndefined();
    expect(dec.replay.last(uuid(4))).toBe(1n);
    expect(dec.replay.last(uuid(33))).toBe(1n);
  });

  it('UUIDs, votes and attestations decode to their values across many senders (shared strings, bounded)', () => {
    const dec = new NativeDecoder({ legion, keys: null, maxSenders: 2 });
    const uuid = (i: number) => `${String(i).padStart(8, '0')}-0000-0000-0000-000000000000`;
    // far more distinct UUIDs than the decoder keeps shared copies of (4 x maxSenders)
    for (let i = 1; i <= 40; i++) {
      const a = sampleAnnounce(legion, {
        uuid: uuid(i),
        vote: uuid(i + 1),
        seen: [{ uuid: uuid(i + 2), agoMs: 5 }],
      });
      const d = dec.decode(encoder(null).encode(a), T).announce;
      expect([d.uuid, d.vote, d.seen[0]!.uuid]).toEqual([uuid(i), uuid(i + 1), uuid(i + 2)]);
    }
  });
});
