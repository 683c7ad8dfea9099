/** What a legion runner needs from a wire format: the native codec and the uWSGI one both fit. */
export interface WireCodec<P> {
  encode(packet: P, wallNowMs: number): Uint8Array;
  /** throws LegiondError with a stable code for anything it will not accept */
  decode(bytes: Uint8Array, wallNowMs: number): P;
}
