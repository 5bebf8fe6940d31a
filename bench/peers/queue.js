// Physical limit for delivery on one thread: 1024 messages written into a
// preallocated array and read back in order, each handed to a function. No
// runtime can move a message between two actors on one thread for less.

import { MESSAGE, micro } from '../lib/measure.js';

const NAME = 'limit.js_queue.push_pop.msgs_per_s';
const BATCH = 1024;

export default {
  figures: [NAME],
  async run(ctx) {
    const slots = new Array(BATCH).fill(null);
    let seen = 0;
    const deliver = (m) => {
      seen += m.ok ? 1 : 0;
    };
    const hz = micro(ctx, {
      queue: () => {
        for (let i = 0; i < BATCH; i++) slots[i] = MESSAGE;
        for (let i = 0; i < BATCH; i++) {
          deliver(slots[i]);
          slots[i] = null;
        }
      },
    });
    if (seen === 0) throw new Error('nothing delivered');
    ctx.report(NAME, hz.queue * BATCH, 'msgs/s');
  },
};
