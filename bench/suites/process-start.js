// Time from createActor(..., { host: 'process', startup }) to the new actor's
// first reply, for each way of starting a process. The first start of each
// kind is not timed: it pays for starting the zygote or warming the disk.

import { actorClass, createActor, loadThespis, withSystem } from '../helpers/thespis.js';
import { now } from '../lib/measure.js';
import { median } from '../lib/stats.js';

const STARTUPS = ['spawn', 'fork', 'forkserver'];
const name = (startup) => `process.start.${startup}_ms`;

export default {
  figures: STARTUPS.map(name),
  compare: [
    { figure: name('spawn'), against: name('forkserver'), ratio: 'process.start.spawn_vs_forkserver' },
    { figure: name('spawn'), against: 'peer.node_spawn.start_ms' },
    { figure: name('fork'), against: 'peer.node_fork.start_ms' },
    { figure: name('forkserver'), against: 'peer.node_fork.start_ms' },
    { figure: name('forkserver'), against: 'peer.worker_thread.start_ms' },
  ],
  async run(ctx) {
    const { ActorExitRequest } = await loadThespis(ctx);
    const Echo = await actorClass(ctx, 'echo', 'Echo');
    await withSystem(ctx, { base: 'workers' }, async (system) => {
      for (const startup of STARTUPS) {
        await ctx.part([name(startup)], async () => {
          const options = { host: 'process', startup };
          const times = [];
          for (let i = 0; i <= ctx.pick(7, 2); i++) {
            const t0 = now();
            const actor = await createActor(ctx, system, Echo, options);
            await system.ask(actor, 'hi', 30_000);
            if (i > 0) times.push(now() - t0);
            system.tell(actor, new ActorExitRequest());
          }
          ctx.report(name(startup), median(times), 'ms');
        });
      }
    });
  },
};
