// Small shared pieces for peers that talk to a worker thread or process.

import { MessageChannel, Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { now, MESSAGE } from '../lib/measure.js';
import { percentile } from '../lib/stats.js';

export async function startWorker(helper, options) {
  const worker = new Worker(new URL(helper, import.meta.url), options);
  await once(worker, 'online');
  return worker;
}

/** A fresh MessageChannel whose far end runs `mode` in the port worker. */
export async function portTo(worker, mode, n) {
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ port: port2, mode, n }, [port2]);
  await once(port1, 'message'); // 'ready'
  return port1;
}

/** Sixty-four distinct copies: one object repeated would be cloned once and referenced. */
export function batchOf(size) {
  return Array.from({ length: size }, (_, i) => ({ ...MESSAGE, seq: i }));
}

/**
 * Round trips through `send`/`onReply`, one at a time; resolves the p50 in µs.
 * Callback-driven rather than awaited, so the peer pays no promise per trip.
 */
export function pingPong(rounds, send, onReply) {
  return new Promise((resolve) => {
    const times = new Float64Array(rounds);
    let i = 0;
    let t0 = 0;
    onReply(() => {
      times[i++] = now() - t0;
      if (i === rounds) return resolve(percentile(times, 50) * 1000);
      t0 = now();
      send();
    });
    t0 = now();
    send();
  });
}
