// Actor-to-actor on one thread (base 'inline'): how fast the kernel itself
// moves messages and creates actors, with no transport in the way.

import { flow, actorClass, createActor, withSystem } from '../helpers/thespis.js';
import { afterWarmUp, now, rate } from '../lib/measure.js';

const TELL = 'inline.tell.msgs_per_s';
const CREATE = 'actors.create_per_s.inline';

export default {
  figures: [TELL, CREATE],
  compare: [
    { figure: TELL, against: 'mailbox.push_pop.msgs_per_s' },
    { figure: TELL, against: 'limit.js_queue.push_pop.msgs_per_s' },
  ],
  async run(ctx) {
    await ctx.part([TELL], async () => {
      const Sender = await actorClass(ctx, 'sender', 'Sender');
      const Counter = await actorClass(ctx, 'counter', 'Counter');
      await withSystem(ctx, { base: 'inline' }, async (system) => {
        const sender = await createActor(ctx, system, Sender);
        const counter = await createActor(ctx, system, Counter);
        const n = ctx.pick(2_000_000, 200_000);
        ctx.report(TELL, rate(n, await afterWarmUp(ctx, () => flow(system, sender, counter, n, 120_000))), 'msgs/s');
      });
    });

    await ctx.part([CREATE], async () => {
      const Spawner = await actorClass(ctx, 'spawner', 'Spawner');
      await withSystem(ctx, { base: 'inline' }, async (system) => {
        const n = ctx.pick(50_000, 5_000);
        await system.ask(await createActor(ctx, system, Spawner), { children: n }, 120_000);
        const spawner = await createActor(ctx, system, Spawner);
        const t0 = now();
        await system.ask(spawner, { children: n }, 120_000);
        ctx.report(CREATE, rate(n, now() - t0), 'actors/s');
      });
    });
  },
};
