/**
 * Result shapes of each control command, as the daemon returns them and legionctl prints them.
 * valor and epoch are decimal strings (u64); times are milliseconds.
 */
export interface NodeRef {
  uuid: string;
  name: string;
}

export interface CheckStatus {
  command: string;
  state: string;
  consecutiveOk: number;
  consecutiveFail: number;
}

export interface LegionStatus {
  legion: string;
  protocol: string;
  uuid: string;
  name: string;
  lord: NodeRef | null;
  epoch: string;
  quorum: number;
  quorumMet: boolean;
  votes: number;
  baseValor: string;
  valor: string;
  draining: boolean;
  drainingUntilMs: number | null;
  phase: string;
  members: number;
  counters: {
    packetsSent: number;
    packetsReceived: number;
    bytesSent: number;
    bytesReceived: number;
    rejected: Record<string, number>;
    /** when peers are learned through seeds */
    learning?: {
      learnedPeers: number;
      learnRefused: number;
      hintsSent: number;
      hintsReceived: number;
      hintsDropped: number;
    };
  };
  checks: CheckStatus[];
}

export interface StatusResult {
  pid: number;
  legions: LegionStatus[];
}

export interface MemberRow {
  uuid: string;
  name: string;
  valor: string;
  lord: boolean;
  arbiter: boolean;
  /** follows only: never votes, stands or counts toward quorum */
  observer: boolean;
  draining: boolean;
  self: boolean;
  /** ms since last heard */
  lastSeenMs: number;
  scroll: string;
}

export interface MembersResult {
  legions: Array<{ legion: string; members: MemberRow[] }>;
}

export interface ValorResult {
  legion: string;
  baseValor: string;
  valor: string;
}

export interface ScrollResult {
  legion: string;
  scroll: string;
}

export interface StepdownResult {
  legion: string;
  draining: boolean;
  drainingUntilMs: number | null;
}

export interface LeaveResult {
  legion: string;
  left: true;
}

export interface ControlEvent {
  legion: string;
  type: string;
  epoch: string;
  /** lord-changed: the new lord (null: none) with its epoch (decimal) and scroll (UTF-8 text) */
  lord: (NodeRef & { epoch?: string; scroll?: string }) | null;
  /** node-joined, node-left; scroll-changed: with the member's new scroll (UTF-8 text) */
  member?: NodeRef & { scroll?: string };
  reason?: string;
  /** ISO 8601 wall time */
  at: string;
}

/**
 * Every command's reply, by command name: the one schema both ends are typed from. The daemon's
 * handler must return these shapes (control-handler.ts) and the client hands them back typed.
 */
export interface ControlReplies {
  status: StatusResult;
  members: MembersResult;
  'valor.get': ValorResult;
  'valor.set': ValorResult;
  'scroll.get': ScrollResult;
  'scroll.set': ScrollResult;
  stepdown: StepdownResult;
  leave: LeaveResult;
}

export type ControlCommand = keyof ControlReplies;
