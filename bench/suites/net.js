// Actor to actor between two systems in two processes over loopback TCP:
// the system in the suite's process leads a convention that the other system
// (helpers/net-system.js, in a child process) joins, and a create with the
// other system's capability as a requirement places the far actor there.
// Both systems use the `inline` base, so actors run on the thread that owns
// the network link (no hop through a worker thread on either side).
// The same with a secret (TLS 1.3, PSK), and ping-pong over TCP.

import { actorClass, createActor, flow, withSystem } from '../helpers/thespis.js';
import { members, spawnSystem } from '../helpers/net.js';
import { afterWarmUp, rate } from '../lib/measure.js';

const TCP = 'tcp.oneway.msgs_per_s';
const TLS = 'tls.oneway.msgs_per_s';
const PINGPONG = 'tcp.pingpong.p50_us';
const SECRET = 'thespis-bench-secret';
const FAR = { requirements: { benchFar: true } };

/** The near system (here) and the far one (a child process) in one convention. */
async function withPair(ctx, secret, body) {
  const options = { base: 'inline', admin: { port: 0 }, ...(secret ? { secret } : {}) };
  await withSystem(ctx, options, async (near) => {
    const far = await ctx.need('a system in another process', () =>
      spawnSystem({ ...options, convention: { leader: near.adminAddress }, capabilities: { benchFar: true } }),
    );
    try {
      await members(near, 2);
      await body(near);
    } finally {
      await far.stop();
    }
  });
}

async function oneway(ctx, secret) {
  const Sender = await actorClass(ctx, 'sender', 'Sender');
  const Counter = await actorClass(ctx, 'counter', 'Counter');
  let result = 0;
  await withPair(ctx, secret, async (near) => {
    const sender = await createActor(ctx, near, Sender);
    const counter = await createActor(ctx, near, Counter, FAR);
    const n = ctx.pick(1_000_000, 100_000);
    result = rate(n, await afterWarmUp(ctx, () => flow(near, sender, counter, n, 120_000)));
  });
  return result;
}

export default {
  figures: [TCP, TLS, PINGPONG],
  compare: [
    { figure: TCP, against: 'peer.nats.oneway.msgs_per_s', ratio: 'tcp.oneway.vs_nats' },
    { figure: TCP, against: 'limit.tcp.oneway_coalesced.msgs_per_s' },
    { figure: TLS, against: TCP, ratio: 'tls.oneway.vs_tcp' },
    { figure: PINGPONG, against: 'limit.tcp.pingpong.p50_us', ratio: 'tcp.pingpong.vs_raw' },
  ],
  timeoutMs: { full: 240_000, quick: 40_000 },
  async run(ctx) {
    await ctx.part([TCP], async () => ctx.report(TCP, await oneway(ctx, undefined), 'msgs/s'));
    await ctx.part([TLS], async () => ctx.report(TLS, await oneway(ctx, SECRET), 'msgs/s'));
    await ctx.part([PINGPONG], async () => {
      const Pinger = await actorClass(ctx, 'pinger', 'Pinger');
      const Echo = await actorClass(ctx, 'echo', 'Echo');
      await withPair(ctx, undefined, async (near) => {
        const pinger = await createActor(ctx, near, Pinger);
        const echo = await createActor(ctx, near, Echo, FAR);
        await near.ask(pinger, { rounds: 500, target: echo }, 60_000);
        const { p50_us } = await near.ask(pinger, { rounds: ctx.pick(20_000, 2_000), target: echo }, 120_000);
        ctx.report(PINGPONG, p50_us, 'us');
      });
    });
  },
};
