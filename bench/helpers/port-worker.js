// Worker side of the MessagePort peers. Each test hands over a fresh port and
// a mode: 'count' counts messages (an array counts as its length) and says
// 'done' at n; 'echo' sends every message straight back.

import { parentPort } from 'node:worker_threads';

parentPort.on('message', ({ port, mode, n }) => {
  if (mode === 'echo') {
    port.on('message', (m) => port.postMessage(m));
  } else {
    let count = 0;
    port.on('message', (m) => {
      count += Array.isArray(m) ? m.length : 1;
      if (count >= n) {
        port.postMessage('done');
        port.close();
      }
    });
  }
  port.postMessage('ready');
});
