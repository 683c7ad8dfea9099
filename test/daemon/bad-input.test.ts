/**
 * What a running daemon does with bad input from outside: a bad config exits 2 naming the key;
 * garbage and wrong-key packets are counted and ignored while the legion keeps its lord.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmodSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/client.js';
import { makeKeyRing, NativeEncoder } from '../../src/protocol/native.js';
import { Lab, LEGIOND, requireBuild, sleep } from '../helpers/procs.js';

let lab: Lab;
afterEach(async () => {
  await lab.cleanup();
});

interface Status {
  legions: Array<{
    lord: { name: string } | null;
    epoch: string;
    counters: { rejected: Record<string, number>; packetsReceived: number };
  }>;
}

describe('bad input to a running legiond', () => {
  it('a bad config file exits 2 and names the key and the file', () => {
    requireBuild();
    lab = new Lab();
    const file = lab.path('bad.yaml');
    writeFileSync(
      file,
      'legions:\n  - name: web\n    bind: 127.0.0.1:4000\n    peers: ["127.0.0.1:4001"]\n    insecure: true\n    valour: 5\n',
    );
    const r = spawnSync(process.execPath, [LEGIOND, '--config', file], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain('valour');
    const check = spawnSync(process.execPath, [LEGIOND, 'check-config', file], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(check.status).toBe(2);
    expect(check.stderr).toContain('legions[0]');
  });

  it('check-config accepts a good file and refuses a secret others can read', () => {
    requireBuild();
    lab = new Lab();
    const secret = lab.secret();
    const file = lab.path('good.yaml');
    writeFileSync(
      file,
      `legions:\n  - name: web\n    bind: 127.0.0.1:4000\n    peers: ["127.0.0.1:4001"]\n    secret_file: ${secret}\n`,
    );
    const ok = spawnSync(process.execPath, [LEGIOND, 'check-config', file], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('ok');
    chmodSync(secret, 0o644);
    const bad = spawnSync(process.execPath, [LEGIOND, 'check-config', file], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('ERR_SECRET_PERMS');
  });

  it('a bad flag value exits 2 and names the flag', () => {
    requireBuild();
    lab = new Lab();
    const r = spawnSync(
      process.execPath,
      [
        LEGIOND,
        '--legion',
        'x',
        '--bind',
        '127.0.0.1:4000',
        '--peer',
        '127.0.0.1:4001',
        '--insecure',
        '--valor',
        '-3',
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--valor');
  });

  it('garbage and wrong-key packets are counted and ignored; the lord stays', async () => {
    lab = new Lab();
    const secret = lab.secret();
    const base = 46300;
    const nodes = [0, 1].map((i) =>
      lab.legiond(
        `n${i + 1}`,
        lab.nodeArgs({
          legion: 'web',
          base,
          i,
          n: 2,
          valor: (i + 1) * 100,
          extra: ['--secret-file', secret],
        }),
      ),
    );
    await nodes[1]!.waitEvent('lord');
    await nodes[0]!.waitFor((l) => l.event === 'node-joined' && l.member === 'n2', 10_000, 'n2 seen');
    await Promise.all(nodes.map((n) => n.ready()));
    const epochBefore = ((await controlRequest(lab.path('n2.sock'), 'status', {})) as Status).legions[0]!
      .epoch;
    const sock = createSocket('udp4');
    const send = (b: Uint8Array, port: number) =>
      new Promise<void>((r, j) => sock.send(b, port, '127.0.0.1', (e) => (e ? j(e) : r())));
    const wrongKey = new NativeEncoder({
      legion: 'web',
      keys: makeKeyRing([new TextEncoder().encode('not the secret')], 'web'),
      wallClock: () => Date.now(),
    });
    const forged = (valor: bigint) =>
      wrongKey.encode({
        legion: 'web',
        uuid: 'ffffffff-ffff-4fff-bfff-ffffffffffff',
        name: 'mallory',
        valor,
        epoch: 99n,
        vote: 'ffffffff-ffff-4fff-bfff-ffffffffffff',
        flags: { lord: true, arbiter: false, dead: false, draining: false },
        viewDigest: 0,
        scroll: new Uint8Array(),
        seen: [],
      });
    for (let k = 0; k < 200; k++) {
      for (const port of [base, base + 1]) {
        await send(randomBytes(1 + (k % 300)), port);
        await send(forged(1_000_000n), port);
      }
    }
    sock.close();
    await sleep(500);
    for (const [i, n] of nodes.entries()) {
      const st = (await controlRequest(lab.path(`n${i + 1}.sock`), 'status', {})) as Status;
      const legion = st.legions[0]!;
      expect(legion.lord?.name).toBe('n2');
      expect(legion.epoch).toBe(epochBefore);
      const rejected = Object.values(legion.counters.rejected).reduce((a, b) => a + b, 0);
      expect(rejected).toBe(400);
      expect(legion.counters.rejected.ERR_AUTH ?? 0).toBeGreaterThanOrEqual(200);
      expect(n.events('unlord')).toHaveLength(0);
      expect(n.lines.some((l) => l.member === 'mallory')).toBe(false);
      expect(n.child.exitCode).toBeNull();
    }
  });
});
