import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLegiondError } from '../../src/errors.js';
import type { Datagram } from '../../src/transport/types.js';
import { openUdpTransport, type UdpTransport, type UdpTransportOptions } from '../../src/transport/udp.js';
import { bytes, silent, text, waitFor } from './helpers.js';

const open: UdpTransport[] = [];
async function openT(opts: Partial<UdpTransportOptions> & Pick<UdpTransportOptions, 'bind'>, deps = {}) {
  const t = await openUdpTransport({ peers: [], peerResolveIntervalMs: 0, ...opts }, silent, deps);
  open.push(t);
  return t;
}
function collect(t: UdpTransport): Datagram[] {
  const got: Datagram[] = [];
  t.onDatagram((d) => got.push(d));
  return got;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('UdpTransport unicast (IPv4)', () => {
  it('delivers between two transports both ways and counts packets and bytes', async () => {
    const a = await openT({ bind: { address: '127.0.0.1', port: 0 } });
    const b = await openT({
      bind: { address: '127.0.0.1', port: 0 },
      peers: [{ host: '127.0.0.1', port: a.address().port }],
    });
    const gotA = collect(a);
    // a learns b's port only now, so open a third transport pointing at b
    const c = await openT({
      bind: { address: '127.0.0.1', port: 0 },
      peers: [{ host: '127.0.0.1', port: b.address().port }],
    });
    const gotB = collect(b);

    b.send(bytes('from-b'));
    c.send(bytes('from-c!'));
    await waitFor(() => gotA.length === 1 && gotB.length === 1, 'both datagrams');
    expect(text(gotA[0]!.bytes)).toBe('from-b');
    expect(gotA[0]!.from).toEqual({ address: '127.0.0.1', port: b.address().port });
    expect(text(gotB[0]!.bytes)).toBe('from-c!');

    await waitFor(() => c.stats().packetsSent === 1, 'send callback');
    expect(c.stats()).toEqual({
      packetsSent: 1,
      bytesSent: 7,
      packetsReceived: 0,
      bytesReceived: 0,
      sendErrors: 0,
    });
    expect(a.stats()).toMatchObject({ packetsReceived: 1, bytesReceived: 6, packetsSent: 0 });
  });

  it('counts send errors instead of throwing (oversized datagram, send after close)', async () => {
    const a = await openT({ bind: { address: '127.0.0.1', port: 0 } });
    const b = await openT({
      bind: { address: '127.0.0.1', port: 0 },
      peers: [{ host: '127.0.0.1', port: a.address().port }],
    });
    expect(() => b.send(new Uint8Array(70_000))).not.toThrow();
    await waitFor(() => b.stats().sendErrors === 1, 'EMSGSIZE counted');
    await b.close();
    expect(() => b.send(bytes('late'))).not.toThrow();
    expect(b.stats()).toMatchObject({ sendErrors: 2, packetsSent: 0 });
  });

  it('a throwing handler does not stop other handlers or later datagrams', async () => {
    const a = await openT({ bind: { address: '127.0.0.1', port: 0 } });
    const b = await openT({
      bind: { address: '127.0.0.1', port: 0 },
      peers: [{ host: '127.0.0.1', port: a.address().port }],
    });
    a.onDatagram(() => {
      throw new Error('boom');
    });
    const got = collect(a);
    b.send(bytes('1'));
    b.send(bytes('2'));
    await waitFor(() => got.length === 2, 'two datagrams');
    expect(got.map((d) => text(d.bytes)).sort()).toEqual(['1', '2']);
  });

  it('close releases the port', async () => {
    const a = await openT({ bind: { address: '127.0.0.1', port: 0 } });
    const port = a.address().port;
    const tryBind = () =>
      new Promise<string>((resolve) => {
        const s = createSocket('udp4');
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        s.bind(port, '127.0.0.1', () => s.close(() => resolve('bound')));
      });
    expect(await tryBind()).toBe('EADDRINUSE');
    await a.close();
    expect(await tryBind()).toBe('bound');
  });

  it('refuses a non-IP bind address and a peer of the other family with ERR_ADDRESS', async () => {
    const err1 = await openT({ bind: { address: 'localhost', port: 0 } }).catch((e) => e);
    expect(isLegiondError(err1, 'ERR_ADDRESS')).toBe(true);
    const err2 = await openT({
      bind: { address: '127.0.0.1', port: 0 },
      peers: [{ host: '::1', port: 9 }],
    }).catch((e) => e);
    expect(isLegiondError(err2, 'ERR_ADDRESS')).toBe(true);
  });

  it('reports ERR_BIND for an address the host does not have', async () => {
    const err = await openT({ bind: { address: '192.0.2.1', port: 0 } }).catch((e) => e);
    expect(isLegiondError(err, 'ERR_BIND')).toBe(true);
  });
});

describe('UdpTransport multicast on loopback', () => {
  const group = '239.255.77.13';
  const mc = (port: number) => ({ group, port, interface: '127.0.0.1', ttl: 1, loop: true });

  it('two transports sharing one port both receive what a third sends to the group', async () => {
    // binding to the group address keeps the test off every non-loopback interface
    const first = await openT({ bind: { address: group, port: 0 }, multicast: mc(0) });
    const port = first.address().port;
    await first.close();
    const a = await openT({ bind: { address: group, port }, multicast: mc(port) });
    const b = await openT({ bind: { address: group, port }, multicast: mc(port) });
    const gotA = collect(a);
    const gotB = collect(b);
    const sender = await openT({ bind: { address: '127.0.0.1', port: 0 }, multicast: mc(port) });
    expect(sender.destinations()).toEqual([{ address: group, port }]);
    sender.send(bytes('hello group'));
    await waitFor(() => gotA.length >= 1 && gotB.length >= 1, 'multicast to both');
    expect(text(gotA[0]!.bytes)).toBe('hello group');
    expect(text(gotB[0]!.bytes)).toBe('hello group');
    expect(gotA[0]!.from.port).toBe(sender.address().port);
  });

  it('sends to the group and to unicast peers alike', async () => {
    const first = await openT({ bind: { address: group, port: 0 }, multicast: mc(0) });
    const port = first.address().port;
    await first.close();
    const member = await openT({ bind: { address: group, port }, multicast: mc(port) });
    const peer = await openT({ bind: { address: '127.0.0.1', port: 0 } });
    const gotM = collect(member);
    const gotP = collect(peer);
    const sender = await openT({
      bind: { address: '127.0.0.1', port: 0 },
      multicast: mc(port),
      peers: [{ host: '127.0.0.1', port: peer.address().port }],
    });
    sender.send(bytes('both'));
    await waitFor(() => gotM.length === 1 && gotP.length === 1, 'group and peer');
    await waitFor(() => sender.stats().packetsSent === 2, 'two sends counted');
    expect(sender.stats().bytesSent).toBe(8);
  });
});

describe('UdpTransport IPv6', () => {
  beforeAll(() => {
    const lo = execFileSync('ip', ['-6', 'addr', 'show', 'lo'], { encoding: 'utf8' });
    if (!lo.includes('::1/128')) {
      throw new Error('this machine has no IPv6 loopback (::1 on lo); the IPv6 transport test needs it');
    }
  });

  it('delivers unicast over ::1', async () => {
    const a = await openT({ bind: { address: '::1', port: 0 } });
    expect(a.address().family).toBe(6);
    const b = await openT({
      bind: { address: '::1', port: 0 },
      peers: [{ host: '::1', port: a.address().port }],
    });
    const got = collect(a);
    b.send(bytes('v6'));
    await waitFor(() => got.length === 1, 'IPv6 datagram');
    expect(text(got[0]!.bytes)).toBe('v6');
    expect(got[0]!.from.address).toBe('::1');
  });
});

describe('UdpTransport peer names', () => {
  it('resolves localhost at open', async () => {
    const a = await openT({ bind: { address: '127.0.0.1', port: 0 } });
    const b = await openT({
      bind: { address: '127.0.0.1', port: 0 },
      peers: [{ host: 'localhost', port: a.address().port }],
    });
    expect(b.destinations()).toEqual([{ address: '127.0.0.1', port: a.address().port }]);
    const got = collect(a);
    b.send(bytes('by name'));
    await waitFor(() => got.length === 1, 'datagram by name');
  });

  it('re-resolves on the interval, follows a move, and keeps the last good address on failure', async () => {
    const a1 = await openT({ bind: { address: '127.0.0.1', port: 0 } });
    const port = a1.address().port;
    const a2 = await openT({ bind: { address: '127.0.0.2', port } });
    const got1 = collect(a1);
    const got2 = collect(a2);
    // 'localhost' resolves for real first, then "moves" to 127.0.0.2, then the resolver breaks
    const answers: Array<() => Promise<string>> = [
      async () =>
        (await import('node:dns/promises')).lookup('localhost', { family: 4 }).then((r) => r.address),
      async () => '127.0.0.2',
    ];
    let calls = 0;
    const lookup = async (host: string) => {
      expect(host).toBe('localhost');
      const f = answers[calls++];
      if (f) return f();
      throw Object.assign(new Error('getaddrinfo EAI_AGAIN localhost'), { code: 'EAI_AGAIN' });
    };
    const b = await openT(
      {
        bind: { address: '127.0.0.1', port: 0 },
        peers: [{ host: 'localhost', port }],
        peerResolveIntervalMs: 20,
      },
      { lookup },
    );
    expect(b.destinations()).toEqual([{ address: '127.0.0.1', port }]);
    b.send(bytes('one'));
    await waitFor(() => got1.length === 1, 'first datagram at 127.0.0.1');

    await waitFor(() => calls >= 2, 'second lookup');
    await waitFor(() => b.destinations()[0]?.address === '127.0.0.2', 'moved destination');
    await waitFor(() => calls >= 4, 'failing lookups');
    expect(b.destinations()).toEqual([{ address: '127.0.0.2', port }]);
    b.send(bytes('two'));
    await waitFor(() => got2.length === 1, 'datagram at 127.0.0.2');
    expect(text(got2[0]!.bytes)).toBe('two');
    expect(got1).toHaveLength(1);
  });

  it('opens even when a name does not resolve, and sends to the others', async () => {
    const a = await openT({ bind: { address: '127.0.0.1', port: 0 } });
    const lookup = async () => {
      throw new Error('ENOTFOUND');
    };
    const b = await openT(
      {
        bind: { address: '127.0.0.1', port: 0 },
        peers: [
          { host: 'nowhere.invalid', port: 9 },
          { host: '127.0.0.1', port: a.address().port },
        ],
      },
      { lookup },
    );
    expect(b.destinations()).toEqual([{ address: '127.0.0.1', port: a.address().port }]);
  });
});

describe('several transports in one process', () => {
  it('keeps legions apart: each transport gets only what was sent to it', async () => {
    const ts = await Promise.all([0, 1, 2].map(() => openT({ bind: { address: '127.0.0.1', port: 0 } })));
    const gots = ts.map(collect);
    const senders = await Promise.all(
      ts.map((t) =>
        openT({
          bind: { address: '127.0.0.1', port: 0 },
          peers: [{ host: '127.0.0.1', port: t.address().port }],
        }),
      ),
    );
    for (const [i, s] of senders.entries()) s.send(bytes(`legion-${i}`));
    await waitFor(() => gots.every((g) => g.length === 1), 'one datagram each');
    expect(gots.map((g) => text(g[0]!.bytes))).toEqual(['legion-0', 'legion-1', 'legion-2']);
  });
});

describe('UdpTransport exclusive ports', () => {
  it('a unicast port is held alone: a second bind fails with ERR_ADDRESS_IN_USE naming it', async () => {
    const a = await openT({ bind: { address: '127.0.0.1', port: 0 } });
    const port = a.address().port;
    const err = await openT({ bind: { address: '127.0.0.1', port } }).catch((e) => e);
    expect(isLegiondError(err, 'ERR_ADDRESS_IN_USE')).toBe(true);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    // the wildcard overlaps the bound address and is refused as well
    const wild = await openT({ bind: { address: '0.0.0.0', port } }).catch((e) => e);
    expect(isLegiondError(wild, 'ERR_ADDRESS_IN_USE')).toBe(true);
    // and the first is untouched
    const got = collect(a);
    const s = await openT({ bind: { address: '127.0.0.1', port: 0 }, peers: [{ host: '127.0.0.1', port }] });
    s.send(bytes('still mine'));
    await waitFor(() => got.length === 1, 'datagram to the first');
  });

  it('a multicast socket shares its port, but not with a unicast-only one', async () => {
    const group = '239.255.77.14';
    const mc = (port: number) => ({ group, port, interface: '127.0.0.1', ttl: 1, loop: true });
    const first = await openT({ bind: { address: group, port: 0 }, multicast: mc(0) });
    const port = first.address().port;
    await openT({ bind: { address: group, port }, multicast: mc(port) });
    const err = await openT({ bind: { address: group, port } }).catch((e) => e);
    expect(isLegiondError(err, 'ERR_ADDRESS_IN_USE')).toBe(true);
  });
});

describe('UdpTransport retarget (a reload on the same bind)', () => {
  it('sends to the new peers from the same socket, and stops sending to the old', async () => {
    const p1 = await openT({ bind: { address: '127.0.0.1', port: 0 } });
    const p2 = await openT({ bind: { address: '127.0.0.1', port: 0 } });
    const got1 = collect(p1);
    const got2 = collect(p2);
    const t = await openT({
      bind: { address: '127.0.0.1', port: 0 },
      peers: [{ host: '127.0.0.1', port: p1.address().port }],
    });
    const before = t.address();
    const inbox = collect(t);
    await t.retarget({ peers: [{ host: '127.0.0.1', port: p2.address().port }], peerResolveIntervalMs: 0 });
    expect(t.address()).toEqual(before);
    expect(t.destinations()).toEqual([{ address: '127.0.0.1', port: p2.address().port }]);
    t.send(bytes('after'));
    await waitFor(() => got2.length === 1, 'datagram to the new peer');
    expect(got1).toHaveLength(0);
    // still receiving on the old address
    const s = await openT({
      bind: { address: '127.0.0.1', port: 0 },
      peers: [{ host: '127.0.0.1', port: before.port }],
    });
    s.send(bytes('in'));
    await waitFor(() => inbox.length === 1, 'datagram to the retargeted socket');
  });

  it('joins a multicast group in place and leaves it again', async () => {
    const group = '239.255.77.15';
    const probe = await openT({ bind: { address: '0.0.0.0', port: 0 } });
    const port = probe.address().port;
    await probe.close();
    const mc = { group, port, interface: '127.0.0.1', ttl: 1, loop: true };
    const t = await openT({ bind: { address: '0.0.0.0', port }, peers: [{ host: '127.0.0.1', port: 9 }] });
    const got = collect(t);
    await t.retarget({ multicast: mc, peers: [], peerResolveIntervalMs: 0 });
    expect(t.destinations()).toEqual([{ address: group, port }]);
    const sender = await openT({ bind: { address: '127.0.0.1', port: 0 }, multicast: mc });
    sender.send(bytes('group'));
    await waitFor(() => got.length >= 1, 'multicast after the join');
    await t.retarget({ peers: [{ host: '127.0.0.1', port: 9 }], peerResolveIntervalMs: 0 });
    expect(t.destinations()).toEqual([{ address: '127.0.0.1', port: 9 }]);
  });

  it('a refused retarget changes nothing', async () => {
    const p1 = await openT({ bind: { address: '127.0.0.1', port: 0 } });
    const t = await openT({
      bind: { address: '127.0.0.1', port: 0 },
      peers: [{ host: '127.0.0.1', port: p1.address().port }],
    });
    const err = await t
      .retarget({ peers: [{ host: '::1', port: 9 }], peerResolveIntervalMs: 0 })
      .catch((e) => e);
    expect(isLegiondError(err, 'ERR_ADDRESS')).toBe(true);
    const err2 = await t
      .retarget({
        multicast: { group: 'ff02::1', port: 9, ttl: 1, loop: true },
        peers: [],
        peerResolveIntervalMs: 0,
      })
      .catch((e) => e);
    expect(isLegiondError(err2, 'ERR_ADDRESS')).toBe(true);
    expect(t.destinations()).toEqual([{ address: '127.0.0.1', port: p1.address().port }]);
  });
});
