import { protocolError } from './errors.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export const UUID_BYTES = 16;

export function isCanonicalUuid(text: string): boolean {
  return typeof text === 'string' && UUID_RE.test(text);
}

/** Only canonical lowercase text is accepted, so the text order always equals the byte order. */
export function uuidToBytes(text: string, into: Uint8Array, offset: number): void {
  if (!isCanonicalUuid(text))
    throw protocolError('ERR_MALFORMED', `not a canonical lowercase uuid: ${String(text)}`);
  const hex = text.replaceAll('-', '');
  for (let i = 0; i < UUID_BYTES; i++) into[offset + i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
}

export function uuidFromBytes(bytes: Uint8Array, offset: number): string {
  let s = '';
  for (let i = 0; i < UUID_BYTES; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[bytes[offset + i] ?? 0];
  }
  return s;
}
