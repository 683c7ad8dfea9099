/**
 * A small LAN made of network namespaces: hosts and a client on one bridge, addresses in
 * 10.213.<subnet>.0/24 that exist only inside these namespaces. Needs root and `ip netns`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** the interface every host and the client has on the LAN */
export const DEV = 'e0';

export interface Node {
  /** short name, also the bridge port's name */
  name: string;
  ns: string;
  addr: string;
}

/** Throws a clear error when this machine cannot build namespaces (not root, no iproute2). */
export function requireNetns(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the netns tests need root (they create network namespaces); run them as root');
  }
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`the netns tests need "ip netns" (iproute2): ${(e as Error).message}`);
  }
}

export function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

export class Lan {
  readonly prefix: string;
  readonly bridgeNs: string;
  readonly hosts: Node[];
  readonly client: Node;
  private created: string[] = [];

  constructor(
    readonly subnet: number,
    hostCount: number,
    tag = 'lgd',
  ) {
    this.prefix = `${tag}${process.pid}`;
    this.bridgeNs = `${this.prefix}br`;
    this.hosts = Array.from({ length: hostCount }, (_, i) => this.node(`h${i + 1}`, i + 1));
    this.client = this.node('c', 100);
  }

  private node(name: string, octet: number): Node {
    return { name, ns: `${this.prefix}${name}`, addr: `10.213.${this.subnet}.${octet}` };
  }

  /** an address of the LAN no node has, for a VIP */
  spare(octet = 200): string {
    return `10.213.${this.subnet}.${octet}`;
  }

  get all(): Node[] {
    return [...this.hosts, this.client];
  }

  create(): void {
    this.addNs(this.bridgeNs);
    ip(['-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', this.bridgeNs, 'link', 'set', 'br0', 'up']);
    ip(['-n', this.bridgeNs, 'link', 'set', 'lo', 'up']);
    for (const n of this.all) {
      this.addNs(n.ns);
      // both ends are created inside namespaces, so nothing appears in the caller's namespace
      ip(['-n', n.ns, 'link', 'add', DEV, 'type', 'veth', 'peer', 'name', n.name, 'netns', this.bridgeNs]);
      ip(['-n', this.bridgeNs, 'link', 'set', n.name, 'master', 'br0']);
      ip(['-n', this.bridgeNs, 'link', 'set', n.name, 'up']);
      ip(['-n', n.ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', n.ns, 'addr', 'add', `${n.addr}/24`, 'dev', DEV]);
      ip(['-n', n.ns, 'link', 'set', DEV, 'up']);
    }
  }

  private addNs(ns: string): void {
    ip(['netns', 'add', ns]);
    this.created.push(ns);
  }

  /** Kills whatever still runs inside the namespaces, then deletes them. Safe to call twice. */
  destroy(): void {
    for (const ns of this.created.reverse()) {
      try {
        for (const pid of ip(['netns', 'pids', ns]).split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
        ip(['netns', 'del', ns]);
      } catch {
        // keep deleting the others
      }
    }
    this.created = [];
  }

  /** IPv4 addresses (with prefix) on DEV in a namespace */
  async addrs(n: Node): Promise<string[]> {
    const { stdout } = await run('ip', ['-n', n.ns, '-o', '-4', 'addr', 'show', 'dev', DEV], {
      timeout: 5000,
    });
    return [...stdout.matchAll(/ inet (\S+) /g)].map((m) => m[1]!);
  }

  /**
   * Which of `order` hold `cidr`, read one after the other in that order. Read a node that may
   * gain the address before one that may lose it: then two holders in one sample mean the two
   * really held it at the same time.
   */
  async holders(cidr: string, order: Node[] = this.hosts): Promise<string[]> {
    const out: string[] = [];
    for (const n of order) if ((await this.addrs(n)).includes(cidr)) out.push(n.name);
    return out;
  }

  /** Runs a command inside a namespace; resolves with stdout. */
  async exec(n: Node, argv: string[]): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', n.ns, ...argv], { timeout: 10_000 });
    return stdout;
  }

  /** Drops every IPv4 packet in and out of a host (ARP still passes), or lets them through again. */
  async isolate(n: Node, on: boolean): Promise<void> {
    if (on) {
      await this.exec(n, ['iptables', '-I', 'INPUT', '-i', DEV, '-j', 'DROP']);
      await this.exec(n, ['iptables', '-I', 'OUTPUT', '-o', DEV, '-j', 'DROP']);
    } else {
      await this.exec(n, ['iptables', '-F']);
    }
  }
}
