/**
 * Result shapes of each control command, as the daemon returns them and legionctl prints them.
 * valor and epoch are decimal strings (u64); times are milliseconds.
 */
/** strong mode: whether the engine answers, since when not, what it last said, and the calls made */
export interface EngineHealth {
  backend: string;
  reachable: boolean;
  /** ISO time of the first failure of the current run of failures */
  unreachableSince: string | null;
  lastError: string | null;
  requests: number;
  failures: number;
}

export interface NodeRef {
  uuid: string;
  name: string;
}

export interface CheckStatus {
  command: string;
  state: string;
  consecutiveOk: number;
  consecutiveFail: number;
  /** of the last finished run; null before the first, or when it was killed */
  lastExitCode: number | null;
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
    /** announces decoded, authenticated and applied */
    accepted: number;
    /** packets dropped, by reason (an ERR_ code) */
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
  /** strong mode only: the backend (etcd, postgres) and whether it answers */
  backend?: string;
  engine?: EngineHealth;
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

/** the lord as one node sees it: its epoch is the one the lord announces, its scroll the newest heard */
export interface LordInfo {
  uuid: string;
  name: string;
  epoch: string;
  scroll: string;
}

export interface LordResult {
  legion: string;
  /** null while the legion has no lord; `self` is true when the answering node is the lord */
  lord: (LordInfo & { self: boolean }) | null;
}

/** what every event carries: the legion, the highest epoch this node knows, and its lord */
interface EventBase {
  legion: string;
  epoch: string;
  lord: NodeRef | null;
  /** ISO 8601 wall time */
  at: string;
}

export type HookEventType = 'setup' | 'join' | 'lord' | 'unlord' | 'node-joined' | 'node-left' | 'death';

/** the hook events, as this node runs them */
export interface HookControlEvent extends EventBase {
  type: HookEventType;
  /** node-joined and node-left */
  member?: NodeRef;
  /** unlord and node-left */
  reason?: string;
}

/** sent by every node (observers too) whenever the lord it sees changes, or the legion loses it */
export interface LordChangedEvent extends EventBase {
  type: 'lord-changed';
  lord: LordInfo | null;
}

/** a member published a new scroll */
export interface ScrollChangedEvent extends EventBase {
  type: 'scroll-changed';
  member: NodeRef & { scroll: string };
}

/** one line of the events stream; a newer daemon may send types not listed here */
export type ControlEvent = HookControlEvent | LordChangedEvent | ScrollChangedEvent;

/**
 * Every command's reply, by command name: the one schema both ends are typed from. The daemon's
 * handler must return these shapes (control-handler.ts) and the client hands them back typed.
 */
export interface ControlReplies {
  status: StatusResult;
  members: MembersResult;
  lord: LordResult;
  'valor.get': ValorResult;
  'valor.set': ValorResult;
  'scroll.get': ScrollResult;
  'scroll.set': ScrollResult;
  stepdown: StepdownResult;
  leave: LeaveResult;
}

export type ControlCommand = keyof ControlReplies;
