// CPU a workers system burns while its actors have nothing to do. Spinning
// before sleeping is how thread links get their latency down; this figure is
// the check that the spinning stops when the traffic does.

import { actorClass, createActor, withSystem } from '../helpers/thespis.js';
import { idleCpuPercent } from '../helpers/idle-cpu.js';

const NAME = 'thread.idle_cpu_pct';

export default {
  figures: [NAME],
  compare: [{ figure: NAME, against: 'peer.worker_threads.idle_cpu_pct' }],
  async run(ctx) {
    const Echo = await actorClass(ctx, 'echo', 'Echo');
    await withSystem(ctx, { base: 'workers' }, async (system) => {
      const actors = [];
      for (let i = 0; i < 100; i++) actors.push(await createActor(ctx, system, Echo));
      // Traffic first, so whatever spins after an exchange has had its chance to start.
      await Promise.all(actors.map((a) => system.ask(a, 'hello', 30_000)));
      ctx.report(NAME, await idleCpuPercent(ctx.pick(1000, 300), ctx.pick(3000, 700)), '%');
    });
  },
};
