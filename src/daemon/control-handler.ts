import type { ControlHandler } from '../control/handler.js';
import { LegiondError } from '../errors.js';
import { U64_MAX } from '../u64.js';
import type { LegionHost } from './legion-host.js';

function str(args: Record<string, unknown>, key: string): string {
  const v = args[key];
  if (typeof v !== 'string') throw new LegiondError('ERR_BAD_REQUEST', `"${key}" must be a string`);
  return v;
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

  async request(cmd: string, args: Record<string, unknown>): Promise<unknown> {
    switch (cmd) {
      case 'status':
        return { pid: process.pid, legions: this.selected(args).map((h) => h.status()) };
      case 'members':
        return { legions: this.selected(args).map((h) => ({ legion: h.name, members: h.members() })) };
      case 'valor.get':
        return this.host(args).valor();
      case 'valor.set': {
        const raw = str(args, 'valor');
        if (!/^\d{1,20}$/.test(raw) || BigInt(raw) > U64_MAX) {
          throw new LegiondError(
            'ERR_INVALID_VALUE',
            `valor must be an integer from 0 to ${U64_MAX}, got "${raw}"`,
          );
        }
        const host = this.host(args);
        if (host.cfg.protocol === 'uwsgi' && BigInt(raw) > 65535n) {
          throw new LegiondError(
            'ERR_INVALID_VALUE',
            'valor must be at most 65535 on a uwsgi legion (uWSGI keeps it in 16 bits)',
          );
        }
        return host.setValor(BigInt(raw));
      }
      case 'scroll.get':
        return this.host(args).scroll();
      case 'scroll.set':
        return this.host(args).setScroll(str(args, 'scroll'));
      case 'stepdown': {
        const forMs = args.forMs;
        if (forMs !== undefined && (typeof forMs !== 'number' || !Number.isFinite(forMs) || forMs <= 0)) {
          throw new LegiondError('ERR_INVALID_VALUE', 'forMs must be a positive number of milliseconds');
        }
        return this.host(args).stepdown((forMs as number | undefined) ?? null, args.cancel === true);
      }
      case 'leave': {
        const h = this.host(args);
        await this.onLeave(h);
        return { legion: h.name, left: true };
      }
      default:
        throw new LegiondError('ERR_UNKNOWN_COMMAND', `unknown command "${cmd}"`);
    }
  }

  subscribe(legion: string | null, listener: (event: object) => void): () => void {
    const hosts = legion === null ? this.hosts() : [this.host({ legion })];
    const offs = hosts.map((h) => h.subscribe(listener));
    return () => {
      for (const off of offs) off();
    };
  }
}
