import { protocolError } from './errors.js';

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();
/** In /u mode a well-formed surrogate pair is one code point, so this only matches lone surrogates. */
const LONE_SURROGATE = /\p{Cs}/u;

/** UTF-8 bytes of `s`; lone surrogates are refused because TextEncoder would silently replace them. */
export function utf8(s: string, field: string): Uint8Array {
  if (typeof s !== 'string') throw protocolError('ERR_MALFORMED', `${field} is not a string`);
  if (LONE_SURROGATE.test(s)) throw protocolError('ERR_MALFORMED', `${field} is not well-formed unicode`);
  return utf8Encoder.encode(s);
}

/** Bounds-checked big-endian reader: every overrun is ERR_TRUNCATED, never a RangeError. */
export class Reader {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(n: number, field: string): number {
    if (this.remaining < n) throw protocolError('ERR_TRUNCATED', `packet ends inside ${field}`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(field: string): number {
    return this.view.getUint8(this.need(1, field));
  }
  u16(field: string): number {
    return this.view.getUint16(this.need(2, field));
  }
  u32(field: string): number {
    return this.view.getUint32(this.need(4, field));
  }
  u64(field: string): bigint {
    return this.view.getBigUint64(this.need(8, field));
  }
  /** A view into the packet, not a copy. */
  raw(n: number, field: string): Uint8Array {
    const at = this.need(n, field);
    return this.bytes.subarray(at, at + n);
  }
  utf8(n: number, field: string): string {
    const b = this.raw(n, field);
    try {
      return utf8Decoder.decode(b);
    } catch (e) {
      throw protocolError('ERR_MALFORMED', `${field} is not valid utf-8`, e);
    }
  }
  /** Trailing bytes would be unauthenticated padding a peer could use to smuggle data; refuse them. */
  end(): void {
    if (this.remaining !== 0) throw protocolError('ERR_MALFORMED', `${this.remaining} trailing bytes`);
  }
}

/** Big-endian writer over a buffer of a size computed in advance. */
export class Writer {
  pos = 0;
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u8(v: number): void {
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }
  u16(v: number): void {
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }
  u32(v: number): void {
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }
  u64(v: bigint): void {
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
  }
  raw(b: Uint8Array): void {
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }
}
