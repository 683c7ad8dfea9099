/** Wire limits of the native protocol. Decoders enforce them too, so a hostile peer cannot make us allocate. */
export { U64_MAX } from '../u64.js';

/** Fits a 1500-byte Ethernet MTU with room for IPv6 + UDP headers and a tunnel or two. */
export const DEFAULT_MAX_PACKET_BYTES = 1400;
/** Hard ceiling for any configured packet size: the largest UDP payload over IPv4. */
export const MAX_PACKET_BYTES_CEILING = 65507;
export const MAX_LEGION_NAME_BYTES = 64;
export const MAX_NODE_NAME_BYTES = 64;
export const DEFAULT_MAX_SCROLL_BYTES = 1024;
/** The scroll length travels as a u16. */
export const MAX_SCROLL_BYTES_CEILING = 0xffff;
export const MAX_SEEN = 32;
export const DEFAULT_REPLAY_WINDOW_MS = 30_000;
export const DEFAULT_MAX_SENDERS = 4096;

export const U32_MAX = 0xffff_ffff;
