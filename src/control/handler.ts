/**
 * What the control server needs from the daemon. `request` answers one command (args already
 * shape-checked by the protocol); it throws a LegiondError such as ERR_UNKNOWN_LEGION or
 * ERR_INVALID_VALUE, whose code is sent back as is; any other error is replied as ERR_INTERNAL.
 * `subscribe` registers a listener for events of one legion (null = all) and returns the
 * function that removes it; it may throw ERR_UNKNOWN_LEGION.
 */
export interface ControlHandler {
  request(cmd: string, args: Record<string, unknown>): Promise<unknown>;
  subscribe(legion: string | null, listener: (event: object) => void): () => void;
}
