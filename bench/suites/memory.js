// Heap held per idle actor: create many, collect garbage, divide. On the
// inline base, where the whole cost (actor, mailbox, routing entry) sits in
// this isolate's heap and can be measured exactly; thread and process hosts
// add their kernel's fixed cost, not a per-actor one.

import { actorClass, createActor, withSystem } from '../helpers/thespis.js';

const NAME = 'memory.bytes_per_idle_actor';

function settledHeap() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

export default {
  figures: [NAME],
  nodeArgs: ['--expose-gc'],
  async run(ctx) {
    if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
    const Echo = await actorClass(ctx, 'echo', 'Echo');
    await withSystem(ctx, { base: 'inline' }, async (system) => {
      await system.ask(await createActor(ctx, system, Echo), 'warm', 10_000);
      // The scale: one million idle actors in one system (quick: 20,000).
      const n = ctx.pick(1_000_000, 20_000);
      const before = settledHeap();
      // Addresses are dropped at once: what is measured is what the system keeps.
      for (let made = 0; made < n; made += 1000) {
        await Promise.all(Array.from({ length: Math.min(1000, n - made) }, () => system.createActor(Echo)));
      }
      const after = settledHeap();
      ctx.report(NAME, (after - before) / n, 'bytes');
    });
  },
};
