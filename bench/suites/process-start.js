// Time from createActor(..., { host: 'process', startup }) to the new actor's
// first reply, for each way of starting a process. The first start of each
// kind is not timed: it pays for starting the zygote or warming the disk
// (for forkserver it is reported apart, as the first start a program sees).
// Forkserver starts are the steady state: before each, the system's spare
// process (forked and warmed ahead of need) has said it is warm, so each
// timed create takes a warm spare, as creates spaced out in time do.

import { actorClass, createActor, loadThespis, withSystem } from '../helpers/thespis.js';
import { now } from '../lib/measure.js';
import { median } from '../lib/stats.js';

const STARTUPS = ['spawn', 'fork', 'forkserver'];
const name = (startup) => `process.start.${startup}_ms`;
const FIRST = 'process.start.forkserver_first_ms';
const SPARE_WAIT_MS = 10_000;

/** Counts the system's "spare process N is warm" log lines; warnings and errors go to stderr as usual. */
function spareWatch() {
  let warm = 0;
  let wake = null;
  return {
    logLevel: 'debug',
    logger(record) {
      if (/^spare process \d+ is warm$/.test(record.message)) {
        warm++;
        wake?.();
      } else if (record.level === 'warn' || record.level === 'error') {
        process.stderr.write(`[thespis ${record.level}] ${record.source}: ${record.message}\n`);
      }
    },
    /** Resolves once `n` spares have said they are warm (or after SPARE_WAIT_MS: the create then forks plainly). */
    async warmSpares(n) {
      const deadline = Date.now() + SPARE_WAIT_MS;
      while (warm < n && Date.now() < deadline) {
        await new Promise((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

export default {
  figures: [...STARTUPS.map(name), FIRST],
  compare: [
    { figure: name('spawn'), against: name('forkserver'), ratio: 'process.start.spawn_vs_forkserver' },
    { figure: name('spawn'), against: 'peer.node_spawn.start_ms' },
    { figure: name('fork'), against: 'peer.node_fork.start_ms' },
    { figure: name('forkserver'), against: 'peer.node_fork.start_ms' },
    { figure: name('forkserver'), against: 'peer.worker_thread.start_ms' },
    { figure: FIRST, against: 'peer.node_spawn.start_ms' },
  ],
  async run(ctx) {
    const { ActorExitRequest } = await loadThespis(ctx);
    const Echo = await actorClass(ctx, 'echo', 'Echo');
    const spares = spareWatch();
    await withSystem(ctx, { base: 'workers', logLevel: spares.logLevel, logger: spares.logger }, async (system) => {
      for (const startup of STARTUPS) {
        await ctx.part(startup === 'forkserver' ? [name(startup), FIRST] : [name(startup)], async () => {
          const options = { host: 'process', startup };
          const times = [];
          for (let i = 0; i <= ctx.pick(7, 2); i++) {
            // The i-th forkserver create finds the i-th spare warm (the first create forks the first spare).
            if (startup === 'forkserver' && i > 0) await spares.warmSpares(i);
            const t0 = now();
            const actor = await createActor(ctx, system, Echo, options);
            await system.ask(actor, 'hi', 30_000);
            const ms = now() - t0;
            if (i > 0) times.push(ms);
            else if (startup === 'forkserver') ctx.report(FIRST, ms, 'ms');
            system.tell(actor, new ActorExitRequest());
          }
          ctx.report(name(startup), median(times), 'ms');
        });
      }
    });
  },
};
