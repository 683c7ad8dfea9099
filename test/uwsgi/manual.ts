/**
 * Builds uWSGI legion packets by hand from the wire facts, with node:crypto and nothing from
 * src/, so tests can check the codec against an independent construction.
 */
import { createCipheriv } from 'node:crypto';

export function field(key: string, value: string | Uint8Array): Buffer {
  const k = Buffer.from(key, 'latin1');
  const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value);
  const out = Buffer.alloc(4 + k.length + v.length);
  out.writeUInt16LE(k.length, 0);
  k.copy(out, 2);
  out.writeUInt16LE(v.length, 2 + k.length);
  v.copy(out, 4 + k.length);
  return out;
}

export function body(fields: Array<[string, string | Uint8Array]>): Buffer {
  return Buffer.concat(fields.map(([k, v]) => field(k, v)));
}

export interface ManualCipher {
  cipher?: string;
  secret?: string;
  iv?: string;
  keyLen?: number;
  ivLen?: number;
}

/** key = secret NUL-padded/truncated, IV = iv '0'-padded/truncated, as uWSGI does */
export function encrypt(clear: Buffer, o: ManualCipher = {}, autoPadding = true): Buffer {
  const keyLen = o.keyLen ?? 16;
  const ivLen = o.ivLen ?? 16;
  const key = Buffer.alloc(keyLen, 0);
  Buffer.from(o.secret ?? 'secret').copy(key, 0, 0, keyLen);
  const iv = Buffer.alloc(ivLen, '0');
  Buffer.from(o.iv ?? '').copy(iv, 0, 0, ivLen);
  const c = createCipheriv(o.cipher ?? 'aes-128-cbc', key, iv);
  c.setAutoPadding(autoPadding);
  return Buffer.concat([c.update(clear), c.final()]);
}

export function packet(clear: Buffer, o: ManualCipher = {}, declaredLen = clear.length): Uint8Array {
  const header = Buffer.from([109, declaredLen & 0xff, declaredLen >> 8, 0]);
  return new Uint8Array(Buffer.concat([header, encrypt(clear, o)]));
}

export const UUID_A = '6f1c1a52-8d0e-4c55-9d5c-2a4b7c9e0f11';
export const UUID_B = 'a1b2c3d4-0000-4000-8000-000000000001';

/** A full announce in uWSGI's key order; override or drop keys with `patch`. */
export function standardFields(
  patch: Record<string, string | Uint8Array | null> = {},
): Array<[string, string | Uint8Array]> {
  const base: Record<string, string | Uint8Array | null> = {
    legion: 'L',
    valor: '100',
    unix: '1700000000',
    lord: '0',
    name: 'host-a',
    pid: '4242',
    uuid: UUID_A,
    checksum: '2380',
    lord_valor: '100',
    lord_uuid: UUID_A,
    scroll: 'hello',
    ...patch,
  };
  return Object.entries(base).filter((e): e is [string, string | Uint8Array] => e[1] !== null);
}

export const NOW_MS = 1_700_000_000_000;
