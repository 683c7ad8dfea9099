// Decodes PASSES times the same 10,000 announces of 50 senders (a fresh decoder per pass), for
// bench/decode-instructions.ts to count under callgrind. Plain JavaScript on the built dist/, so
// nothing but node itself runs under valgrind. Usage: node bench/decode-driver.mjs PASSES [--secure]
import { randomBytes, randomUUID } from 'node:crypto';

const dist = new URL('../dist/src/', import.meta.url);
const { NativeDecoder, NativeEncoder, makeKeyRing } = await import(new URL('protocol/native.js', dist).href);
const { MAX_ATTESTATIONS } = await import(new URL('legion/announce.js', dist).href);

const passes = Number(process.argv[2] ?? 1);
const keys = process.argv.includes('--secure') ? makeKeyRing([randomBytes(32)], 'bench') : null;
const uuids = Array.from({ length: 50 }, () => randomUUID()).sort();
const wall = 1_700_000_000_000;
const encoders = uuids.map(() => new NativeEncoder({ legion: 'bench', keys, wallClock: () => wall }));
const scroll = new TextEncoder().encode('addr=10.0.0.5:6379');
const packets = [];
for (let r = 0; r < 200; r++) {
  for (let i = 0; i < 50; i++) {
    const uuid = uuids[i];
    packets.push(
      encoders[i].encode({
        legion: 'bench',
        uuid,
        name: `node${i}`,
        valor: BigInt(i + 1),
        epoch: 1n,
        vote: uuids[49],
        flags: { lord: i === 49, arbiter: false, dead: false, draining: false },
        viewDigest: 1234,
        scroll,
        seen: uuids
          .filter((u) => u !== uuid)
          .slice(0, MAX_ATTESTATIONS)
          .map((u) => ({ uuid: u, agoMs: 100 })),
      }),
    );
  }
}
for (let k = 0; k < passes; k++) {
  const d = new NativeDecoder({ legion: 'bench', keys });
  for (const p of packets) d.decode(p, wall);
}
process.stdout.write(`${packets.length} ${packets[0].length}\n`);
