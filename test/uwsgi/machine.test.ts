import { describe, expect, it } from 'vitest';
import { UWSGI_DEATH_REPEAT } from '../../src/legion/uwsgi/machine.js';
import { Driver, eventsOf, fullChecksum, params, peer, SELF, sendsOf } from './harness.js';

const B = '00000000-0000-4000-8000-0000000000bb';
const C = '00000000-0000-4000-8000-0000000000cc';
const types = (effects: Parameters<typeof eventsOf>[0]) => eventsOf(effects).map((e) => e.type);

/** a started node that has passed its start-up grace, alone */
function lordAlone(over = {}) {
  const d = new Driver(params(over));
  d.step({ type: 'start' }, 0);
  d.runUntil(1000);
  return d;
}

/** B's announce once B knows self: agreeing on checksum, voting for `vote` */
function fromB(valor: bigint, vote: { valor: bigint; uuid: string }, over = {}) {
  const checksum = fullChecksum([
    { valor: 100n, uuid: SELF },
    { valor, uuid: B },
  ]);
  return peer({ uuid: B, valor, checksum, lordValor: vote.valor, lordUuid: vote.uuid, ...over });
}

describe('uwsgiMachine start-up', () => {
  it('announces at once, sends setup, and claims nothing during the first interval', () => {
    const d = new Driver(params());
    const fx = d.step({ type: 'start' }, 0);
    expect(types(fx)).toEqual(['setup']);
    const [send] = sendsOf(fx);
    expect(send?.packet).toMatchObject({
      uuid: SELF,
      valor: 100n,
      unix: 0,
      pid: 77,
      dead: false,
      lordUuid: SELF,
    });
    expect(d.view().phase).toBe('starting');
    expect(d.wakeAt).toBe(1000);
  });

  it('alone, becomes lord after the grace: join then lord, epoch +1, announce at once', () => {
    const d = new Driver(params({ initialEpoch: 41n }));
    d.step({ type: 'start' }, 0);
    const fx = d.runUntil(1000);
    expect(types(fx)).toEqual(['join', 'lord']);
    expect(eventsOf(fx)[1]!.epoch).toBe(42n);
    const sends = sendsOf(fx);
    expect(sends).toHaveLength(1);
    expect(sends[0]!.packet.lordForMs).toBe(0);
    const v = d.view();
    expect(v).toMatchObject({ phase: 'running', quorumMet: true, votes: 1, epoch: 42n });
    expect(v.lord?.uuid).toBe(SELF);
    expect(v.self.lord).toBe(true);
  });

  it('keeps announcing once per interval with jitter inside ±jitter', () => {
    let r = 0;
    const seq = [0, 0.99, 0.5, 0.1];
    const d = new Driver(params({ jitter: 0.2 }), () => seq[r++ % seq.length]!);
    d.step({ type: 'start' }, 0);
    // past start-up and the lord claim, which announce out of schedule
    d.runUntil(3000);
    const sends: number[] = [];
    for (let i = 0; i < 20; i++) {
      const at = d.wakeAt;
      if (sendsOf(d.step({ type: 'tick' }, at)).length > 0) sends.push(at);
    }
    const gaps = sends.slice(1).map((t, i) => t - sends[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(800);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1200);
    expect(new Set(gaps).size).toBeGreaterThan(1);
  });
});

describe('uwsgiMachine membership', () => {
  it('adds a new member with node-joined and announces at once (checksum changed)', () => {
    const d = lordAlone();
    const fx = d.step({ type: 'packet', packet: peer({ uuid: B }) }, 1200);
    expect(types(fx)).toContain('node-joined');
    expect(eventsOf(fx)[0]!.member?.uuid).toBe(B);
    expect(sendsOf(fx)).toHaveLength(1);
    expect(d.view().members.map((m) => m.uuid)).toEqual([SELF, B]);
  });

  it('drops its own looped-back announce', () => {
    const d = lordAlone();
    const fx = d.step({ type: 'packet', packet: peer({ uuid: SELF, name: 'self', valor: 100n }) }, 1200);
    expect(eventsOf(fx)).toEqual([]);
    expect(d.view().members).toHaveLength(1);
  });

  it('removes a member not heard for more than the tolerance, not before', () => {
    const d = lordAlone();
    d.step({ type: 'packet', packet: peer({ uuid: B }) }, 2000);
    expect(types(d.runUntil(5000))).not.toContain('node-left');
    const fx = d.runUntil(5001);
    const left = eventsOf(fx).find((e) => e.type === 'node-left');
    expect(left).toMatchObject({ reason: 'timeout', member: { uuid: B } });
    expect(d.view().members).toHaveLength(1);
  });

  it('removes a member at once on its death announce, with node-left reason death', () => {
    const d = lordAlone();
    d.step({ type: 'packet', packet: peer({ uuid: B }) }, 1200);
    const fx = d.step({ type: 'packet', packet: peer({ uuid: B, dead: true }) }, 1300);
    expect(eventsOf(fx)[0]).toMatchObject({ type: 'node-left', reason: 'death', member: { uuid: B } });
    expect(d.view().members).toHaveLength(1);
  });

  it('ignores a death announce from a node it does not know', () => {
    const d = lordAlone();
    const fx = d.step({ type: 'packet', packet: peer({ uuid: B, dead: true }) }, 1200);
    expect(eventsOf(fx)).toEqual([]);
    expect(d.view().members).toHaveLength(1);
  });

  it('treats a valor change as a new member, replacing the old identity', () => {
    const d = lordAlone();
    d.step({ type: 'packet', packet: peer({ uuid: B, valor: 5n }) }, 1200);
    const fx = d.step({ type: 'packet', packet: peer({ uuid: B, valor: 6n }) }, 1300);
    const ev = eventsOf(fx);
    expect(ev.map((e) => [e.type, e.reason, e.member?.valor])).toEqual([
      ['node-left', 'valor-change', 5n],
      ['node-joined', undefined, 6n],
    ]);
    expect(d.view().members.map((m) => m.valor)).toEqual([100n, 6n]);
  });

  it('keeps the newest scroll of a member', () => {
    const d = lordAlone();
    d.step({ type: 'packet', packet: peer({ uuid: B, scroll: Uint8Array.of(1) }) }, 1200);
    d.step({ type: 'packet', packet: peer({ uuid: B, scroll: Uint8Array.of(2, 3) }) }, 1300);
    expect([...d.view().members[1]!.scroll]).toEqual([2, 3]);
  });
});

describe('uwsgiMachine election', () => {
  it('follows a better member once it agrees, and shows it as lord', () => {
    const d = new Driver(params());
    d.step({ type: 'start' }, 0);
    d.step({ type: 'packet', packet: fromB(200n, { valor: 200n, uuid: B }) }, 500);
    const fx = d.runUntil(1000);
    expect(types(fx)).toEqual(['join']);
    const v = d.view();
    expect(v).toMatchObject({ quorumMet: true, votes: 2, epoch: 1n });
    expect(v.lord?.uuid).toBe(B);
    expect(v.self.vote).toBe(B);
    expect(v.members[1]).toMatchObject({ uuid: B, lord: true, vote: B });
  });

  it('changes nothing while a member disagrees', () => {
    const d = lordAlone();
    // B has not heard of us yet: its checksum lacks us, so votes are 0 and we stay lord
    const fx = d.step(
      { type: 'packet', packet: peer({ uuid: B, valor: 200n, checksum: 1n, lordValor: 200n, lordUuid: B }) },
      1200,
    );
    expect(types(fx)).toEqual(['node-joined']);
    expect(d.view()).toMatchObject({ quorumMet: false, votes: 0 });
    expect(d.view().self.lord).toBe(true);
  });

  it('unlords when a better member agrees (preempted), epoch moves on', () => {
    const d = lordAlone();
    const fx = d.step({ type: 'packet', packet: fromB(200n, { valor: 200n, uuid: B }) }, 1200);
    expect(eventsOf(fx).map((e) => [e.type, e.reason])).toEqual([
      ['node-joined', undefined],
      ['unlord', 'preempted'],
    ]);
    expect(eventsOf(fx)[1]!.epoch).toBe(2n);
    expect(d.view().lord?.uuid).toBe(B);
    expect(d.view().self.lord).toBe(false);
  });

  it('stays lord with a lower member that votes for it', () => {
    const d = lordAlone();
    const fx = d.step({ type: 'packet', packet: fromB(50n, { valor: 100n, uuid: SELF }) }, 1200);
    expect(types(fx)).toEqual(['node-joined']);
    expect(d.view()).toMatchObject({ votes: 2, quorumMet: true, epoch: 1n });
  });

  it('elects at once when the lord announces its death', () => {
    const d = new Driver(params());
    d.step({ type: 'start' }, 0);
    d.step({ type: 'packet', packet: fromB(200n, { valor: 200n, uuid: B }) }, 500);
    d.runUntil(1500);
    expect(d.view().lord?.uuid).toBe(B);
    const fx = d.step(
      { type: 'packet', packet: fromB(200n, { valor: 200n, uuid: B }, { dead: true }) },
      1600,
    );
    expect(types(fx)).toEqual(['node-left', 'lord']);
    expect(d.view().lord?.uuid).toBe(SELF);
    expect(d.view().epoch).toBe(2n);
  });

  it('never makes an arbiter lord; it votes for the best candidate', () => {
    const d = new Driver(params({ valor: 0n }));
    d.step({ type: 'start' }, 0);
    expect(types(d.runUntil(5000))).not.toContain('lord');
    const checksum = fullChecksum([
      { valor: 0n, uuid: SELF },
      { valor: 30n, uuid: B },
      { valor: 0n, uuid: C },
    ]);
    const vote = { lordValor: 30n, lordUuid: B, checksum };
    d.step({ type: 'packet', packet: peer({ uuid: C, valor: 0n, ...vote }) }, 5100);
    d.step({ type: 'packet', packet: peer({ uuid: B, valor: 30n, ...vote }) }, 5200);
    const v = d.view();
    expect(v).toMatchObject({ votes: 3, quorumMet: true });
    expect(v.lord?.uuid).toBe(B);
    expect(v.self).toMatchObject({ arbiter: true, lord: false, vote: B });
  });

  it('needs the configured quorum, and unlords when it is lost', () => {
    const d = new Driver(params({ quorum: 2 }));
    d.step({ type: 'start' }, 0);
    expect(types(d.runUntil(2000))).not.toContain('lord');
    expect(d.view()).toMatchObject({ votes: 1, quorumMet: false });
    const fx = d.step({ type: 'packet', packet: fromB(50n, { valor: 100n, uuid: SELF }) }, 2100);
    expect(types(fx)).toEqual(['node-joined', 'join', 'lord']);
    const gone = d.runUntil(5200);
    expect(eventsOf(gone).map((e) => [e.type, e.reason])).toEqual([
      ['node-left', 'timeout'],
      ['unlord', 'quorum'],
    ]);
  });
});

describe('uwsgiMachine commands', () => {
  it('shutdown: unlord, await hooks, then a repeated death announce, death and stopped', () => {
    const d = lordAlone();
    const fx = d.step({ type: 'command', command: { type: 'shutdown' } }, 1500);
    expect(fx.map((e) => (e.type === 'event' ? `${e.event.type}:${e.event.reason}` : e.type))).toEqual([
      'unlord:shutdown',
      'await-hooks',
    ]);
    expect(d.view().phase).toBe('releasing');
    expect(types(d.runUntil(4000))).not.toContain('lord');
    const end = d.step({ type: 'hooks-drained' }, 4100);
    const [send] = sendsOf(end);
    expect(send).toMatchObject({
      repeat: UWSGI_DEATH_REPEAT,
      packet: { dead: true, valor: 100n, uuid: SELF },
    });
    expect(end.map((e) => e.type)).toEqual(['send', 'event', 'stopped']);
    expect(types(end)).toEqual(['death']);
    expect(d.view().phase).toBe('dead');
    const after = d.step({ type: 'tick' }, 9000);
    expect(after).toEqual([]);
    expect(d.wakeAt).toBe(Number.POSITIVE_INFINITY);
  });

  it('stepdown: unlords, announces valor 0 while it lasts, then takes the title back', () => {
    const d = lordAlone();
    const fx = d.step({ type: 'command', command: { type: 'stepdown', forMs: 5000 } }, 1500);
    expect(eventsOf(fx).map((e) => [e.type, e.reason])).toEqual([['unlord', 'stepdown']]);
    // the old identity is buried first, so uWSGI peers drop it at once, then the new one announced
    expect(sendsOf(fx).map((e) => [e.packet.valor, e.packet.dead, e.repeat])).toEqual([
      [100n, true, UWSGI_DEATH_REPEAT],
      [0n, false, undefined],
    ]);
    expect(d.view()).toMatchObject({ draining: true, drainingUntilMs: 6500, valor: 100n });
    expect(types(d.runUntil(6499))).not.toContain('lord');
    const back = d.runUntil(6500);
    expect(types(back)).toContain('lord');
    expect(sendsOf(back).map((e) => [e.packet.valor, e.packet.dead])).toEqual([
      [0n, true],
      [100n, false],
    ]);
    expect(d.view().draining).toBe(false);
  });

  it('a lord set to valor 0 unlords even while a member disagrees', () => {
    const d = lordAlone();
    d.step({ type: 'packet', packet: peer({ uuid: B, valor: 200n, checksum: 1n }) }, 1200);
    expect(d.view().quorumMet).toBe(false);
    const fx = d.step({ type: 'command', command: { type: 'set-valor', valor: 0n } }, 1300);
    expect(eventsOf(fx).map((e) => [e.type, e.reason])).toEqual([['unlord', 'arbiter']]);
  });

  it('a failed lord hook steps down like stepdown', () => {
    const d = lordAlone();
    const fx = d.step(
      { type: 'command', command: { type: 'hook-failed', event: 'lord', stepdownMs: 1000 } },
      1500,
    );
    expect(eventsOf(fx).map((e) => [e.type, e.reason])).toEqual([['unlord', 'hook-failed']]);
    expect(d.view().drainingUntilMs).toBe(2500);
  });

  it('set-valor and set-scroll announce at once', () => {
    const d = lordAlone();
    const a = sendsOf(d.step({ type: 'command', command: { type: 'set-valor', valor: 7n } }, 1200));
    expect(a.map((e) => [e.packet.valor, e.packet.dead])).toEqual([
      [100n, true],
      [7n, false],
    ]);
    const b = sendsOf(
      d.step({ type: 'command', command: { type: 'set-scroll', scroll: Uint8Array.of(9) } }, 1300),
    );
    expect([...(b[0]?.packet.scroll ?? [])]).toEqual([9]);
  });

  it('reconfigure takes new timing without changing identity', () => {
    const d = lordAlone();
    d.step(
      { type: 'command', command: { type: 'reconfigure', params: { intervalMs: 200, toleranceMs: 600 } } },
      1200,
    );
    expect(d.wakeAt).toBeLessThanOrEqual(1400);
    expect(d.view().self.uuid).toBe(SELF);
    d.step({ type: 'packet', packet: peer({ uuid: B }) }, 1300);
    expect(types(d.runUntil(1901))).toContain('node-left');
  });
});
