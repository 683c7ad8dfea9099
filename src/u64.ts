/** The unsigned 64-bit range valor and epochs live in: one definition for the core, wire, config and control. */
export const U64_MAX = (1n << 64n) - 1n;

export function isU64(v: bigint): boolean {
  return v >= 0n && v <= U64_MAX;
}
