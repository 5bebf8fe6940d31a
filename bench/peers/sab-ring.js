// Physical limit: a SharedArrayBuffer SPSC ring between the main thread and a
// worker, 32-byte records, index published every record and every 64 records;
// and ping-pong through one shared word with Atomics.wait / notify.

import { once } from 'node:events';
import { afterWarmUp, now, rate } from '../lib/measure.js';
import { percentile } from '../lib/stats.js';
import { createRing, ping, produce, stopPings } from '../helpers/sab-ring.js';
import { startWorker } from '../helpers/threads.js';

const ONEWAY = 'limit.sab_ring.oneway.msgs_per_s';
const BATCHED = 'limit.sab_ring.oneway_batched64.msgs_per_s';
const PINGPONG = 'limit.sab_ring.pingpong.p50_us';

async function oneway(worker, n, publishEvery) {
  const ring = createRing(4096);
  worker.postMessage({ ring, mode: 'consume', n, publishEvery });
  await once(worker, 'message'); // ready
  const done = once(worker, 'message');
  const t0 = now();
  produce(ring, n, publishEvery);
  await done;
  return rate(n, now() - t0);
}

export default {
  figures: [ONEWAY, BATCHED, PINGPONG],
  async run(ctx) {
    const worker = await startWorker('./ring-worker.js');
    try {
      const n = ctx.pick(10_000_000, 1_000_000);
      ctx.report(ONEWAY, await afterWarmUp(ctx, () => oneway(worker, n, 1)), 'msgs/s');
      ctx.report(BATCHED, await afterWarmUp(ctx, () => oneway(worker, n * 4, 64)), 'msgs/s');

      const ring = createRing(1);
      worker.postMessage({ ring, mode: 'pings' });
      await once(worker, 'message');
      for (let i = 0; i < 500; i++) ping(ring);
      const times = Array.from({ length: ctx.pick(20_000, 2_000) }, () => ping(ring));
      stopPings(ring);
      await once(worker, 'message');
      ctx.report(PINGPONG, percentile(times, 50) * 1000, 'us');
    } finally {
      await worker.terminate();
    }
  },
};
