/**
 * FNV-1a 32-bit over the sorted member UUIDs, each followed by a newline so ["ab","c"] and
 * ["a","bc"] differ. Canonical UUID text is ASCII, so char codes are the bytes.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function viewDigest(uuids: string[]): number {
  let h = FNV_OFFSET;
  for (const u of [...uuids].sort()) {
    for (let i = 0; i < u.length; i++) {
      h ^= u.charCodeAt(i) & 0xff;
      h = Math.imul(h, FNV_PRIME) >>> 0;
    }
    h ^= 0x0a;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h >>> 0;
}
