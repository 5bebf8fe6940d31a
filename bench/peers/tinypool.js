// tinypool no-op tasks with its default thread count: the peer for troupes.

import { NOOP_TASK, poolRate } from '../helpers/pool-rate.js';

const NAME = 'peer.tinypool.noop.tasks_per_s';

export default {
  figures: [NAME],
  async run(ctx) {
    const { Tinypool } = await import('tinypool');
    const pool = new Tinypool({ filename: NOOP_TASK });
    try {
      ctx.report(NAME, await poolRate(pool, ctx.pick(100_000, 10_000)), 'tasks/s');
    } finally {
      await pool.destroy();
    }
  },
};
