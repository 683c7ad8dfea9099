/**
 * `npm start`: three legiond processes on loopback that elect a lord; every few seconds the lord
 * is killed (SIGKILL and SIGTERM in turn), the failover is shown with its latency, and the victim
 * comes back. Runs until Ctrl-C, or for `--duration SECONDS`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const legiond = join(here, '..', 'cli', 'legiond.js');

interface Node {
  name: string;
  valor: number;
  port: number;
  proc: ChildProcess | null;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(v) ? v : fallback;
}

const duration = arg('--duration', 0) * 1000;
const basePort = arg('--base-port', 47001);
const killEvery = arg('--kill-every', 6) * 1000;
const t0 = performance.now();
const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(2).padStart(6)}s]`;
const say = (msg: string) => process.stdout.write(`${stamp()} ${msg}\n`);

const dir = mkdtempSync(join(tmpdir(), 'legiond-demo-'));
const secret = join(dir, 'secret');
writeFileSync(secret, randomBytes(32).toString('hex'), { mode: 0o600 });

const nodes: Node[] = [
  { name: 'alpha', valor: 300, port: basePort, proc: null },
  { name: 'bravo', valor: 200, port: basePort + 1, proc: null },
  { name: 'charlie', valor: 100, port: basePort + 2, proc: null },
];
let lord: string | null = null;
let killedAt: { at: number; how: string; victim: string } | null = null;
let round = 0;
let stopping = false;

function start(n: Node): void {
  const peers = nodes.filter((p) => p !== n).flatMap((p) => ['--peer', `127.0.0.1:${p.port}`]);
  const proc = spawn(
    process.execPath,
    [
      legiond,
      ...['--legion', 'demo', '--bind', `127.0.0.1:${n.port}`, ...peers],
      ...['--valor', String(n.valor), '--node-name', n.name, '--secret-file', secret],
      ...['--control', join(dir, `${n.name}.sock`), '--log-level', 'info'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  n.proc = proc;
  createInterface({ input: proc.stdout! }).on('line', (line) => onLog(n, line));
  createInterface({ input: proc.stderr! }).on('line', (line) => say(`${n.name}: ${line}`));
  proc.on('exit', () => {
    if (n.proc === proc) n.proc = null;
  });
}

function onLog(n: Node, line: string): void {
  let rec: { event?: string; epoch?: string; member?: string; reason?: string };
  try {
    rec = JSON.parse(line);
  } catch {
    return;
  }
  if (rec.event === 'lord') {
    const took = killedAt
      ? ` — failover after ${killedAt.how} of ${killedAt.victim} took ${Math.round(performance.now() - killedAt.at)} ms`
      : '';
    say(`★ ${n.name} is lord (epoch ${rec.epoch})${took}`);
    lord = n.name;
    killedAt = null;
  } else if (rec.event === 'unlord') {
    say(`  ${n.name} stepped down (${rec.reason ?? 'unlord'})`);
  } else if (rec.event === 'node-left' && n.name !== killedAt?.victim) {
    say(`  ${n.name} saw ${rec.member} leave (${rec.reason ?? 'left'})`);
  } else if (rec.event === 'death') {
    say(`  ${n.name} sent its death announce and exits`);
  }
}

function cycle(): void {
  if (stopping) return;
  const victim = nodes.find((n) => n.name === lord && n.proc);
  if (!victim) return;
  const how = round++ % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
  say(`✖ ${how} → ${victim.name} (the lord)`);
  killedAt = { at: performance.now(), how, victim: victim.name };
  lord = null;
  victim.proc!.kill(how);
  setTimeout(() => {
    if (stopping) return;
    say(`↻ restarting ${victim.name} with a new UUID (valor ${victim.valor}: it will take the title back)`);
    start(victim);
  }, killEvery / 2);
}

function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  say('stopping every node (SIGTERM)');
  const alive = nodes.map((n) => n.proc).filter((p): p is ChildProcess => p !== null);
  let left = alive.length;
  const done = () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  };
  if (left === 0) done();
  for (const p of alive) {
    p.on('exit', () => {
      if (--left === 0) done();
    });
    p.kill('SIGTERM');
  }
  setTimeout(() => {
    for (const p of alive) p.kill('SIGKILL');
    done();
  }, 10_000).unref();
}

say(
  `legiond demo: legion "demo" on 127.0.0.1:${basePort}-${basePort + 2}, valors alpha 300, bravo 200, charlie 100`,
);
say(`every ${killEvery / 1000} s the lord is killed (SIGKILL, then SIGTERM next time); Ctrl-C to stop`);
for (const n of nodes) start(n);
setInterval(cycle, killEvery);
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
if (duration > 0) setTimeout(() => stop(0), duration);
