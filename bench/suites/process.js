// Actor to actor across child processes (host 'process': each actor in its own
// process, linked by Unix sockets): one-way flow and ping-pong. After the
// untimed warm-up the two processes talk over a direct link (a socket pair
// the system's process gave them), so the timed flow does not pass through
// the system's process. A process link batches (up to 256 frames per
// envelope, one sendmsg per turn), so the like-for-like peer is Node IPC
// sending 256 messages per process.send; one message per send is kept beside it.

import { actorClass, createActor, flow, withSystem } from '../helpers/thespis.js';
import { afterWarmUp, rate } from '../lib/measure.js';

const ONEWAY = 'process.oneway.msgs_per_s';
const PINGPONG = 'process.pingpong.p50_us';
const PROCESS = { host: 'process' };

export default {
  figures: [ONEWAY, PINGPONG],
  compare: [
    { figure: ONEWAY, against: 'peer.node_ipc.oneway_batched.msgs_per_s', ratio: 'process.oneway.vs_node_ipc_batched' },
    { figure: ONEWAY, against: 'peer.node_ipc.oneway.msgs_per_s', ratio: 'process.oneway.vs_node_ipc' },
    { figure: ONEWAY, against: 'peer.unix_socket.oneway_coalesced.msgs_per_s' },
    { figure: PINGPONG, against: 'peer.node_ipc.pingpong.p50_us' },
    { figure: PINGPONG, against: 'peer.unix_socket.pingpong.p50_us' },
  ],
  async run(ctx) {
    await ctx.part([ONEWAY], async () => {
      const Sender = await actorClass(ctx, 'sender', 'Sender');
      const Counter = await actorClass(ctx, 'counter', 'Counter');
      await withSystem(ctx, { base: 'workers' }, async (system) => {
        const sender = await createActor(ctx, system, Sender, PROCESS);
        const counter = await createActor(ctx, system, Counter, PROCESS);
        const n = ctx.pick(500_000, 50_000);
        ctx.report(ONEWAY, rate(n, await afterWarmUp(ctx, () => flow(system, sender, counter, n, 120_000))), 'msgs/s');
      });
    });

    await ctx.part([PINGPONG], async () => {
      const Pinger = await actorClass(ctx, 'pinger', 'Pinger');
      const Echo = await actorClass(ctx, 'echo', 'Echo');
      await withSystem(ctx, { base: 'workers' }, async (system) => {
        const pinger = await createActor(ctx, system, Pinger, PROCESS);
        const echo = await createActor(ctx, system, Echo, PROCESS);
        await system.ask(pinger, { rounds: 500, target: echo }, 60_000);
        const { p50_us } = await system.ask(pinger, { rounds: ctx.pick(20_000, 2_000), target: echo }, 120_000);
        ctx.report(PINGPONG, p50_us, 'us');
      });
    });
  },
};
