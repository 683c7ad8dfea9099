import type { ControlHandler } from '../control/handler.js';
import type { ControlCommand, ControlReplies, LordResult } from '../control/results.js';
import { parseU64 } from '../control/values.js';
import { LegiondError } from '../errors.js';
import type { LegionHost } from './legion-host.js';

function str(args: Record<string, unknown>, key: string): string {
  const v = args[key];
  if (typeof v !== 'string') throw new LegiondError('ERR_BAD_REQUEST', `"${key}" must be a string`);
  return v;
}

const text = new TextDecoder();

/**
 * The lord as this node sees it, with the epoch lord-changed names: the one a peer lord announces,
 * or this node's lordship's when it is the lord (the highest it knows may be above it).
 */
function lordOf(h: LegionHost): LordResult {
  const l = h.view().lord;
  if (!l) return { legion: h.name, lord: null };
  const epoch = (l.self ? h.lordshipEpoch() : null) ?? l.epoch;
  return {
    legion: h.name,
    lord: { uuid: l.uuid, name: l.name, epoch: String(epoch), scroll: text.decode(l.scroll), self: l.self },
  };
}

/** Maps control-socket commands onto the running legions. */
export class DaemonControl implements ControlHandler {
  constructor(
    private readonly hosts: () => LegionHost[],
    private readonly onLeave: (host: LegionHost) => Promise<void>,
  ) {}

  private host(args: Record<string, unknown>): LegionHost {
    const name = str(args, 'legion');
    const h = this.hosts().find((x) => x.name === name && !x.hasLeft);
    if (!h) throw new LegiondError('ERR_UNKNOWN_LEGION', `no legion named "${name}" is running here`);
    return h;
  }

  private selected(args: Record<string, unknown>): LegionHost[] {
    return args.legion === undefined || args.legion === null
      ? this.hosts().filter((h) => !h.hasLeft)
      : [this.host(args)];
  }

  /** one entry per command: the compiler holds each reply to its ControlReplies shape */
  private readonly commands: {
    [K in ControlCommand]: (args: Record<string, unknown>) => ControlReplies[K] | Promise<ControlReplies[K]>;
  } = {
    status: (args) => ({ pid: process.pid, legions: this.selected(args).map((h) => h.status()) }),
    members: (args) => ({
      legions: this.selected(args).map((h) => ({ legion: h.name, members: h.members() })),
    }),
    lord: (args) => lordOf(this.host(args)),
    'valor.get': (args) => this.host(args).valor(),
    'valor.set': (args) => {
      // the same parser as legionctl's; the core refuses out-of-range values once more, as input
      const valor = parseU64(str(args, 'valor'), 'valor');
      const host = this.host(args);
      if (host.cfg.protocol === 'uwsgi' && valor > 65535n) {
        throw new LegiondError(
          'ERR_INVALID_VALUE',
          'valor must be at most 65535 on a uwsgi legion (uWSGI keeps it in 16 bits)',
        );
      }
      return host.setValor(valor);
    },
    'scroll.get': (args) => this.host(args).scroll(),
    'scroll.set': (args) => this.host(args).setScroll(str(args, 'scroll')),
    stepdown: (args) => {
      const forMs = args.forMs;
      if (forMs !== undefined && (typeof forMs !== 'number' || !Number.isFinite(forMs) || forMs <= 0)) {
        throw new LegiondError('ERR_INVALID_VALUE', 'forMs must be a positive number of milliseconds');
      }
      return this.host(args).stepdown((forMs as number | undefined) ?? null, args.cancel === true);
    },
    leave: async (args) => {
      const h = this.host(args);
      await this.onLeave(h);
      return { legion: h.name, left: true };
    },
  };

  async request(cmd: string, args: Record<string, unknown>): Promise<unknown> {
    if (!Object.hasOwn(this.commands, cmd))
      throw new LegiondError('ERR_UNKNOWN_COMMAND', `unknown command "${cmd}"`);
    return await this.commands[cmd as ControlCommand](args);
  }

  subscribe(legion: string | null, listener: (event: object) => void): () => void {
    const hosts = legion === null ? this.hosts() : [this.host({ legion })];
    const offs = hosts.map((h) => h.subscribe(listener));
    return () => {
      for (const off of offs) off();
    };
  }
}
