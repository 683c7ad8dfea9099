/**
 * Seeded input generator for the native decoder fuzzers (bench/fuzz-decoder.ts and the npm test).
 * Deterministic: the same seed yields the same inputs, so a failure is reproducible.
 */
import { isLegiondError } from '../src/errors.js';
import { makeKeyRing } from '../src/protocol/crypto.js';
import { isProtocolErrorCode } from '../src/protocol/errors.js';
import { NativeDecoder, NativeEncoder } from '../src/protocol/native.js';
import type { Announce } from '../src/protocol/types.js';
import { uuidFromBytes } from '../src/protocol/uuid.js';

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** mulberry32 */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  bool(): boolean {
    return (this.u32() & 1) === 1;
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

const NAME_CHARS = ['a', 'z', '0', '-', 'é', 'ß', '中', '😀', ' ', '\u0000'];

function randomName(rng: Rng, maxBytes: number): string {
  let s = '';
  const enc = new TextEncoder();
  const want = rng.int(maxBytes + 1);
  while (true) {
    const next = s + rng.pick(NAME_CHARS);
    if (enc.encode(next).length > want) return s;
    s = next;
  }
}

export function randomUuid(rng: Rng): string {
  return uuidFromBytes(rng.bytes(16), 0);
}

export function randomAnnounce(rng: Rng, legion: string): Announce {
  const seen = Array.from({ length: rng.int(8) }, () => ({ uuid: randomUuid(rng), agoMs: rng.u32() }));
  return {
    legion,
    uuid: randomUuid(rng),
    name: randomName(rng, 64),
    valor: rng.pick([0n, 1n, (1n << 64n) - 1n, rng.u64()]),
    epoch: rng.u64(),
    vote: rng.bool() ? randomUuid(rng) : null,
    flags: { lord: rng.bool(), arbiter: rng.bool(), dead: rng.bool(), draining: rng.bool() },
    viewDigest: rng.u32(),
    scroll: rng.bytes(rng.pick([0, 1, 16, 200])),
    seen,
  };
}

/** Offsets of the length/count fields of a plaintext packet, so mutations can aim at them. */
export function lengthFieldOffsets(a: Announce): number[] {
  const enc = new TextEncoder();
  const legionLen = enc.encode(a.legion).length;
  const nameLen = enc.encode(a.name).length;
  const legionAt = 4 + 8 + 8;
  const nameAt = legionAt + 1 + legionLen + 16;
  const voteAt = nameAt + 1 + nameLen + 16;
  const flagsAt = voteAt + 1 + (a.vote === null ? 0 : 16);
  const scrollAt = flagsAt + 1 + 4;
  const seenAt = scrollAt + 2 + a.scroll.length;
  return [legionAt, nameAt, voteAt, flagsAt, scrollAt, scrollAt + 1, seenAt];
}

const INTERESTING = [0, 1, 2, 0x20, 0x21, 0x3f, 0x40, 0x41, 0x7f, 0x80, 0xfe, 0xff];

export interface Seed {
  bytes: Uint8Array;
  /** length fields, known for plaintext packets only */
  lengthOffsets: number[];
}

export function mutate(rng: Rng, seed: Seed, other: Seed): Uint8Array {
  const p = seed.bytes.slice();
  switch (rng.int(9)) {
    case 0: {
      const flips = 1 + rng.int(8);
      for (let i = 0; i < flips && p.length > 0; i++) {
        const at = rng.int(p.length);
        p[at] = p[at]! ^ (1 << rng.int(8));
      }
      return p;
    }
    case 1:
      return p.subarray(0, rng.int(p.length));
    case 2: {
      const cut = rng.int(p.length + 1);
      const from = rng.int(other.bytes.length + 1);
      const out = new Uint8Array(cut + other.bytes.length - from);
      out.set(p.subarray(0, cut));
      out.set(other.bytes.subarray(from), cut);
      return out;
    }
    case 3: {
      if (seed.lengthOffsets.length === 0) return mutate(rng, seed, other);
      const at = rng.pick(seed.lengthOffsets);
      if (at < p.length)
        p[at] = rng.bool() ? rng.pick(INTERESTING) : (p[at]! + (rng.bool() ? 1 : 255)) & 0xff;
      return p;
    }
    case 4: {
      const at = rng.int(p.length);
      if (p.length > 0) p[at] = rng.pick(INTERESTING);
      return p;
    }
    case 5: {
      const extra = rng.bytes(1 + rng.int(32));
      const out = new Uint8Array(p.length + extra.length);
      out.set(p);
      out.set(extra, p.length);
      return out;
    }
    case 6: {
      const at = rng.int(p.length + 1);
      const n = rng.int(Math.min(16, p.length - at) + 1);
      const out = new Uint8Array(p.length - n);
      out.set(p.subarray(0, at));
      out.set(p.subarray(at + n), at);
      return out;
    }
    case 7: {
      const head = p.subarray(0, Math.min(p.length, 4 + rng.int(24)));
      const out = new Uint8Array(head.length + rng.int(1500));
      out.set(head);
      out.set(rng.bytes(out.length - head.length), head.length);
      return out;
    }
    default:
      return rng.bytes(rng.int(1500));
  }
}

export interface FuzzResult {
  counts: Record<string, number>;
  accepted: number;
  /** non-LegiondError throws, or LegiondErrors with a code outside PROTOCOL_ERROR_CODES */
  unexpected: number;
  /** the first `maxFailures` of them */
  failures: { input: Uint8Array; error: unknown }[];
}

/** Pushes `count` random and mutated inputs through a keyed and an insecure decoder. */
export function runFuzz(count: number, seedValue: number, maxFailures = 10): FuzzResult {
  const rng = new Rng(seedValue);
  const legion = 'fuzz-legion';
  const wallNow = 1_700_000_000_000;
  const keys = makeKeyRing(
    [new TextEncoder().encode('fuzz secret one'), new TextEncoder().encode('two')],
    legion,
  );
  const encoders = [
    new NativeEncoder({ legion, keys, wallClock: () => wallNow, noncePrefix: new Uint8Array([1, 2, 3, 4]) }),
    new NativeEncoder({ legion, keys: null, wallClock: () => wallNow }),
  ];
  const seeds: Seed[] = [];
  for (let i = 0; i < 64; i++) {
    const keyed = i % 2 === 0;
    const a = randomAnnounce(rng, legion);
    seeds.push({
      bytes: encoders[keyed ? 0 : 1]!.encode(a),
      lengthOffsets: keyed ? [] : lengthFieldOffsets(a),
    });
  }
  const decoders = [
    new NativeDecoder({ legion, keys, maxSenders: 256 }),
    new NativeDecoder({ legion, keys: null, maxSenders: 256 }),
  ];
  const result: FuzzResult = { counts: {}, accepted: 0, unexpected: 0, failures: [] };
  for (let i = 0; i < count; i++) {
    const input = rng.int(10) === 0 ? rng.bytes(rng.int(200)) : mutate(rng, rng.pick(seeds), rng.pick(seeds));
    const decoder = rng.pick(decoders);
    try {
      decoder.decode(input, wallNow + rng.int(60_000) - 30_000);
      result.accepted++;
    } catch (e) {
      if (isLegiondError(e) && isProtocolErrorCode(e.code)) {
        result.counts[e.code] = (result.counts[e.code] ?? 0) + 1;
      } else {
        result.unexpected++;
        if (result.failures.length < maxFailures) result.failures.push({ input, error: e });
      }
    }
  }
  return result;
}
