/**
 * SIGHUP reloads that touch the transport keep the node's identity, state and epoch: the socket
 * or the codec is swapped under the running core, so a lord stays lord, runs no unlord and no
 * second lord hook. What cannot carry state (a change of protocol) or cannot be had (a bind
 * another socket holds) is refused for that legion, and the daemon keeps running as it was.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/client.js';
import { Lab, legionctl, type Proc, sleep } from '../helpers/procs.js';

let lab: Lab;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  await lab.cleanup();
});

interface NodeCfg {
  name: string;
  port: number;
  peers: number[];
  valor: number;
  secret?: string;
  accept?: string[];
  protocol?: 'native' | 'uwsgi';
}

/** writes lab/<name>.yaml; hooks append "<event>" to lab/<name>-hooks */
function writeConfig(c: NodeCfg): string {
  const file = lab.path(`${c.name}.yaml`);
  const hook = (e: string) => `      ${e}: "echo ${e} >> ${lab.path(`${c.name}-hooks`)}"\n`;
  writeFileSync(
    file,
    `control: ${lab.path(`${c.name}.sock`)}\n` +
      'legions:\n' +
      '  - name: web\n' +
      (c.protocol ? `    protocol: ${c.protocol}\n` : '') +
      `    node_name: ${c.name}\n` +
      `    bind: 127.0.0.1:${c.port}\n` +
      `    peers: [${c.peers.map((p) => `"127.0.0.1:${p}"`).join(', ')}]\n` +
      `    valor: ${c.valor}\n` +
      `    secret_file: ${c.secret ?? lab.path('secret')}\n` +
      (c.accept?.length ? `    accept_secret_files: [${c.accept.join(', ')}]\n` : '') +
      '    hooks:\n' +
      ['setup', 'lord', 'unlord'].map(hook).join(''),
  );
  return file;
}

function start(c: NodeCfg): Proc {
  return lab.legiond(c.name, ['--config', writeConfig(c)]);
}

interface Status {
  legions: Array<{
    uuid: string;
    lord: { name: string } | null;
    epoch: string;
    valor: string;
    counters: { rejected: Record<string, number> };
  }>;
}
function status(name: string): Status['legions'][number] {
  const r = legionctl(['--control', lab.path(`${name}.sock`), 'status', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as Status).legions[0]!;
}

async function memberNames(name: string): Promise<string[]> {
  const m = (await controlRequest(lab.path(`${name}.sock`), 'members', {})) as {
    legions: Array<{ members: Array<{ name: string }> }>;
  };
  return m.legions[0]!.members.map((x) => x.name).sort();
}

function hooksRun(name: string): string[] {
  return readFileSync(lab.path(`${name}-hooks`), 'utf8')
    .trim()
    .split('\n');
}

/** SIGHUP and wait for the end of the reload, whatever its outcome */
async function reload(p: Proc): Promise<void> {
  const since = p.mark();
  p.kill('SIGHUP');
  await p.waitFor(
    (l) => typeof l.msg === 'string' && l.msg.startsWith('SIGHUP: configuration reloaded'),
    5000,
    'the end of the reload',
    since,
  );
}

/** a 2-node legion: a (valor 200) lord, b (100) following; both ready */
async function pair(aCfg: NodeCfg, bCfg: NodeCfg): Promise<[Proc, Proc]> {
  const a = start(aCfg);
  await a.waitEvent('lord');
  const b = start(bCfg);
  await b.waitFor((l) => l.event === 'node-joined' && l.member === 'a', 10_000, 'a seen by b');
  await Promise.all([a.ready(), b.ready()]);
  return [a, b];
}

describe('SIGHUP reload of the transport', () => {
  it('new peers on a lord: no unlord, one lord event, same epoch, and the new peer hears it', async () => {
    lab = new Lab();
    lab.secret();
    const aCfg: NodeCfg = { name: 'a', port: 47700, peers: [47701], valor: 200 };
    const [a, b] = await pair(aCfg, { name: 'b', port: 47701, peers: [47700], valor: 100 });
    // c is an arbiter that sends nowhere useful: it hears a only once a sends to it
    const c = start({ name: 'c', port: 47702, peers: [47709], valor: 0 });
    await c.ready();
    const before = status('a');
    expect(before.lord?.name).toBe('a');
    await sleep(1200);
    expect(await memberNames('c')).toEqual(['c']);

    const bSince = b.mark();
    writeConfig({ ...aCfg, peers: [47701, 47702] });
    await reload(a);
    await c.waitFor((l) => l.event === 'node-joined' && l.member === 'a', 5000, 'a seen by c');
    // a's peer hints may already have taught c where b is
    expect(await memberNames('c')).toEqual(expect.arrayContaining(['a', 'c']));
    // two tolerances later nothing has moved
    await sleep(2200);
    const after = status('a');
    expect(after.uuid).toBe(before.uuid);
    expect(after.epoch).toBe(before.epoch);
    expect(after.lord?.name).toBe('a');
    expect(a.events('unlord')).toHaveLength(0);
    expect(a.events('lord')).toHaveLength(1);
    expect(a.events('setup')).toHaveLength(1);
    expect(hooksRun('a')).toEqual(['setup', 'lord']);
    expect(b.lines.slice(bSince).filter((l) => l.event === 'node-left' || l.event === 'lord')).toEqual([]);
    expect(status('b').epoch).toBe(before.epoch);
    expect(status('b').counters.rejected.ERR_REPLAY ?? 0).toBe(0);
    expect(
      a.lines.some((l) => l.msg === 'SIGHUP: transport reopened; identity, epoch and lordship kept'),
    ).toBe(true);
  });

  it('a key rotation by reloads on both nodes rebuilds the codecs in place: nothing is refused or lost', async () => {
    lab = new Lab();
    const s1 = lab.secret('s1', 'the first secret of this legion');
    const s2 = lab.secret('s2', 'the second secret of this legion');
    const aCfg: NodeCfg = { name: 'a', port: 47710, peers: [47711], valor: 200, secret: s1 };
    const bCfg: NodeCfg = { name: 'b', port: 47711, peers: [47710], valor: 100, secret: s1 };
    const [a, b] = await pair(aCfg, bCfg);
    const before = status('a');
    const bSince = b.mark();
    // step 1: both accept the new key; step 2: both send with it and still accept the old
    for (const step of [
      { secret: s1, accept: [s2] },
      { secret: s2, accept: [s1] },
    ]) {
      writeConfig({ ...aCfg, ...step });
      await reload(a);
      await sleep(400);
      writeConfig({ ...bCfg, ...step });
      await reload(b);
      await sleep(400);
    }
    await sleep(2200);
    for (const n of ['a', 'b']) {
      const st = status(n);
      expect(st.epoch).toBe(before.epoch);
      expect(st.lord?.name).toBe('a');
      expect(st.counters.rejected).toEqual({});
    }
    expect(a.events('unlord')).toHaveLength(0);
    expect(a.events('lord')).toHaveLength(1);
    expect(b.lines.slice(bSince).filter((l) => l.event === 'node-left' || l.event === 'lord')).toEqual([]);
    const reopened = a.lines.filter(
      (l) => l.msg === 'SIGHUP: transport reopened; identity, epoch and lordship kept',
    );
    expect(reopened.map((l) => l.changed)).toEqual([['codec'], ['codec']]);
  });

  it('a change of protocol is refused with a message that a restart is needed; the daemon runs on as it was', async () => {
    lab = new Lab();
    lab.secret();
    const aCfg: NodeCfg = { name: 'a', port: 47720, peers: [47721], valor: 200 };
    const [a] = await pair(aCfg, { name: 'b', port: 47721, peers: [47720], valor: 100 });
    const before = status('a');
    writeConfig({ ...aCfg, protocol: 'uwsgi', valor: 300 });
    const since = a.mark();
    await reload(a);
    const refusal = await a.waitFor(
      (l) => typeof l.msg === 'string' && /protocol changed from native to uwsgi/.test(l.msg),
      2000,
      'the refusal',
      since,
    );
    expect(refusal.msg).toMatch(/restart/);
    expect(refusal.level).toBe(50);
    expect(a.lines.slice(since).some((l) => l.msg === 'SIGHUP: configuration reloaded except for web')).toBe(
      true,
    );
    await sleep(1500);
    expect(a.child.exitCode).toBeNull();
    const after = status('a');
    expect(after.epoch).toBe(before.epoch);
    expect(after.lord?.name).toBe('a');
    // refused as a whole: the new valor was not applied either
    expect(after.valor).toBe('200');
    expect(a.events('unlord')).toHaveLength(0);
    expect(a.events('lord')).toHaveLength(1);
  });

  it('a new bind that is taken is refused naming the address; the old socket stays in use', async () => {
    lab = new Lab();
    lab.secret();
    const taken = createSocket('udp4');
    sockets.push(taken);
    await new Promise<void>((r) => taken.bind(47732, '127.0.0.1', () => r()));
    const aCfg: NodeCfg = { name: 'a', port: 47730, peers: [47731], valor: 200 };
    const [a, b] = await pair(aCfg, { name: 'b', port: 47731, peers: [47730], valor: 100 });
    const before = status('a');
    const bSince = b.mark();
    writeConfig({ ...aCfg, port: 47732 });
    const since = a.mark();
    await reload(a);
    const err = await a.waitFor(
      (l) => l.level === 50 && typeof l.msg === 'string' && l.msg.includes('127.0.0.1:47732'),
      2000,
      'the refusal naming the address',
      since,
    );
    expect(err.code).toBe('ERR_ADDRESS_IN_USE');
    await sleep(2200);
    // b still hears a on its old address
    expect(b.lines.slice(bSince).filter((l) => l.event === 'node-left' || l.event === 'lord')).toEqual([]);
    expect(status('a').epoch).toBe(before.epoch);
    expect(a.events('unlord')).toHaveLength(0);
    // a later reload that can be had still works
    writeConfig({ ...aCfg, port: 47733, peers: [47731] });
    await reload(a);
    expect(
      a.lines.some(
        (l) =>
          l.msg === 'SIGHUP: transport reopened; identity, epoch and lordship kept' &&
          l.bind === '127.0.0.1:47733',
      ),
    ).toBe(true);
  });
});
