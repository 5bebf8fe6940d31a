// Raw MessagePort carrying large payloads, one postMessage per payload, from
// the main thread to a worker, paced by the same credit window as the thespis
// size sweep (suites/thread-bytes.js): the ceiling a thread transport built
// on structured clone starts from, for the same strings.

import { MessageChannel } from 'node:worker_threads';
import { once } from 'node:events';
import { afterWarmUp, now } from '../lib/measure.js';
import { startWorker } from '../helpers/threads.js';
import { MIB, payloadOf, windowFor } from '../lib/payload.js';
import { SIZES } from '../lib/sweep.js';

const name = (label) => `peer.messageport.bytes_${label}.mib_per_s`;

async function flow(worker, payload, n) {
  const size = payload.length;
  const { window, ackEvery } = windowFor(size);
  const { port1: port, port2 } = new MessageChannel();
  worker.postMessage({ port: port2, n, size, ackEvery }, [port2]);
  await once(port, 'message'); // 'ready'
  let left = n;
  let credit = window;
  const pump = () => {
    while (left > 0 && credit > 0) {
      left--;
      credit--;
      port.postMessage(payload);
    }
  };
  const t0 = now();
  const done = new Promise((resolve, reject) => {
    port.on('message', (m) => {
      if (typeof m.acked === 'number') {
        credit += m.acked;
        pump();
      } else if (m.bad > 0) reject(new Error(`${m.bad} payload(s) arrived with the wrong size`));
      else resolve();
    });
  });
  pump();
  await done;
  const ms = now() - t0;
  port.close();
  return (n * size) / MIB / (ms / 1000);
}

export default {
  figures: SIZES.map((s) => name(s.label)),
  async run(ctx) {
    const worker = await startWorker('./port-bytes-worker.js');
    try {
      for (const { label, size, count } of SIZES) {
        const payload = payloadOf('string', size);
        const n = ctx.pick(count, Math.max(4, count >> 3));
        ctx.report(name(label), await afterWarmUp(ctx, () => flow(worker, payload, n)), 'MiB/s');
      }
    } finally {
      await worker.terminate();
    }
  },
};
