/**
 * UUIDs interned by their 16 wire bytes: a packet's UUIDs are looked up without building their
 * text first, and every packet naming a member hands the core the same string for it (the core
 * keys maps by UUID and compares votes with its own, and one string compares by reference).
 * Each interned sender also keeps what it last sent that rarely changes (name, scroll, valor,
 * epoch), so a heartbeat that repeats them allocates nothing for them.
 *
 * Open addressing over an Int32Array of the UUIDs' four words, probed linearly from a seeded
 * hash: the seed is random per table, so a peer cannot pick UUIDs that pile up in one chain.
 * Bounded: when it holds `max` UUIDs it starts over (a flood of made-up UUIDs costs a clear).
 */
import { UUID_BYTES, uuidFromBytes, uuidToBytes } from './uuid.js';

/** What a sender sent last: reused while its next packets carry the same bytes. */
export interface SenderMemo {
  nameBytes: Uint8Array | null;
  name: string;
  scroll: Uint8Array | null;
  valorHi: number;
  valorLo: number;
  valor: bigint;
  epochHi: number;
  epochLo: number;
  epoch: bigint;
}

function newMemo(): SenderMemo {
  return {
    nameBytes: null,
    name: '',
    scroll: null,
    valorHi: -1,
    valorLo: -1,
    valor: 0n,
    epochHi: -1,
    epochLo: -1,
    epoch: 0n,
  };
}

function word(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

export class UuidInterner {
  private readonly words: Int32Array;
  private readonly texts: (string | undefined)[];
  private readonly memos: (SenderMemo | undefined)[];
  private readonly mask: number;
  private readonly seed: number;
  private count = 0;
  /** the memo of the sender the last `readSender` found */
  memo: SenderMemo = newMemo();

  constructor(readonly max: number) {
    let cap = 16;
    while (cap < 2 * max) cap *= 2;
    this.mask = cap - 1;
    this.words = new Int32Array(cap * 4);
    this.texts = new Array(cap).fill(undefined);
    this.memos = new Array(cap).fill(undefined);
    this.seed = (Math.random() * 0x1_0000_0000) | 0;
  }

  get size(): number {
    return this.count;
  }

  /** The interned text of the UUID at `b[o..o+16)`. */
  read(b: Uint8Array, o: number): string {
    return this.texts[this.find(b, o, null)]!;
  }

  /** `read` for a packet's sender; `memo` is then that sender's memo of the fields it repeats. */
  readSender(b: Uint8Array, o: number): string {
    const at = this.find(b, o, null);
    let memo = this.memos[at];
    if (memo === undefined) {
      memo = newMemo();
      this.memos[at] = memo;
    }
    this.memo = memo;
    return this.texts[at]!;
  }

  /** The interned copy of canonical UUID text (interning `text` itself when new). */
  shared(text: string): string {
    const b = new Uint8Array(UUID_BYTES);
    uuidToBytes(text, b, 0);
    return this.texts[this.find(b, 0, text)]!;
  }

  private find(b: Uint8Array, o: number, text: string | null): number {
    const w0 = word(b, o);
    const w1 = word(b, o + 4);
    const w2 = word(b, o + 8);
    const w3 = word(b, o + 12);
    const words = this.words;
    const mask = this.mask;
    let h = Math.imul(w0 ^ this.seed, 0x9e3779b1);
    h = Math.imul(h ^ w1 ^ (h >>> 15), 0x85ebca6b);
    h = Math.imul(h ^ w2 ^ (h >>> 13), 0xc2b2ae35);
    h = Math.imul(h ^ w3 ^ (h >>> 16), 0x27d4eb2f);
    let i = (h ^ (h >>> 15)) & mask;
    for (;;) {
      if (this.texts[i] === undefined) break;
      const k = i << 2;
      if (words[k] === w0 && words[k + 1] === w1 && words[k + 2] === w2 && words[k + 3] === w3) return i;
      i = (i + 1) & mask;
    }
    const s = text ?? uuidFromBytes(b, o);
    if (this.count >= this.max) {
      this.clear();
      i = (h ^ (h >>> 15)) & mask;
    }
    const k = i << 2;
    words[k] = w0;
    words[k + 1] = w1;
    words[k + 2] = w2;
    words[k + 3] = w3;
    this.texts[i] = s;
    this.count++;
    return i;
  }

  private clear(): void {
    this.texts.fill(undefined);
    this.memos.fill(undefined);
    this.count = 0;
  }
}
