// Far end of the Node IPC peer (child_process.fork + process.send).
//   { mode: 'stream', n }        send n messages back, one per process.send
//   { mode: 'batched', n, per }  send n messages back, `per` to a process.send
//                                (an array), as a batching link would
//   { mode: 'echo' }             send every later message back
// Streams never keep more than two unacknowledged chunks of ~1000 messages
// in Node's queue.

import { MESSAGE } from '../lib/measure.js';

const CHUNK = 1000;
let echo = false;

/** Sends `count` sends of `make(i)`; every send that closes a chunk of ~CHUNK messages waits to be written. */
async function stream(count, perSend, make) {
  const every = Math.max(1, Math.round(CHUNK / perSend));
  let inflight = 0;
  let wake = null;
  const written = () => {
    inflight--;
    wake?.();
  };
  for (let i = 0; i < count; i++) {
    if (i % every === every - 1 || i === count - 1) {
      inflight++;
      process.send(make(i), written);
      while (inflight >= 2) await new Promise((r) => (wake = r));
    } else {
      process.send(make(i));
    }
  }
}

process.on('message', (m) => {
  if (echo) return process.send(m);
  if (m.mode === 'echo') {
    echo = true;
    process.send('ready');
  } else if (m.mode === 'batched') {
    const sends = Math.ceil(m.n / m.per);
    // The last send carries what is left over.
    const full = Array.from({ length: m.per }, () => MESSAGE);
    void stream(sends, m.per, (i) => (i < sends - 1 || m.n % m.per === 0 ? full : full.slice(0, m.n % m.per)));
  } else void stream(m.n, 1, () => MESSAGE);
});
