import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ballot, checksumOf, countVotes, NO_UUID, uuidSum } from '../../src/legion/uwsgi/election.js';
import type { UwsgiMember } from '../../src/legion/uwsgi/types.js';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const C = 'ffffffff-ffff-4fff-8fff-ffffffffffff';

function member(uuid: string, valor: bigint, over: Partial<UwsgiMember> = {}): UwsgiMember {
  return {
    uuid,
    name: uuid.slice(0, 4),
    valor,
    pid: 1,
    scroll: new Uint8Array(0),
    checksum: 0n,
    lordValor: 0n,
    lordUuid: NO_UUID,
    lastSeenMs: 0,
    ...over,
  };
}

const byteSum = (s: string) => [...Buffer.from(s, 'latin1')].reduce((a, b) => a + b, 0);

describe('uWSGI checksum', () => {
  it('is own valor plus own UUID bytes plus the same for every member', () => {
    expect(uuidSum(A)).toBe(BigInt(byteSum(A)));
    const got = checksumOf(100n, A, [member(B, 7n), member(C, 0n)]);
    expect(got).toBe(BigInt(100 + byteSum(A) + 7 + byteSum(B) + byteSum(C)));
  });

  it('wraps at 2^64 like uWSGI uint64 arithmetic', () => {
    const max = (1n << 64n) - 1n;
    expect(checksumOf(max, A, [])).toBe(BigInt(byteSum(A)) - 1n);
  });

  it('does not depend on member order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uuid(), fc.bigInt({ min: 0n, max: 1n << 40n })), { maxLength: 6 }),
        (ms) => {
          const members = ms.map(([u, v]) => member(u, v));
          expect(checksumOf(5n, A, members)).toBe(checksumOf(5n, A, [...members].reverse()));
        },
      ),
    );
  });
});

describe('uWSGI best candidate', () => {
  it('prefers the higher valor, then the greater UUID text', () => {
    expect(ballot(100n, A, [member(B, 200n)])).toMatchObject({
      vote: { valor: 200n, uuid: B },
      selfBest: false,
    });
    expect(ballot(100n, A, [member(B, 50n)])).toMatchObject({
      vote: { valor: 100n, uuid: A },
      selfBest: true,
    });
    expect(ballot(100n, B, [member(A, 100n)])).toMatchObject({ vote: { uuid: B }, selfBest: true });
    expect(ballot(100n, A, [member(B, 100n), member(C, 100n)])).toMatchObject({ vote: { uuid: C } });
  });

  it('skips arbiter members and never proposes an arbiter self', () => {
    const lone = ballot(0n, A, [member(C, 0n)]);
    // uWSGI announces its own UUID with valor 0 but counts votes against a zeroed UUID
    expect(lone.vote).toEqual({ valor: 0n, uuid: A });
    expect(lone.selfBest).toBe(false);
    expect(lone.target).toEqual({ valor: 0n, uuid: NO_UUID });
    expect(ballot(0n, A, [member(C, 0n), member(B, 3n)])).toMatchObject({
      vote: { valor: 3n, uuid: B },
      target: { uuid: B },
    });
  });

  it('is the maximum of (valor, uuid) over candidates', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n }),
        fc.array(fc.tuple(fc.uuid(), fc.bigInt({ min: 0n, max: 10n })), { maxLength: 6 }),
        (selfValor, ms) => {
          const members = ms.filter(([u]) => u !== A).map(([u, v]) => member(u, v));
          const cands = [
            ...(selfValor > 0n ? [{ valor: selfValor, uuid: A }] : []),
            ...members.filter((m) => m.valor > 0n),
          ];
          const b = ballot(selfValor, A, members);
          if (cands.length === 0) {
            expect(b.target.uuid).toBe(NO_UUID);
            return;
          }
          const max = cands.reduce((x, y) =>
            y.valor > x.valor || (y.valor === x.valor && y.uuid > x.uuid) ? y : x,
          );
          expect(b.target).toEqual({ valor: max.valor, uuid: max.uuid });
          expect(b.selfBest).toBe(max.uuid === A);
        },
      ),
    );
  });
});

describe('uWSGI votes', () => {
  const target = { valor: 200n, uuid: B };
  it('counts self plus every member that agrees on checksum and vote', () => {
    const agree = (u: string) => member(u, 1n, { checksum: 9n, lordValor: 200n, lordUuid: B });
    expect(countVotes(9n, target, [])).toBe(1);
    expect(countVotes(9n, target, [agree(B), agree(C)])).toBe(3);
  });

  it('drops to zero when any member disagrees (unanimity)', () => {
    const ok = member(C, 1n, { checksum: 9n, lordValor: 200n, lordUuid: B });
    expect(countVotes(9n, target, [ok, { ...ok, uuid: A, checksum: 8n }])).toBe(0);
    expect(countVotes(9n, target, [{ ...ok, lordValor: 199n }, ok])).toBe(0);
    expect(countVotes(9n, target, [ok, { ...ok, lordUuid: C }])).toBe(0);
  });
});
