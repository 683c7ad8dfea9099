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
  let j = 0;
  for (let i = 0; i < UUID_BYTES; i++) {
    if (text.charCodeAt(j) === 0x2d) j++;
    into[offset + i] = (nibble(text.charCodeAt(j)) << 4) | nibble(text.charCodeAt(j + 1));
    j += 2;
  }
}

/** a lowercase hex digit's value (the caller has checked the text is canonical) */
function nibble(c: number): number {
  return c <= 0x39 ? c - 0x30 : c - 0x57;
}

export function uuidFromBytes(bytes: Uint8Array, offset: number): string {
  // one flat string: built by += it would be a rope, flattened again at every Map lookup
  const h = (i: number) => HEX[bytes[offset + i] ?? 0];
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}
