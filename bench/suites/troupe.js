// A troupe (one address in front of a pool of identical worker actors)
// answering no-op tasks, all asked at once: the actor-model answer to a
// worker pool, measured against piscina and tinypool on the same machine.

import { actorClass, createActor, withSystem } from '../helpers/thespis.js';
import { POOL_THREADS } from '../helpers/pool-rate.js';
import { now, rate } from '../lib/measure.js';

const NAME = 'troupe.noop.tasks_per_s';

export default {
  figures: [NAME],
  compare: [
    { figure: NAME, against: 'peer.piscina.noop.tasks_per_s', ratio: 'troupe.noop.vs_piscina' },
    { figure: NAME, against: 'peer.tinypool.noop.tasks_per_s', ratio: 'troupe.noop.vs_tinypool' },
  ],
  async run(ctx) {
    const NoopTroupe = await actorClass(ctx, 'noop-troupe', 'NoopTroupe');
    // The troupe's members (max = CPUs, actors/noop-troupe.js) on a pool of the
    // same size as piscina's and tinypool's in their peers.
    await withSystem(ctx, { base: 'workers', workers: POOL_THREADS }, async (system) => {
      const troupe = await createActor(ctx, system, NoopTroupe);
      const all = (k) => Promise.all(Array.from({ length: k }, () => system.ask(troupe, 'task', 120_000)));
      const n = ctx.pick(100_000, 10_000);
      await all(Math.max(1000, n / 10));
      const t0 = now();
      await all(n);
      ctx.report(NAME, rate(n, now() - t0), 'tasks/s');
    });
  },
};
