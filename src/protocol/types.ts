/** Native announce, as the election core sees it once the codec has checked and decoded it. */
export const PROTOCOL_VERSION = 1;

export interface AnnounceFlags {
  lord: boolean;
  arbiter: boolean;
  dead: boolean;
  draining: boolean;
  /**
   * The sender only follows the legion: it never votes nor stands, and receivers ignore its vote,
   * lord flag and attestations whatever their own configuration. Absent means false.
   */
  observer?: boolean;
}

/** "I heard this member directly `agoMs` ago": lets peers keep a member alive across lost packets. */
export interface Attestation {
  uuid: string;
  agoMs: number;
}

export interface Announce {
  legion: string;
  /** canonical lowercase 8-4-4-4-12 text; comparing the text compares the bytes */
  uuid: string;
  name: string;
  /** unsigned 64-bit */
  valor: bigint;
  /** unsigned 64-bit fencing token: the highest epoch the sender knows */
  epoch: bigint;
  /** UUID of the candidate the sender votes for, or null when it has none */
  vote: string | null;
  flags: AnnounceFlags;
  /** u32 digest of the sender's live member view */
  viewDigest: number;
  scroll: Uint8Array;
  seen: Attestation[];
}

/** Envelope fields the codec adds and checks; the core never sees them. */
export interface Envelope {
  version: number;
  /** per-sender sequence number, strictly increasing */
  seq: bigint;
  /** sender's wall clock in ms, used only for the replay window of unknown senders */
  sentAtMs: number;
}
