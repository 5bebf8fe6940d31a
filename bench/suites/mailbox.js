// thespis's mailbox (core/queue.js, internal, reached by path in dist/):
// 1024 message/sender pairs pushed, then peeked and dropped in order.
// The floor under inline.tell.msgs_per_s before dispatch and scheduling.

import { MESSAGE, micro } from '../lib/measure.js';

const NAME = 'mailbox.push_pop.msgs_per_s';
const QUEUE = new URL('../../dist/core/queue.js', import.meta.url).href;
const BATCH = 1024;

export default {
  figures: [NAME],
  compare: [{ figure: NAME, against: 'limit.js_queue.push_pop.msgs_per_s' }],
  async run(ctx) {
    const { Mailbox } = await ctx.need('dist/core/queue.js', () => import(QUEUE));
    const mailbox = await ctx.need('new Mailbox()', () => new Mailbox());
    const sender = {};
    let seen = 0;
    const hz = micro(ctx, {
      mailbox: () => {
        for (let i = 0; i < BATCH; i++) mailbox.push(MESSAGE, sender);
        while (mailbox.length > 0) {
          seen += mailbox.peekMessage().ok && mailbox.peekSender() === sender ? 1 : 0;
          mailbox.dropFirst();
        }
      },
    });
    if (seen === 0) throw new Error('nothing delivered');
    ctx.report(NAME, hz.mailbox * BATCH, 'msgs/s');
  },
};
