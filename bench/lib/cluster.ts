/**
 * A three-node legion of real processes (legiond or uWSGI) for failover trials. The killed lord
 * comes back with a valor below every other node, so its return changes nothing and the next
 * trial starts from a settled legion whose lord is the best survivor.
 */
import { join } from 'node:path';
import { sleep, until } from './clock.js';
import { HookLog, lordHookCommand } from './hook-log.js';
import { legiondStatus, startLegiond } from './legiond-node.js';
import { takePorts } from './ports.js';
import type { Proc } from './procs.js';
import { startUwsgi } from './uwsgi-node.js';

export interface ClusterNode {
  slot: number;
  name: string;
  valor: number;
  proc: Proc;
  control: string | null;
  logFile: string;
}

export interface ClusterTiming {
  impl: 'legiond' | 'uwsgi';
  intervalMs: number;
  toleranceMs: number;
  /** pass no timing flags to legiond (its own defaults) */
  daemonDefaults?: boolean;
}

const SIZE = 3;
// uWSGI keeps valor in 16 bits: stay well below 65536
const TOP_VALOR = 10_000;

export class FailoverCluster {
  readonly hooks: HookLog;
  readonly nodes: (ClusterNode | null)[] = Array.from({ length: SIZE }, () => null);
  private readonly ports = takePorts(SIZE);
  private readonly incarnations = new Array<number>(SIZE).fill(0);
  private lowestValor = TOP_VALOR;
  private readonly legion = `bench${Math.floor(Math.random() * 1e6)}`;

  constructor(
    readonly timing: ClusterTiming,
    readonly dir: string,
    readonly secretFile: string,
  ) {
    this.hooks = new HookLog(dir);
  }

  /** Starts every node and waits until the best of them is lord everywhere. */
  async start(): Promise<void> {
    for (let slot = 0; slot < SIZE; slot++) this.spawn(slot, TOP_VALOR + SIZE - slot);
    const top = this.nodes[0]!;
    // uWSGI needs a few steps of unanimous checksums before its first lord hook
    await this.hooks.next(
      'the first lord hook',
      10 * this.timing.intervalMs + 15_000,
      (s) => s.node === top.name,
    );
    await this.settle();
    this.hooks.drain();
  }

  /** The best live node: the lord once settled. */
  lord(): ClusterNode {
    return this.live().sort((a, b) => b.valor - a.valor)[0]!;
  }

  live(): ClusterNode[] {
    return this.nodes.filter((n): n is ClusterNode => n?.proc.running === true);
  }

  /** Starts the slot again (new identity) with the lowest valor of the legion. */
  restart(slot: number): ClusterNode {
    this.lowestValor -= 1;
    return this.spawn(slot, this.lowestValor);
  }

  /** Until every node sees all three and agrees the best is lord. */
  async settle(): Promise<void> {
    const expected = this.lord();
    const { intervalMs, toleranceMs } = this.timing;
    if (this.timing.impl === 'uwsgi') {
      // no control socket: a returning member is known and voted on after a few steps
      await sleep(3 * intervalMs + 1000);
      return;
    }
    await until(
      'legiond nodes to agree on the lord',
      4 * toleranceMs + 10 * intervalMs + 10_000,
      async () => {
        const st = await Promise.all(this.live().map((n) => legiondStatus(n.control!)));
        const ok =
          st.length === SIZE &&
          st.every((s) => s !== null && s.members === SIZE && s.lord?.name === expected.name);
        return ok ? true : undefined;
      },
      25,
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.live().map((n) => n.proc.stop(3000)));
  }

  private spawn(slot: number, valor: number): ClusterNode {
    this.incarnations[slot]! += 1;
    const name = `s${slot}i${this.incarnations[slot]}`;
    const bind = `127.0.0.1:${this.ports[slot]}`;
    const peers = this.ports.filter((_, i) => i !== slot).map((p) => `127.0.0.1:${p}`);
    const logFile = join(this.dir, `${name}.log`);
    const hook = lordHookCommand(this.dir, name);
    const t = this.timing;
    let node: ClusterNode;
    if (t.impl === 'uwsgi') {
      const proc = startUwsgi({
        legion: this.legion,
        name,
        bind,
        peers,
        valor,
        secret: 'bench-secret',
        freqS: t.intervalMs / 1000,
        toleranceS: t.toleranceMs / 1000,
        lordHook: hook,
        logFile,
      });
      node = { slot, name, valor, proc, control: null, logFile };
    } else {
      const control = join(this.dir, `${name}.sock`);
      const proc = startLegiond({
        legion: this.legion,
        name,
        bind,
        peers,
        valor,
        secretFile: this.secretFile,
        ...(t.daemonDefaults ? {} : { intervalMs: t.intervalMs, toleranceMs: t.toleranceMs }),
        hooks: { lord: hook },
        control,
        logFile,
        // info logs carry the moment the node decided it is lord (see legiond-log.ts)
        logLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
      });
      node = { slot, name, valor, proc, control, logFile };
    }
    this.nodes[slot] = node;
    return node;
  }
}
