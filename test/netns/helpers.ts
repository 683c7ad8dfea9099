/**
 * A VIP legion on a namespace LAN: a name-answering HTTP server and a legiond (using
 * config/hooks/vip.sh) on every host, and a client that polls the VIP. Shared by the netns test
 * and bench/vip-downtime.ts.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, LEGIOND, type LogLine, Proc, ROOT, requireBuild } from '../helpers/procs.js';
import { DEV, Lan, type Node } from './topology.js';

export const VIP_HOOK = join(ROOT, 'config', 'hooks', 'vip.sh');
const SERVE = join(ROOT, 'test', 'netns', 'serve-name.mjs');
const POLL = join(ROOT, 'test', 'netns', 'poll.mjs');
const PORT = 4242;
const HTTP_PORT = 8080;

export interface Answer {
  t: number;
  ok: boolean;
  body?: string;
  err?: string;
}

/** one line of the VIP hook log: "<unix seconds> <node> up|down <addr> <dev>" */
export interface HookNote {
  t: number;
  node: string;
  action: 'up' | 'down';
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export class VipCluster {
  readonly lan: Lan;
  readonly lab: Lab;
  readonly vip: string;
  readonly hookLog: string;
  readonly servers = new Map<string, Proc>();
  readonly daemons = new Map<string, Proc>();
  poller: Proc | null = null;
  private readonly secret: string;
  private readonly onExit = () => this.destroyNow();

  constructor(subnet: number, tag = 'lgd') {
    this.lan = new Lan(subnet, 3, tag);
    this.lab = new Lab('legiond-netns-');
    this.vip = `${this.lan.spare()}/24`;
    this.hookLog = this.lab.path('vip-hooks.log');
    this.secret = this.lab.secret();
  }

  get hosts(): Node[] {
    return this.lan.hosts;
  }

  host(name: string): Node {
    const h = this.lan.hosts.find((n) => n.name === name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** a process in a namespace; `ip netns exec` execs it, so signals reach it directly */
  private spawnIn(n: Node, label: string, argv: string[], env: NodeJS.ProcessEnv = {}): Proc {
    const child = spawn('ip', ['netns', 'exec', n.ns, ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const p = new Proc(label, child);
    this.lab.procs.push(p);
    return p;
  }

  /**
   * Builds the LAN and starts the HTTP servers and the client's poller, which waits `pauseMs`
   * between requests and gives each `timeoutMs` (connect included).
   */
  async start(poll: { pauseMs: number; timeoutMs: number } = { pauseMs: 20, timeoutMs: 250 }): Promise<void> {
    requireBuild();
    // if the run is cut short, the namespaces and whatever runs in them still go
    process.once('exit', this.onExit);
    this.lan.create();
    await this.ensureServers();
    this.poller = this.spawnIn(this.lan.client, 'poller', [
      process.execPath,
      POLL,
      `http://${this.lan.spare()}:${HTTP_PORT}/`,
      String(poll.pauseMs),
      String(poll.timeoutMs),
    ]);
  }

  /** (Re)starts the HTTP server of every host whose server is not running. */
  async ensureServers(): Promise<void> {
    for (const h of this.hosts) {
      const s = this.servers.get(h.name);
      if (s && s.child.exitCode === null && s.child.signalCode === null) continue;
      const p = this.spawnIn(h, `http-${h.name}`, [process.execPath, SERVE, h.name, String(HTTP_PORT)]);
      this.servers.set(h.name, p);
      await p.waitFor((l) => l.msg === 'listening', 20_000, 'the HTTP server to listen');
    }
  }

  startLegiond(name: string, valor: number, extra: string[] = []): Proc {
    requireBuild();
    const h = this.host(name);
    const peers = this.hosts.filter((o) => o !== h).flatMap((o) => ['--peer', `${o.addr}:${PORT}`]);
    const hook = shellQuote(VIP_HOOK);
    const flags: Record<string, string> = {
      legion: 'vip',
      bind: `${h.addr}:${PORT}`,
      valor: String(valor),
      'node-name': h.name,
      quorum: '2',
      'secret-file': this.secret,
      control: this.lab.path(`${h.name}.sock`),
      'log-level': 'debug',
    };
    const args = [
      ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v]),
      ...peers,
      ...['setup', 'lord', 'unlord', 'death'].flatMap((e) => ['--on', `${e}=${hook}`]),
      ...extra,
    ];
    const p = this.spawnIn(h, `legiond-${h.name}`, [process.execPath, LEGIOND, ...args], {
      VIP_ADDR: this.vip,
      VIP_DEV: DEV,
      VIP_LOG: this.hookLog,
    });
    this.daemons.set(name, p);
    return p;
  }

  /**
   * Starts h1, h2, h3 with the given valors, h1 first so that the best node is there before a
   * quorum forms, and waits until `lord` has run its lord hook and the client reaches it.
   */
  async startLegion(valors: [number, number, number], lord: string, extra: string[] = []): Promise<Proc[]> {
    const since = Date.now();
    const first = this.startLegiond('h1', valors[0], extra);
    // generous: on a loaded machine a node process can take seconds to start
    await first.waitFor((l) => l.event === 'setup', 20_000, 'h1 to start');
    const procs = [
      first,
      this.startLegiond('h2', valors[1], extra),
      this.startLegiond('h3', valors[2], extra),
    ];
    await this.daemon(lord).waitFor(hookFinished('lord'), 20_000, `${lord}'s lord hook to finish`);
    await this.waitAnswer(lord, since, 10_000);
    return procs;
  }

  daemon(name: string): Proc {
    const p = this.daemons.get(name);
    if (!p) throw new Error(`legiond on ${name} was not started`);
    return p;
  }

  answers(): Answer[] {
    return (this.poller?.lines ?? []) as unknown as Answer[];
  }

  /** waits for an answer from `host` after `since` (ms since the epoch) */
  async waitAnswer(host: string, since: number, timeoutMs: number): Promise<Answer> {
    if (!this.poller) throw new Error('the poller is not running');
    const hit = await this.poller.waitFor(
      (l) => l.ok === true && l.body === host && Number(l.t) > since,
      timeoutMs,
      `the client to reach ${host} through the VIP`,
    );
    return hit as unknown as Answer;
  }

  notes(): HookNote[] {
    let text = '';
    try {
      text = readFileSync(this.hookLog, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [t, node, action] = l.split(' ');
        return { t: Number(t), node: node ?? '', action: action as HookNote['action'] };
      });
  }

  holders(order?: Node[]): Promise<string[]> {
    return this.lan.holders(this.vip, order);
  }

  /** Stops every legiond (SIGKILL) and puts the hosts back as they were: no VIP, no filter. */
  async resetHosts(): Promise<void> {
    const ds = [...this.daemons.values()];
    for (const d of ds) d.kill('SIGKILL');
    await Promise.all(ds.map((d) => Promise.race([d.exited, new Promise((r) => setTimeout(r, 3000))])));
    this.daemons.clear();
    for (const h of this.hosts) {
      await this.lan.isolate(h, false);
      if ((await this.lan.addrs(h)).includes(this.vip))
        await this.lan.exec(h, ['ip', 'addr', 'del', this.vip, 'dev', DEV]);
    }
    await this.ensureServers();
  }

  /** The synchronous last resort (process exit, a signal): kill, delete, remove. */
  destroyNow(): void {
    this.lan.destroy();
    rmSync(this.lab.dir, { recursive: true, force: true });
  }

  /** Kills every process, deletes the namespaces and the scratch directory. */
  async close(): Promise<void> {
    try {
      await this.lab.cleanup();
    } finally {
      this.lan.destroy();
      process.off('exit', this.onExit);
    }
  }
}

/** the line legiond logs when the hooks of `event` have finished */
export const hookFinished =
  (event: string) =>
  (l: LogLine): boolean =>
    l.msg === 'hook finished' && l.event === event;

/** an event line of legiond's own (not a hook's start, finish or output), optionally naming the lord */
export const eventLine =
  (type: string, lord?: string) =>
  (l: LogLine): boolean =>
    l.event === type && !('command' in l) && (lord === undefined || l.lord === lord);
