import fc from 'fast-check';
import { MAX_NODE_NAME_BYTES, MAX_SEEN, U64_MAX } from '../../src/protocol/limits.js';
import type { Announce } from '../../src/protocol/types.js';
import { uuidFromBytes } from '../../src/protocol/uuid.js';

const byteLen = (s: string) => Buffer.byteLength(s, 'utf8');

export const uuidArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => uuidFromBytes(b, 0));
export const u32Arb = fc
  .tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }))
  .map(([hi, lo]) => hi * 0x10000 + lo);
export const u64Arb = fc.oneof(
  fc.constantFrom(0n, 1n, U64_MAX, U64_MAX - 1n, 1n << 63n),
  fc.bigInt({ min: 0n, max: U64_MAX }),
);

/** Any well-formed unicode (astral planes included) within a utf-8 byte budget. */
export const nameArb = (minBytes: number, maxBytes: number) =>
  fc
    .string({
      unit: fc.oneof(
        fc.constantFrom('a', 'é', '中', '😀'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
      ),
      maxLength: maxBytes,
    })
    .filter((s) => byteLen(s) >= minBytes && byteLen(s) <= maxBytes);

export const legionArb = nameArb(1, 64);

export const announceArb = (legion: string, o: { maxScroll?: number; maxSeen?: number } = {}) =>
  fc.record<Announce>({
    legion: fc.constant(legion),
    uuid: uuidArb,
    name: nameArb(0, MAX_NODE_NAME_BYTES),
    valor: u64Arb,
    epoch: u64Arb,
    vote: fc.option(uuidArb, { nil: null }),
    flags: fc.record({
      lord: fc.boolean(),
      arbiter: fc.boolean(),
      dead: fc.boolean(),
      draining: fc.boolean(),
    }),
    viewDigest: u32Arb,
    scroll: fc.oneof(
      fc.uint8Array({ maxLength: o.maxScroll ?? 1024 }),
      fc.constant(new Uint8Array(0)),
      fc.constant(new Uint8Array(o.maxScroll ?? 1024).fill(0xab)),
    ),
    seen: fc.array(fc.record({ uuid: uuidArb, agoMs: u32Arb }), {
      maxLength: o.maxSeen ?? MAX_SEEN,
      size: 'max',
    }),
  });

export function sampleAnnounce(legion = 'test-legion', over: Partial<Announce> = {}): Announce {
  return {
    legion,
    uuid: '0123abcd-4567-89ef-0123-456789abcdef',
    name: 'node-a',
    valor: 42n,
    epoch: 7n,
    vote: 'ffffffff-0000-1111-2222-333333333333',
    flags: { lord: true, arbiter: false, dead: false, draining: true },
    viewDigest: 0xdeadbeef,
    scroll: new TextEncoder().encode('{"role":"db"}'),
    seen: [
      { uuid: '00000000-0000-0000-0000-000000000001', agoMs: 120 },
      { uuid: '00000000-0000-0000-0000-000000000002', agoMs: 5 },
    ],
    ...over,
  };
}

/** Runs `f` and returns the LegiondError code it threw; fails if it threw anything else or nothing. */
export function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof Error && e.name === 'LegiondError' && 'code' in e) return String(e.code);
    throw new Error(`expected a LegiondError, got ${String(e)}`);
  }
  throw new Error('expected a throw, got none');
}
