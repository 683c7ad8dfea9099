/**
 * The Pulp pattern: one lord that listens, workers that must find it. Every node publishes its
 * own address in its scroll (`scroll: addr=10.0.0.1:24817` in legiond.yaml); a worker follows
 * whichever node is lord and talks to the address in that node's scroll. It needs no vote and no
 * legion of its own: it reads the local daemon's (read-only) control socket.
 *
 *   npm run build
 *   npx tsx examples/follow-lord.ts [legion] [--control /run/legiond/read.sock]
 *
 * It prints one line whenever the address to use changes, and `none` while there is no lord.
 */
import { LegiondClient, type LordInfo } from 'legiond/client';

const args = process.argv.slice(2);
const at = args.indexOf('--control');
const path = at >= 0 ? args.splice(at, 2)[1] : undefined;
const legion = args[0] ?? 'web';

/** `addr=HOST:PORT` among `key=value` words; null when the scroll has none */
function addressIn(scroll: string): string | null {
  for (const word of scroll.split(/\s+/)) if (word.startsWith('addr=')) return word.slice(5);
  return null;
}

const withScroll = (l: LordInfo, scroll: string): LordInfo => ({ ...l, scroll });

const client = new LegiondClient(path ? { path } : {});
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());

let lord: LordInfo | null = null;
let following: string | null | undefined;
const follow = () => {
  const addr = lord ? addressIn(lord.scroll) : null;
  if (addr === following) return;
  following = addr;
  // a real worker would (re)connect here; the epoch lets the lord refuse a stale worker's writes
  if (lord && addr) console.log(`following ${lord.name} at ${addr} (epoch ${lord.epoch})`);
  else if (lord) console.log(`lord ${lord.name} publishes no addr= in its scroll; waiting`);
  else console.log('none: the legion has no lord; waiting');
};

for await (const e of client.watch(legion, {
  signal: stop.signal,
  onDisconnect: (err) => console.error(`legiond unreachable (${err.code}); retrying`),
})) {
  if (e.type === 'lord-changed') lord = e.lord;
  // the lord may move itself (a new port after a restart of its service) without losing the title
  else if (lord !== null && e.member.uuid === lord.uuid) lord = withScroll(lord, e.member.scroll);
  follow();
}
