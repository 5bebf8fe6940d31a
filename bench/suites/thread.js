// Actor to actor across worker threads (base 'workers' with two pool threads;
// placement puts the two actors of a pair on different threads): one-way flow,
// ping-pong, and creating actors on the pool.

import { actorClass, createActor, flow, withSystem } from '../helpers/thespis.js';
import { afterWarmUp, now, rate } from '../lib/measure.js';

const ONEWAY = 'thread.oneway.msgs_per_s';
const PINGPONG = 'thread.pingpong.p50_us';
const CREATE = 'actors.create_per_s.worker';
const POOL = { base: 'workers', workers: 2 };

export default {
  figures: [ONEWAY, PINGPONG, CREATE],
  compare: [
    { figure: ONEWAY, against: 'peer.messageport.oneway_batched64.msgs_per_s', ratio: 'thread.oneway.vs_messageport_batched' },
    { figure: ONEWAY, against: 'peer.messageport.oneway.msgs_per_s' },
    { figure: ONEWAY, against: 'limit.sab_ring.oneway_batched64.msgs_per_s' },
    { figure: PINGPONG, against: 'peer.messageport.pingpong.p50_us' },
    { figure: PINGPONG, against: 'limit.sab_ring.pingpong.p50_us' },
    { figure: CREATE, against: 'actors.create_per_s.inline' },
  ],
  async run(ctx) {
    await ctx.part([ONEWAY], async () => {
      const Sender = await actorClass(ctx, 'sender', 'Sender');
      const Counter = await actorClass(ctx, 'counter', 'Counter');
      await withSystem(ctx, POOL, async (system) => {
        const sender = await createActor(ctx, system, Sender);
        const counter = await createActor(ctx, system, Counter);
        const n = ctx.pick(1_000_000, 100_000);
        ctx.report(ONEWAY, rate(n, await afterWarmUp(ctx, () => flow(system, sender, counter, n, 120_000))), 'msgs/s');
      });
    });

    await ctx.part([PINGPONG], async () => {
      const Pinger = await actorClass(ctx, 'pinger', 'Pinger');
      const Echo = await actorClass(ctx, 'echo', 'Echo');
      await withSystem(ctx, POOL, async (system) => {
        const pinger = await createActor(ctx, system, Pinger);
        const echo = await createActor(ctx, system, Echo);
        await system.ask(pinger, { rounds: 500, target: echo }, 60_000);
        const { p50_us } = await system.ask(pinger, { rounds: ctx.pick(20_000, 2_000), target: echo }, 120_000);
        ctx.report(PINGPONG, p50_us, 'us');
      });
    });

    await ctx.part([CREATE], async () => {
      const Spawner = await actorClass(ctx, 'spawner', 'Spawner');
      await withSystem(ctx, { base: 'workers' }, async (system) => {
        // Enough to last a few hundred milliseconds: a shorter run times V8's tier-up, not creation.
        const n = ctx.pick(100_000, 10_000);
        const children = { children: n, host: 'worker' };
        await system.ask(await createActor(ctx, system, Spawner), children, 60_000);
        const spawner = await createActor(ctx, system, Spawner);
        const t0 = now();
        await system.ask(spawner, children, 120_000);
        ctx.report(CREATE, rate(n, now() - t0), 'actors/s');
      });
    });
  },
};
