/**
 * The reference of bench/engines.ts for etcd: `etcdctl elect NAME PROPOSAL` (Debian's
 * etcd-client) campaigns on a session lease and, once elected, prints the leader key and holds
 * until it is signalled; this wrapper starts the workload when that first line arrives.
 *
 *   node --import tsx bench/lib/etcd-elect-runner.ts ENDPOINT ELECTION NAME -- WORKLOAD...
 *
 * SIGTERM: stop the workload (SIGTERM, wait), then SIGTERM etcdctl, which resigns (revokes its
 * session lease) and exits. A crash (SIGKILL of the process group) leaves the lease to expire:
 * etcdctl 3.4's session TTL is fixed at 60 s. etcdctl exiting on its own stops the workload.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';

const [endpoint, election, name, sep, ...workload] = process.argv.slice(2);
if (!endpoint || !election || !name || sep !== '--') {
  process.stderr.write('usage: etcd-elect-runner ENDPOINT ELECTION NAME -- WORKLOAD...\n');
  process.exit(2);
}

const elect = spawn('etcdctl', ['--endpoints', endpoint, 'elect', election, name], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let child: ChildProcess | null = null;

createInterface({ input: elect.stdout! }).on('line', (line) => {
  if (child || workload.length === 0) return;
  process.stdout.write(`${name} elected: ${line}\n`);
  const [cmd, ...args] = workload;
  child = spawn(cmd!, args, {
    stdio: 'ignore',
    env: { ...process.env, LEGION_NODE_NAME: name, LEGION_NODE_UUID: randomUUID(), LEGION_EPOCH: '-' },
  });
});

async function stopWorkload(): Promise<void> {
  const c = child;
  if (!c || c.exitCode !== null) return;
  const gone = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await gone;
}

elect.once('exit', () => {
  void stopWorkload().then(() => process.exit(1));
});
process.on('SIGTERM', () => {
  elect.removeAllListeners('exit');
  void stopWorkload().then(() => {
    elect.once('exit', () => process.exit(0));
    elect.kill('SIGTERM');
  });
});
