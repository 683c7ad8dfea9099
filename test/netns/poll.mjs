// Polls a URL with a fresh connection each time and prints one JSON line per attempt:
//   {"t": <ms since the epoch>, "ok": true, "body": "..."} or {"t": ..., "ok": false, "err": "..."}
// node poll.mjs URL [PAUSE_MS] [TIMEOUT_MS]
import { get } from 'node:http';

const [url, pauseArg = '20', timeoutArg = '250'] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: node poll.mjs URL [PAUSE_MS] [TIMEOUT_MS]\n');
  process.exit(2);
}
const pause = Number(pauseArg);
const timeout = Number(timeoutArg);
const now = () => performance.timeOrigin + performance.now();
const emit = (o) => process.stdout.write(`${JSON.stringify({ t: now(), ...o })}\n`);

function once() {
  return new Promise((resolve) => {
    let done = false;
    const finish = (o) => {
      if (done) return;
      done = true;
      emit(o);
      resolve();
    };
    const req = get(url, { agent: false, timeout }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () =>
        finish(res.statusCode === 200 ? { ok: true, body } : { ok: false, err: `HTTP ${res.statusCode}` }),
      );
      res.on('error', (e) => finish({ ok: false, err: e.code ?? e.message }));
    });
    // covers the connect too: a SYN to a host that dropped the address gets no answer
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => finish({ ok: false, err: e.code ?? e.message }));
  });
}

let stop = false;
process.on('SIGTERM', () => {
  stop = true;
});
while (!stop) {
  await once();
  await new Promise((r) => setTimeout(r, pause));
}
