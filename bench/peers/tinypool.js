// tinypool no-op tasks on as many threads as thespis's pool: the peer for troupes.

import { NOOP_TASK, POOL_THREADS, poolRate } from '../helpers/pool-rate.js';

const NAME = 'peer.tinypool.noop.tasks_per_s';

export default {
  figures: [NAME],
  async run(ctx) {
    const { Tinypool } = await import('tinypool');
    const pool = new Tinypool({ filename: NOOP_TASK, minThreads: POOL_THREADS, maxThreads: POOL_THREADS });
    try {
      ctx.report(NAME, await poolRate(pool, ctx.pick(100_000, 10_000)), 'tasks/s');
    } finally {
      await pool.destroy();
    }
  },
};
