/**
 * A WorkLegion (test/helpers/workload.ts) in strong mode on a real etcd: every legiond reaches
 * etcd through its own TcpProxy, so a test can cut or slow one node's link while its peers keep
 * theirs. The nodes' YAML is the workload legion's, with `backend: etcd` instead of the UDP keys.
 */
import { writeFileSync } from 'node:fs';
import { EtcdServer } from './etcd-server.js';
import { Lab } from './procs.js';
import { TcpProxy } from './tcp-proxy.js';
import { killLeftovers, type NodeYaml, WorkLegion, type WorkLegionInit } from './workload.js';

export const ENGINE_TTL_MS = 2000;

function engineYaml(n: NodeYaml, endpoint: string, ttlMs: number, httpPort: number | null): string {
  const j = JSON.stringify;
  const out = [
    `control: ${j(n.control)}`,
    ...(httpPort !== null ? [`http: {listen: 127.0.0.1:${httpPort}}`] : []),
    ...(n.stateDir ? [`state_dir: ${j(n.stateDir)}`] : []),
    'log_level: debug',
    'legions:',
    '  - name: web',
    `    node_name: ${n.name}`,
    `    valor: ${n.valor}`,
    '    backend: etcd',
    `    etcd: {endpoints: [${j(endpoint)}], prefix: /test, ttl: ${ttlMs}ms}`,
    `    preempt: ${n.preempt ?? true}`,
    '    hook_timeout: 10s',
  ];
  const hooks = Object.entries(n.hooks ?? {});
  if (hooks.length > 0) {
    out.push('    hooks:');
    for (const [ev, cmds] of hooks) out.push(`      ${ev}: ${j(cmds)}`);
  }
  if (n.daemons?.length) {
    out.push('    daemons:');
    for (const d of n.daemons)
      out.push(
        `      - command: ${j(d.command)}`,
        `        grace: ${d.graceMs ?? 1000}ms`,
        `        restart_backoff: ${d.restartBackoffMs ?? 200}ms`,
      );
  }
  out.push(...(n.extra ?? []));
  return `${out.join('\n')}\n`;
}

export class EngineLegion extends WorkLegion {
  constructor(
    lab: Lab,
    o: WorkLegionInit,
    readonly etcd: EtcdServer,
    readonly proxies: Map<string, TcpProxy>,
    readonly ttlMs: number,
    /** node i serves /healthz and /readyz on 127.0.0.1:httpBase+i */
    readonly httpBase: number | null = null,
  ) {
    super(lab, o);
  }

  /** GET /readyz of a node: its HTTP status */
  async readyz(name: string): Promise<number> {
    if (this.httpBase === null) throw new Error('no http configured');
    const port = this.httpBase + this.nodes.indexOf(this.node(name));
    const r = await fetch(`http://127.0.0.1:${port}/readyz`);
    return r.status;
  }

  override write(name: string): string {
    const n = this.node(name);
    const proxy = this.proxies.get(name);
    if (!proxy) throw new Error(`no proxy for ${name}`);
    const http = this.httpBase === null ? null : this.httpBase + this.nodes.indexOf(n);
    writeFileSync(n.file, engineYaml(n.spec, proxy.endpoint, this.ttlMs, http));
    return n.file;
  }

  proxy(name: string): TcpProxy {
    return this.proxies.get(name)!;
  }
}

/** One etcd, proxies and EngineLegion per test, all torn down after it (register `cleanup` with afterEach). */
export function engineLegions() {
  let lab: Lab | null = null;
  let etcd: EtcdServer | null = null;
  let legion: EngineLegion | null = null;
  const proxies = new Map<string, TcpProxy>();
  return {
    async make(
      o: Omit<WorkLegionInit, 'base'> & { ttlMs?: number; httpBase?: number },
    ): Promise<EngineLegion> {
      lab = new Lab('legiond-engine-');
      etcd = new EtcdServer();
      await etcd.start();
      const n = (o.valors ?? [100, 200, 300]).length;
      for (let i = 1; i <= n; i++) {
        const p = new TcpProxy('127.0.0.1', etcd.clientPort);
        await p.start();
        proxies.set(`n${i}`, p);
      }
      legion = new EngineLegion(
        lab,
        { ...o, base: 45100 },
        etcd,
        proxies,
        o.ttlMs ?? ENGINE_TTL_MS,
        o.httpBase ?? null,
      );
      return legion;
    },
    async cleanup(): Promise<void> {
      if (legion) killLeftovers(legion.w.log);
      legion = null;
      await lab?.cleanup();
      lab = null;
      for (const p of proxies.values()) await p.stop();
      proxies.clear();
      await etcd?.cleanup();
      etcd = null;
    },
  };
}
