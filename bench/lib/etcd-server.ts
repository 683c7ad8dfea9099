/**
 * A single-member etcd (Debian's etcd-server) for the engines bench: its own data directory,
 * client and peer URLs on 127.0.0.1 with free random ports, /metrics on the client URL.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/pg-server.js';
import { until } from './clock.js';
import { type Proc, spawnProc } from './procs.js';

export class EtcdServer {
  private constructor(
    readonly proc: Proc,
    readonly clientPort: number,
    readonly log: string,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  static async start(dir: string): Promise<EtcdServer> {
    if (!existsSync('/usr/bin/etcd')) throw new Error('etcd is not installed: apt-get install etcd-server');
    const [client, peer] = [await freePort(), await freePort()];
    const log = join(dir, 'etcd.log');
    const proc = spawnProc(
      'etcd',
      'etcd',
      [
        '--name',
        'bench',
        '--data-dir',
        join(dir, 'etcd-data'),
        '--listen-client-urls',
        `http://127.0.0.1:${client}`,
        '--advertise-client-urls',
        `http://127.0.0.1:${client}`,
        '--listen-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-cluster',
        `bench=http://127.0.0.1:${peer}`,
        '--log-level',
        'warn',
        // per-message gRPC counters, lease keep-alive stream messages included
        '--metrics',
        'extensive',
      ],
      { logFile: log },
    );
    const srv = new EtcdServer(proc, client, log);
    await until(
      'etcd healthy',
      30_000,
      async () => {
        if (!proc.running) throw new Error(`etcd exited at start; see ${log}`);
        try {
          const r = await fetch(`${srv.endpoint}/health`);
          return r.ok ? true : undefined;
        } catch {
          return undefined;
        }
      },
      100,
    );
    return srv;
  }

  /** gRPC messages received so far, all services (a lease keep-alive is one, a campaign is one) */
  async requests(): Promise<number> {
    const text = await (await fetch(`${this.endpoint}/metrics`)).text();
    let total = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('grpc_server_msg_received_total{'))
        total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return total;
  }

  async stop(): Promise<void> {
    await this.proc.stop(5000);
  }
}
