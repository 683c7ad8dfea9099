/**
 * A three-node legiond legion on `backend: postgres` whose lord-only work is the workload of
 * test/helpers/workload.ts (an attached daemon and the lord/unlord hook span). Each node reaches
 * the server through its own TcpProxy, so a test can cut or slow one node's link while the
 * others still reach the server.
 *
 * The YAML is WorkLegion's (test/helpers/workload.ts) with the UDP keys taken out and the engine
 * section put in: in strong mode the engine decides lordship, and `bind`, `peers`, `secret_file`
 * and `quorum` are configuration errors.
 */
import { writeFileSync } from 'node:fs';
import { TcpProxy } from '../helpers/pg-proxy.js';
import type { PgServer } from '../helpers/pg-server.js';
import { Lab } from '../helpers/procs.js';
import { killLeftovers, nodeYaml, WorkLegion, type WorkLegionInit } from '../helpers/workload.js';

const UDP_ONLY = /^ {4}(bind|peers|secret_file|quorum):/;

export class PgWorkLegion extends WorkLegion {
  readonly proxies = new Map<string, TcpProxy>();

  private constructor(
    lab: Lab,
    o: WorkLegionInit,
    private readonly ttlMs: number,
  ) {
    super(lab, o);
  }

  static async create(server: PgServer, o: WorkLegionInit & { ttlMs: number }): Promise<PgWorkLegion> {
    const L = new PgWorkLegion(new Lab('legiond-pg-legion-'), o, o.ttlMs);
    for (const n of L.nodes) L.proxies.set(n.name, await TcpProxy.start(server.port));
    return L;
  }

  proxy(name: string): TcpProxy {
    const p = this.proxies.get(name);
    if (!p) throw new Error(`no proxy for ${name}`);
    return p;
  }

  override write(name: string): string {
    const n = this.node(name);
    const url = `postgresql://postgres@127.0.0.1:${this.proxy(name).port}/postgres`;
    const lines = nodeYaml(n.spec)
      .split('\n')
      .filter((l) => !UDP_ONLY.test(l));
    const at = lines.findIndex((l) => l.startsWith('    node_name:'));
    lines.splice(
      at + 1,
      0,
      '    backend: postgres',
      '    postgres:',
      `      url: ${url}`,
      `      ttl: ${this.ttlMs}ms`,
    );
    writeFileSync(n.file, lines.join('\n'));
    return n.file;
  }

  /**
   * As WorkLegion.startAll, with bounds for a first lord that must also connect, create the
   * schema and be granted the title (a busy shared machine takes its time over all of that).
   */
  override async startAll(names = this.nodes.map((n) => n.name)): Promise<string> {
    const sorted = [...names].sort((a, b) => this.node(b).spec.valor - this.node(a).spec.valor);
    const top = sorted[0]!;
    await this.start(top).waitEvent('lord', 60_000);
    for (const n of sorted.slice(1)) this.start(n);
    await this.settle(top, names, 60_000);
    return top;
  }

  async close(): Promise<void> {
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
  }

  /** the lord as the node `name` reports it, or null (no lord, or no answer) */
  async lordSeenBy(name: string): Promise<string | null> {
    return (await this.status(name))?.lord?.name ?? null;
  }
}

/** one PgWorkLegion per test, torn down after it (call cleanup from afterEach) */
export function pgLegions(server: () => PgServer) {
  let legion: PgWorkLegion | null = null;
  let lab: Lab | null = null;
  return {
    async make(o: WorkLegionInit & { ttlMs: number }): Promise<PgWorkLegion> {
      legion = await PgWorkLegion.create(server(), o);
      lab = legion.lab;
      return legion;
    },
    async cleanup(): Promise<void> {
      const l = legion;
      legion = null;
      if (l) {
        await l.stopAll().catch(() => {});
        killLeftovers(l.w.log);
        await l.close();
      }
      await lab?.cleanup();
      lab = null;
    },
  };
}
