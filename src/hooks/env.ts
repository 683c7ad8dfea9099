/** The context a command starts with: LEGION_* variables and the member list as JSON on stdin. */
import type { LegionEvent, LegionView, MemberInfo } from '../legion/types.js';
import type { HookContext } from './types.js';

/** What a hook reads on stdin for each member. */
export interface MemberJson {
  uuid: string;
  name: string;
  valor: string;
  lord: boolean;
  arbiter: boolean;
  draining: boolean;
  self: boolean;
  scroll: string;
  /** ms since this node last heard the member (directly or by attestation); 0 for itself */
  lastSeenMs: number;
}

const decoder = new TextDecoder('utf-8');

/** `now`: the monotonic instant the list was taken, which member stamps are on */
export function memberJson(m: MemberInfo, now: number): MemberJson {
  return {
    uuid: m.uuid,
    name: m.name,
    valor: m.valor.toString(),
    lord: m.lord,
    arbiter: m.arbiter,
    draining: m.draining,
    self: m.self,
    scroll: decoder.decode(m.scroll),
    // the core's stamps are on the daemon's monotonic clock, which means nothing to a hook
    lastSeenMs: m.self ? 0 : Math.max(0, Math.round(now - m.lastSeenMs)),
  };
}

interface ContextSource {
  event: string;
  epoch: bigint;
  self: MemberInfo;
  lord: MemberInfo | null;
  member?: MemberInfo;
  reason?: string;
  members: MemberInfo[];
}

function buildContext(legion: string, src: ContextSource): HookContext {
  const env: Record<string, string> = {
    LEGION_NAME: legion,
    LEGION_EVENT: src.event,
    LEGION_EPOCH: src.epoch.toString(),
    LEGION_NODE_UUID: src.self.uuid,
    LEGION_NODE_NAME: src.self.name,
    LEGION_VALOR: src.self.valor.toString(),
    LEGION_LORD_UUID: src.lord?.uuid ?? '',
    LEGION_LORD_NAME: src.lord?.name ?? '',
    // decoded as LEGION_MEMBER_SCROLL is: a follower reads the lord's address from it
    LEGION_LORD_SCROLL: src.lord ? decoder.decode(src.lord.scroll) : '',
    LEGION_REASON: src.reason ?? '',
  };
  if (src.member) {
    env.LEGION_MEMBER_UUID = src.member.uuid;
    env.LEGION_MEMBER_NAME = src.member.name;
    env.LEGION_MEMBER_VALOR = src.member.valor.toString();
    env.LEGION_MEMBER_SCROLL = decoder.decode(src.member.scroll);
  }
  // Names come from the network too; a NUL would make spawn refuse the whole environment.
  for (const [k, v] of Object.entries(env)) env[k] = v.replaceAll('\0', '');
  const now = src.self.lastSeenMs;
  return { env, stdin: `${JSON.stringify(src.members.map((m) => memberJson(m, now)))}\n` };
}

export function eventContext(legion: string, event: LegionEvent): HookContext {
  return buildContext(legion, { ...event, event: event.type });
}

/** For lord-only work (cron, daemons, checks): the current view, with LEGION_EVENT set to `kind`. */
export function viewContext(view: LegionView, kind: string): HookContext {
  return buildContext(view.legion, {
    event: kind,
    epoch: view.epoch,
    self: view.self,
    lord: view.lord,
    members: view.members,
  });
}

/**
 * The child's environment: the daemon's own, minus any LEGION_* it inherited (so a stale
 * LEGION_MEMBER_UUID can never leak into a lord hook), plus the context.
 */
export function childEnv(base: NodeJS.ProcessEnv, ctx: HookContext): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('LEGION_')) env[k] = v;
  return { ...env, ...ctx.env };
}
