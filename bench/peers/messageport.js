// Raw MessagePort between the main thread and one worker: one-way with one
// message per postMessage, one-way with 64 per postMessage, and ping-pong.
// The ceiling any thread transport built on MessagePort starts from.

import { once } from 'node:events';
import { MESSAGE, afterWarmUp, now, rate } from '../lib/measure.js';
import { batchOf, pingPong, portTo, startWorker } from '../helpers/threads.js';

const ONEWAY = 'peer.messageport.oneway.msgs_per_s';
const BATCHED = 'peer.messageport.oneway_batched64.msgs_per_s';
const PINGPONG = 'peer.messageport.pingpong.p50_us';

async function oneway(worker, n, batch) {
  const port = await portTo(worker, 'count', n);
  const done = once(port, 'message');
  const t0 = now();
  if (batch) for (let sent = 0; sent < n; sent += batch.length) port.postMessage(batch);
  else for (let i = 0; i < n; i++) port.postMessage(MESSAGE);
  await done;
  const ms = now() - t0;
  port.close();
  return rate(n, ms);
}

export default {
  figures: [ONEWAY, BATCHED, PINGPONG],
  async run(ctx) {
    const worker = await startWorker('./port-worker.js');
    try {
      const batch = batchOf(64);
      const n = ctx.pick(1_000_000, 100_000);
      ctx.report(ONEWAY, await afterWarmUp(ctx, () => oneway(worker, n, null)), 'msgs/s');
      ctx.report(BATCHED, await afterWarmUp(ctx, () => oneway(worker, n * 4, batch)), 'msgs/s');

      const port = await portTo(worker, 'echo');
      const trip = (rounds) => pingPong(rounds, () => port.postMessage(MESSAGE), (f) => port.on('message', f));
      await trip(500);
      port.removeAllListeners('message');
      ctx.report(PINGPONG, await trip(ctx.pick(20_000, 2_000)), 'us');
      port.close();
    } finally {
      await worker.terminate();
    }
  },
};
