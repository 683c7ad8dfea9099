/**
 * Codec for uWSGI's legion announces (core/legion.c), so legiond nodes can take part in a uWSGI
 * legion. Bytes in, typed value out; the only error it throws is LegiondError. See
 * /work/shared/uwsgi-legion-wire.md for the format this follows.
 */
import { LegiondError } from '../../errors.js';
import { encodeBody, latin1, parseBody, type UwsgiField } from './body.js';
import { UwsgiCipher, type UwsgiCipherOptions } from './cipher.js';
import {
  UWSGI_HEADER_BYTES,
  UWSGI_MAX_LEGION_BYTES,
  UWSGI_MAX_NAME_BYTES,
  UWSGI_MAX_PACKET,
  UWSGI_MAX_PID,
  UWSGI_MAX_SCROLL_BYTES,
  UWSGI_MAX_SEND_PACKET,
  UWSGI_MODIFIER1,
  UWSGI_UUID_BYTES,
} from './limits.js';
import { formatU64, formatUint, parseU64, parseUint } from './number.js';

export type { UwsgiCipherOptions } from './cipher.js';

export interface UwsgiAnnounce {
  legion: string;
  /** unsigned 64-bit; 0 = arbiter */
  valor: bigint;
  /** sender's wall clock, seconds */
  unix: number;
  /** wall-clock second the sender became lord, 0 when it is not (receivers do not use it) */
  lord: number;
  name: string;
  pid: number;
  /** 36 characters, one per byte (latin1), so any 36-byte value uWSGI sends round-trips */
  uuid: string;
  /** the sender's membership checksum (u64, wraps) */
  checksum: bigint;
  /** the sender's vote: its best candidate */
  lordValor: bigint;
  /** 36 characters like `uuid`; 36 NULs in the first announce of a uWSGI node, before it has voted */
  lordUuid: string;
  scroll: Uint8Array | null;
  dead: boolean;
  /**
   * Only on announces the machine emits, which has no wall clock: how long the sender has been
   * lord, in ms. `encode(a, wallNowMs)` turns it into `lord`. Never set by `decode`.
   */
  lordForMs?: number;
}

/** What `uwsgiMachine` sends: `unix` and `lord` are 0 and the codec fills them from the wall clock. */
export type UwsgiOutAnnounce = UwsgiAnnounce;

export interface UwsgiCodecOptions extends UwsgiCipherOptions {
  legion: string;
  /** packets whose `unix` is older than now minus this are dropped; uWSGI's default is 60 */
  skewToleranceSec?: number;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');
const REQUIRED = ['legion', 'valor', 'unix', 'name', 'pid', 'uuid', 'checksum', 'lord_valor', 'lord_uuid'];

export class UwsgiCodec {
  readonly legion: string;
  readonly skewToleranceSec: number;
  readonly #legionBytes: Uint8Array;
  readonly #cipher: UwsgiCipher;

  /** @throws LegiondError ERR_CIPHER for an unknown or unusable cipher, ERR_CONFIG for bad options */
  constructor(o: UwsgiCodecOptions) {
    this.#cipher = new UwsgiCipher(o);
    this.legion = o.legion;
    this.#legionBytes = utf8.encode(o.legion);
    if (this.#legionBytes.length === 0 || this.#legionBytes.length > UWSGI_MAX_LEGION_BYTES) {
      throw new LegiondError('ERR_CONFIG', `uWSGI legion name must be 1..${UWSGI_MAX_LEGION_BYTES} bytes`);
    }
    this.skewToleranceSec = o.skewToleranceSec ?? 60;
    if (!Number.isSafeInteger(this.skewToleranceSec) || this.skewToleranceSec < 0) {
      throw new LegiondError('ERR_CONFIG', 'uWSGI skew tolerance must be a whole number of seconds ≥ 0');
    }
  }

  /**
   * With `wallNowMs`, `unix` is set from it and `lord` from `lordForMs` (as the machine's
   * announces need); without it the announce is encoded exactly as given.
   */
  encode(a: UwsgiAnnounce, wallNowMs?: number): Uint8Array {
    if (a.legion !== this.legion) {
      throw new LegiondError(
        'ERR_WRONG_LEGION',
        `announce for legion "${a.legion}" given to codec of "${this.legion}"`,
      );
    }
    const stamped = wallNowMs === undefined ? a : stamp(a, wallNowMs);
    const body = encodeBody(fieldsOf(stamped, this.#legionBytes));
    const ciphertext = this.#cipher.encrypt(body);
    const size = UWSGI_HEADER_BYTES + ciphertext.length;
    if (size > UWSGI_MAX_SEND_PACKET) {
      throw new LegiondError(
        'ERR_TOO_LARGE',
        `uWSGI packet of ${size} bytes exceeds ${UWSGI_MAX_SEND_PACKET}`,
      );
    }
    const out = new Uint8Array(size);
    out[0] = UWSGI_MODIFIER1;
    out[1] = body.length & 0xff;
    out[2] = body.length >>> 8;
    out[3] = 0;
    out.set(ciphertext, UWSGI_HEADER_BYTES);
    return out;
  }

  /** Checks in uWSGI's order; @throws LegiondError (and nothing else) for any packet it rejects. */
  decode(bytes: Uint8Array, wallNowMs: number): UwsgiAnnounce {
    if (bytes.length > UWSGI_MAX_PACKET) {
      throw new LegiondError(
        'ERR_TOO_LARGE',
        `uWSGI packet of ${bytes.length} bytes exceeds ${UWSGI_MAX_PACKET}`,
      );
    }
    if (bytes.length < UWSGI_HEADER_BYTES) {
      throw new LegiondError(
        'ERR_TRUNCATED',
        `uWSGI packet of ${bytes.length} bytes is shorter than its header`,
      );
    }
    if (bytes[0] !== UWSGI_MODIFIER1) {
      throw new LegiondError('ERR_BAD_MAGIC', `not a uWSGI legion packet (modifier1 ${bytes[0]}, want 109)`);
    }
    const declared = bytes[1]! | (bytes[2]! << 8);
    const body = this.#cipher.decrypt(bytes.subarray(UWSGI_HEADER_BYTES));
    if (body.length !== declared) {
      throw new LegiondError('ERR_MALFORMED', `uWSGI body is ${body.length} bytes, header says ${declared}`);
    }
    const a = announceOf(parseBody(body));
    if (!sameBytes(a.legionBytes, this.#legionBytes)) {
      throw new LegiondError(
        'ERR_WRONG_LEGION',
        `uWSGI packet for another legion: ${JSON.stringify(a.announce.legion)}`,
      );
    }
    const oldest = Math.floor(wallNowMs / 1000) - this.skewToleranceSec;
    if (a.announce.unix < oldest) {
      throw new LegiondError(
        'ERR_REPLAY',
        `uWSGI packet sent at ${a.announce.unix}s is older than the skew tolerance allows (${oldest}s)`,
      );
    }
    return { ...a.announce, legion: this.legion };
  }
}

function stamp(a: UwsgiAnnounce, wallNowMs: number): UwsgiAnnounce {
  const unix = Math.floor(wallNowMs / 1000);
  const lord = a.lordForMs === undefined ? a.lord : Math.max(1, Math.floor((wallNowMs - a.lordForMs) / 1000));
  return { ...a, unix, lord };
}

function fieldsOf(a: UwsgiAnnounce, legion: Uint8Array): UwsgiField[] {
  const name = utf8.encode(a.name);
  if (name.length === 0 || name.length > UWSGI_MAX_NAME_BYTES) {
    // uWSGI refuses to add a member with an empty name
    throw new LegiondError('ERR_MALFORMED', `uWSGI node name must be 1..${UWSGI_MAX_NAME_BYTES} bytes`);
  }
  const fields: UwsgiField[] = [
    ['legion', legion],
    ['valor', num(formatU64(a.valor))],
    ['unix', num(formatUint(a.unix))],
    ['lord', num(formatUint(a.lord))],
    ['name', name],
    ['pid', num(formatUint(a.pid))],
    ['uuid', uuidBytes('uuid', a.uuid)],
    ['checksum', num(formatU64(a.checksum))],
    ['lord_valor', num(formatU64(a.lordValor))],
    ['lord_uuid', uuidBytes('lord_uuid', a.lordUuid)],
  ];
  if (a.scroll !== null && a.scroll.length > 0) {
    if (a.scroll.length > UWSGI_MAX_SCROLL_BYTES) {
      throw new LegiondError('ERR_TOO_LARGE', `uWSGI scroll exceeds ${UWSGI_MAX_SCROLL_BYTES} bytes`);
    }
    fields.push(['scroll', a.scroll]);
  }
  if (a.dead) fields.push(['dead', num('1')]);
  return fields;
}

function announceOf(f: Map<string, Uint8Array>): { announce: UwsgiAnnounce; legionBytes: Uint8Array } {
  for (const key of REQUIRED) {
    if (!f.has(key)) throw new LegiondError('ERR_MALFORMED', `uWSGI packet lacks the "${key}" field`);
  }
  const text = (key: string): string => latin1(f.get(key) ?? new Uint8Array());
  const legionBytes = f.get('legion')!;
  const name = f.get('name')!;
  if (
    legionBytes.length > UWSGI_MAX_LEGION_BYTES ||
    name.length === 0 ||
    name.length > UWSGI_MAX_NAME_BYTES
  ) {
    throw new LegiondError('ERR_MALFORMED', 'uWSGI packet has an empty or oversized legion or node name');
  }
  const scroll = f.get('scroll');
  if (scroll !== undefined && scroll.length > UWSGI_MAX_SCROLL_BYTES) {
    throw new LegiondError('ERR_TOO_LARGE', `uWSGI scroll exceeds ${UWSGI_MAX_SCROLL_BYTES} bytes`);
  }
  const announce: UwsgiAnnounce = {
    legion: utf8Decoder.decode(legionBytes),
    valor: parseU64('valor', text('valor')),
    unix: parseUint('unix', text('unix'), Number.MAX_SAFE_INTEGER),
    lord: f.has('lord') ? parseUint('lord', text('lord'), Number.MAX_SAFE_INTEGER) : 0,
    name: utf8Decoder.decode(name),
    pid: parseUint('pid', text('pid'), UWSGI_MAX_PID),
    uuid: uuidText('uuid', f.get('uuid')!),
    checksum: parseU64('checksum', text('checksum')),
    lordValor: parseU64('lord_valor', text('lord_valor')),
    lordUuid: uuidText('lord_uuid', f.get('lord_uuid')!),
    // uWSGI treats an empty scroll as none
    scroll: scroll === undefined || scroll.length === 0 ? null : scroll.slice(),
    dead: f.has('dead'),
  };
  return { announce, legionBytes };
}

function uuidText(key: string, v: Uint8Array): string {
  if (v.length !== UWSGI_UUID_BYTES) {
    throw new LegiondError(
      'ERR_MALFORMED',
      `uWSGI field "${key}" is ${v.length} bytes, not ${UWSGI_UUID_BYTES}`,
    );
  }
  return latin1(v);
}

function uuidBytes(key: string, s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new LegiondError('ERR_MALFORMED', `uWSGI ${key} has a character outside latin1`);
    out[i] = c;
  }
  if (out.length !== UWSGI_UUID_BYTES) {
    throw new LegiondError('ERR_MALFORMED', `uWSGI ${key} must be ${UWSGI_UUID_BYTES} characters`);
  }
  return out;
}

function num(s: string): Uint8Array {
  return utf8.encode(s);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
