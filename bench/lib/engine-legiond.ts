/**
 * legiond as a subject of bench/engines.ts: a node per member on `backend: postgres` or
 * `backend: etcd` (the built dist/, so `npm run build` first), its lord-only workload an attached
 * daemon. Equal valor and `preempt: false`, so a member started again after a trial does not take
 * the title back: every hand-over measured is the one the trial caused.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LEGIOND } from '../../test/helpers/procs.js';
import type { Servers } from '../engines.js';
import { pgStatements, pgUrl, type Subject } from './engine-subjects.js';
import { spawnProc } from './procs.js';

const TTL_S = 5; // the default of both backends

function yaml(o: {
  name: string;
  legion: string;
  dir: string;
  engine: string[];
  workload: string[];
}): string {
  const j = JSON.stringify;
  return [
    `control: ${j(join(o.dir, `${o.name}.sock`))}`,
    `log_level: ${process.env.BENCH_LOG_LEVEL ?? 'warn'}`,
    'legions:',
    `  - name: ${o.legion}`,
    `    node_name: ${o.name}`,
    '    valor: 100',
    '    preempt: false',
    ...o.engine.map((l) => `    ${l}`),
    ...(o.workload.length
      ? [
          '    daemons:',
          `      - command: ${j(o.workload)}`,
          '        grace: 2s',
          '        restart_backoff: 200ms',
        ]
      : []),
    '',
  ].join('\n');
}

function legiondSubject(
  id: string,
  label: string,
  kind: Subject['engine'],
  direct: number,
  engine: (port: number) => string[],
  requests: () => Promise<number>,
): Subject {
  const spawn = (name: string, legion: string, workload: string[], dir: string, port: number) => {
    if (!existsSync(LEGIOND)) throw new Error(`${LEGIOND} is missing: npm run build first`);
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, yaml({ name, legion, dir, engine: engine(port), workload }));
    return spawnProc(name, process.execPath, [LEGIOND, '--config', file], {
      logFile: join(dir, `${name}.log`),
    });
  };
  return {
    id,
    label,
    settings: `ttl ${TTL_S} s (default), renewal every ttl/3, call timeout ttl/2, preempt off`,
    engine: kind,
    spawn: (name, workload, dir, port) => spawn(name, 'bench', workload, dir, port),
    spawnLoad: (n, dir) =>
      Array.from({ length: n }, (_, i) => spawn(`m${i + 1}`, `load${n}`, [], dir, direct)),
    // fifty Node processes starting on a shared two-core machine take a while
    loadWarmMs: (n) => 5000 + 400 * n,
    requests,
    crashBoundMs: 4 * TTL_S * 1000,
    cutBoundMs: 4 * TTL_S * 1000,
  };
}

export function legiondSubjects(s: Servers): Subject[] {
  const prefix = `/bench-${process.pid}`;
  return [
    legiondSubject(
      'legiond-postgres',
      'legiond, backend: postgres (lease row, LISTEN/NOTIFY)',
      'postgres',
      s.pg.port,
      (port) => ['backend: postgres', 'postgres:', `  url: ${pgUrl(port)}`],
      () => pgStatements(s.pg.url),
    ),
    legiondSubject(
      'legiond-etcd',
      'legiond, backend: etcd',
      'etcd',
      s.etcd.clientPort,
      (port) => ['backend: etcd', 'etcd:', `  endpoints: ["127.0.0.1:${port}"]`, `  prefix: ${prefix}`],
      () => s.etcd.requests(),
    ),
  ];
}
