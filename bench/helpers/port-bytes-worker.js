// Worker side of the MessagePort size sweep: takes n payloads on the port
// (each must arrive whole), gives the sender credit back every `ackEvery`,
// and says { counted, bad } after the last one, as the thespis sink does.

import { parentPort } from 'node:worker_threads';
import { payloadSize } from '../lib/payload.js';

parentPort.on('message', ({ port, n, size, ackEvery }) => {
  let left = n;
  let unacked = 0;
  let bad = 0;
  port.on('message', (m) => {
    if (payloadSize(m) !== size) bad++;
    if (--left === 0) {
      port.postMessage({ counted: n, bad });
      port.close();
    } else if (++unacked === ackEvery) {
      unacked = 0;
      port.postMessage({ acked: ackEvery });
    }
  });
  port.postMessage('ready');
});
