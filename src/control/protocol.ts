/**
 * The control protocol: newline-delimited JSON, one object per line, versioned. Pure: it turns
 * a line into a validated request or an error reply, and values into lines.
 *
 *   request  {v:1, id, cmd, args?}
 *   reply    {v:1, id, ok:true, result} | {v:1, id, ok:false, error:{code, message}}
 *   stream   after an ok reply to `events`, {v:1, id, event} lines until either side closes
 */
import { z } from 'zod';
import { MAX_DURATION_MS } from './values.js';

export const PROTOCOL_VERSION = 1;
export const MAX_LINE_BYTES = 64 * 1024;

export type ErrorCode =
  | 'ERR_BAD_REQUEST'
  | 'ERR_UNKNOWN_COMMAND'
  | 'ERR_VERSION'
  | 'ERR_UNKNOWN_LEGION'
  | 'ERR_INVALID_VALUE'
  | 'ERR_FORBIDDEN'
  | 'ERR_INTERNAL';

const legion = z.string().min(1).max(255);

/** argument shapes; values (valor range, scroll size, legion existence) are the handler's to judge */
export const commandArgs = {
  status: z.strictObject({}),
  members: z.strictObject({ legion: legion.optional() }),
  lord: z.strictObject({ legion }),
  'valor.get': z.strictObject({ legion }),
  'valor.set': z.strictObject({ legion, valor: z.string() }),
  stepdown: z.strictObject({
    legion,
    forMs: z.number().int().min(1).max(MAX_DURATION_MS).optional(),
    cancel: z.boolean().optional(),
  }),
  'scroll.get': z.strictObject({ legion }),
  'scroll.set': z.strictObject({ legion, scroll: z.string() }),
  events: z.strictObject({ legion: legion.optional() }),
  leave: z.strictObject({ legion }),
} as const;

export type CommandName = keyof typeof commandArgs;
export type CommandArgs<C extends CommandName> = z.infer<(typeof commandArgs)[C]>;
export const COMMANDS = Object.keys(commandArgs) as CommandName[];
export const STREAMING_COMMANDS: ReadonlySet<string> = new Set(['events']);
/** what the read-only socket serves: nothing that changes the node or the legion */
export const READ_COMMANDS: ReadonlySet<CommandName> = new Set<CommandName>([
  'status',
  'members',
  'lord',
  'events',
  'scroll.get',
  'valor.get',
]);

export interface Request {
  v: 1;
  id: number;
  cmd: CommandName;
  args: Record<string, unknown>;
}

export interface ErrorBody {
  code: string;
  message: string;
}

export type Reply =
  | { v: 1; id: number; ok: true; result: unknown }
  | { v: 1; id: number | null; ok: false; error: ErrorBody };

export type ParseResult = { ok: true; request: Request } | { ok: false; reply: Reply };

const envelope = z.object({
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  cmd: z.string().min(1).max(64),
  args: z.record(z.string(), z.unknown()).optional(),
});

function fail(id: number | null, code: ErrorCode, message: string): ParseResult {
  return { ok: false, reply: errorReply(id, code, message) };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

export function parseRequest(line: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return fail(null, 'ERR_BAD_REQUEST', 'request is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail(null, 'ERR_BAD_REQUEST', 'request must be a JSON object');
  }
  const obj = raw as Record<string, unknown>;
  // answer with the caller's id whenever it is usable, so it can match the error to its request
  const id = typeof obj.id === 'number' && Number.isSafeInteger(obj.id) && obj.id >= 0 ? obj.id : null;
  if (!('v' in obj)) return fail(id, 'ERR_BAD_REQUEST', 'missing protocol version "v"');
  if (obj.v !== PROTOCOL_VERSION) {
    return fail(
      id,
      'ERR_VERSION',
      `unsupported protocol version ${JSON.stringify(obj.v)}; this server speaks 1`,
    );
  }
  const env = envelope.safeParse(obj);
  if (!env.success) return fail(id, 'ERR_BAD_REQUEST', describeIssues(env.error));
  const { cmd } = env.data;
  if (!Object.hasOwn(commandArgs, cmd)) {
    return fail(env.data.id, 'ERR_UNKNOWN_COMMAND', `unknown command "${cmd}"`);
  }
  const args = commandArgs[cmd as CommandName].safeParse(env.data.args ?? {});
  if (!args.success) {
    return fail(env.data.id, 'ERR_BAD_REQUEST', `bad arguments for ${cmd}: ${describeIssues(args.error)}`);
  }
  return {
    ok: true,
    request: { v: 1, id: env.data.id, cmd: cmd as CommandName, args: args.data as Record<string, unknown> },
  };
}

export function errorReply(id: number | null, code: string, message: string): Reply {
  return { v: 1, id, ok: false, error: { code, message } };
}

/** bigint (valor, epoch) travels as a decimal string; Uint8Array never should, but stays readable */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return value;
}

export function encodeLine(message: object): string {
  return `${JSON.stringify(message, replacer)}\n`;
}

export function encodeRequest(id: number, cmd: string, args: Record<string, unknown> = {}): string {
  return encodeLine({ v: PROTOCOL_VERSION, id, cmd, args });
}

export function encodeResult(id: number, result: unknown): string {
  return encodeLine({ v: PROTOCOL_VERSION, id, ok: true, result: result ?? null });
}

export function encodeEvent(id: number, event: object): string {
  return encodeLine({ v: PROTOCOL_VERSION, id, event });
}

/** what a client may receive; checked loosely so a newer server's extra fields pass */
export type ServerMessage =
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number | null; error: ErrorBody }
  | { kind: 'event'; id: number; event: Record<string, unknown> };

export function parseServerLine(line: string): ServerMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const m = raw as Record<string, unknown>;
  if (m.v !== PROTOCOL_VERSION) return null;
  const id = typeof m.id === 'number' ? m.id : null;
  if (m.ok === true && id !== null) return { kind: 'result', id, result: m.result };
  if (m.ok === false && typeof m.error === 'object' && m.error !== null) {
    const e = m.error as Record<string, unknown>;
    return { kind: 'error', id, error: { code: String(e.code), message: String(e.message) } };
  }
  if (id !== null && typeof m.event === 'object' && m.event !== null) {
    return { kind: 'event', id, event: m.event as Record<string, unknown> };
  }
  return null;
}
