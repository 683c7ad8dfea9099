/**
 * Packets captured from a real uWSGI 2.0.21 node (Debian's uwsgi-core) on loopback by
 * fixtures/capture.mjs: its first announces (before it has voted), the ones after it became
 * lord, and its death announce on SIGINT.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checksumOf } from '../../src/legion/uwsgi/election.js';
import { UwsgiCodec } from '../../src/protocol/uwsgi/codec.js';

interface Capture {
  uwsgi: string;
  legion: string;
  cipher: string;
  secret: string;
  uuidInLog: string;
  packets: Array<{ atMs: number; hex: string }>;
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/uwsgi-capture.json', import.meta.url), 'utf8'),
) as Capture;
const codec = new UwsgiCodec({
  legion: fixture.legion,
  cipher: fixture.cipher,
  secret: new TextEncoder().encode(fixture.secret),
});
const decoded = fixture.packets.map((p) => ({
  bytes: Uint8Array.from(Buffer.from(p.hex, 'hex')),
  a: codec.decode(Buffer.from(p.hex, 'hex'), p.atMs),
}));

describe('packets from a real uWSGI node', () => {
  it('decode, all from the node whose UUID its log printed', () => {
    expect(decoded.length).toBeGreaterThanOrEqual(4);
    for (const { a } of decoded) {
      expect(a.legion).toBe('L');
      expect(a.valor).toBe(100n);
      expect(a.uuid).toBe(fixture.uuidInLog);
      expect(new TextDecoder().decode(a.scroll ?? new Uint8Array())).toBe('hello');
    }
  });

  it('start with checksum 0 and a zeroed vote, then vote for itself with our checksum', () => {
    const first = decoded[0]!.a;
    expect(first.checksum).toBe(0n);
    expect(first.lordValor).toBe(0n);
    expect(first.lordUuid).toBe('\0'.repeat(36));
    const lord = decoded.find(({ a }) => a.lord > 0)!.a;
    expect(lord.lordUuid).toBe(lord.uuid);
    expect(lord.lordValor).toBe(100n);
    // a lone node's checksum: its valor plus the bytes of its UUID text
    expect(lord.checksum).toBe(checksumOf(lord.valor, lord.uuid, []));
  });

  it('end with one death announce', () => {
    const dead = decoded.filter(({ a }) => a.dead);
    expect(dead).toHaveLength(1);
    expect(decoded.at(-1)!.a.dead).toBe(true);
  });

  it('re-encode to the very same bytes', () => {
    for (const { bytes, a } of decoded) expect(Buffer.from(codec.encode(a))).toEqual(Buffer.from(bytes));
  });
});
