// Worker side of the SharedArrayBuffer ring peer: consume or answer pings,
// as told, then report on the port.

import { parentPort } from 'node:worker_threads';
import { answerPings, consume } from './sab-ring.js';

parentPort.on('message', ({ ring, mode, n, publishEvery }) => {
  if (mode === 'pings') {
    parentPort.postMessage('ready');
    answerPings(ring);
    parentPort.postMessage('stopped');
    return;
  }
  parentPort.postMessage('ready');
  const sum = consume(ring, n, publishEvery);
  parentPort.postMessage({ sum });
});
