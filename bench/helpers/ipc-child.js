// Far end of the Node IPC peer (child_process.fork + process.send).
//   { mode: 'stream', n }  send n messages back, never more than two
//                          unacknowledged chunks of 1000 in Node's queue
//   { mode: 'echo' }       send every later message back

import { MESSAGE } from '../lib/measure.js';

const CHUNK = 1000;
let echo = false;

async function stream(n) {
  let inflight = 0;
  let wake = null;
  const written = () => {
    inflight--;
    wake?.();
  };
  for (let i = 0; i < n; i++) {
    if (i % CHUNK === CHUNK - 1 || i === n - 1) {
      inflight++;
      process.send(MESSAGE, written);
      while (inflight >= 2) await new Promise((r) => (wake = r));
    } else {
      process.send(MESSAGE);
    }
  }
}

process.on('message', (m) => {
  if (echo) return process.send(m);
  if (m.mode === 'echo') {
    echo = true;
    process.send('ready');
  } else stream(m.n);
});
