/**
 * legiond's client library (`import { LegiondClient } from 'legiond/client'`): typed calls to a
 * running daemon over its control socket, and watch() to follow a legion's lord. Every failure
 * is a LegiondError with a stable code (ERR_NOT_RUNNING, ERR_PERMISSION, ERR_UNKNOWN_LEGION,
 * ERR_FORBIDDEN, ERR_TIMEOUT, ...). The protocol is in docs/control-protocol.md.
 */
import { type ArgsOf, ControlConnection, type RequestCommand } from '../control/connection.js';
import type {
  LegionStatus,
  LordResult,
  MemberRow,
  MembersResult,
  StatusResult,
  ValorResult,
} from '../control/results.js';
import { LegiondError } from '../errors.js';
import { type WatchEvent, Watcher, type WatchOptions } from './watch.js';

export const DEFAULT_CONTROL_SOCKET = '/run/legiond/legiond.sock';

export interface ClientOptions {
  /** the daemon's control socket (admin) or its read-only one; default LEGIOND_CONTROL or /run/legiond/legiond.sock */
  path?: string;
  /** per request; default 10 s */
  timeoutMs?: number;
}

export class LegiondClient {
  readonly path: string;
  private readonly timeoutMs: number;

  constructor(opts: ClientOptions = {}) {
    this.path = opts.path ?? process.env.LEGIOND_CONTROL ?? DEFAULT_CONTROL_SOCKET;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** any request-reply command, typed by the protocol's argument schema and reply shapes */
  async request<K extends RequestCommand>(
    cmd: K,
    args: ArgsOf<K>,
  ): Promise<import('../control/results.js').ControlReplies[K]> {
    const conn = await ControlConnection.open(this.path);
    try {
      return await conn.request(cmd, args, { timeoutMs: this.timeoutMs });
    } finally {
      conn.close();
    }
  }

  /** every legion of the daemon, or one */
  async status(): Promise<StatusResult>;
  async status(legion: string): Promise<LegionStatus>;
  async status(legion?: string): Promise<StatusResult | LegionStatus> {
    const all = await this.request('status', {});
    if (legion === undefined) return all;
    const one = all.legions.find((l) => l.legion === legion);
    if (!one) throw new LegiondError('ERR_UNKNOWN_LEGION', `no legion named "${legion}" is running here`);
    return one;
  }

  /** the live members of one legion as this node sees them, itself included */
  async members(legion: string): Promise<MemberRow[]> {
    const r: MembersResult = await this.request('members', { legion });
    return r.legions.find((l) => l.legion === legion)?.members ?? [];
  }

  /** the lord of a legion (name, UUID, epoch, scroll; `self` when it is this node), or null */
  async lord(legion: string): Promise<LordResult['lord']> {
    return (await this.request('lord', { legion })).lord;
  }

  /** whether the node this daemon runs in `legion` is its lord right now */
  async isLord(legion: string): Promise<boolean> {
    return (await this.lord(legion))?.self === true;
  }

  async valor(legion: string): Promise<ValorResult> {
    return await this.request('valor.get', { legion });
  }

  async scroll(legion: string): Promise<string> {
    return (await this.request('scroll.get', { legion })).scroll;
  }

  /**
   * Follows a legion: the current lord first, then every lord and scroll change, across daemon
   * restarts (see Watcher). Ends on `return()` (a `break` out of `for await`) or the signal.
   */
  watch(legion: string, opts: WatchOptions = {}): AsyncIterableIterator<WatchEvent> {
    return new Watcher(this.path, legion, { timeoutMs: this.timeoutMs, ...opts });
  }
}

export type { ArgsOf, RequestCommand } from '../control/connection.js';
export { ControlConnection } from '../control/connection.js';
export type { CommandArgs, CommandName } from '../control/protocol.js';
export { PROTOCOL_VERSION } from '../control/protocol.js';
export type * from '../control/results.js';
export type { ErrorCode } from '../errors.js';
export { isLegiondError, LegiondError } from '../errors.js';
export type { WatchEvent, WatchLordEvent, WatchOptions, WatchScrollEvent } from './watch.js';
