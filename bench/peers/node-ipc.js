// Node's own process messaging: child_process.fork + process.send, one-way
// (JSON and 'advanced' serialization; one message per send, and 256 per send
// as a batching link sends them) and ping-pong. The baseline a process link
// must beat to be worth having.

import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { MESSAGE, afterWarmUp, now, rate } from '../lib/measure.js';
import { pingPong } from '../helpers/threads.js';

const ONEWAY = 'peer.node_ipc.oneway.msgs_per_s';
const BATCHED = 'peer.node_ipc.oneway_batched.msgs_per_s';
const ADVANCED = 'peer.node_ipc.oneway_advanced.msgs_per_s';
const PINGPONG = 'peer.node_ipc.pingpong.p50_us';
const HELPER = fileURLToPath(new URL('../helpers/ipc-child.js', import.meta.url));
/** Messages per process.send in the batched flow: as many as a thespis process link puts in one envelope. */
const PER_SEND = 256;

/**
 * n messages from a child to this process, timed after untimed runs of the
 * same size (afterWarmUp); `per` > 1 sends them in arrays of that many (each
 * counts as `per`).
 */
async function oneway(ctx, serialization, n, per = 1) {
  const child = fork(HELPER, [], { serialization, stdio: 'inherit' });
  await once(child, 'spawn');
  const mode = per > 1 ? { mode: 'batched', n, per } : { mode: 'stream', n };
  let count = 0;
  let runDone = () => {};
  child.on('message', (m) => {
    count += per > 1 ? m.length : 1;
    if (count === n) {
      count = 0;
      runDone();
    }
  });
  const run = () =>
    new Promise((resolve) => {
      const t0 = now();
      runDone = () => resolve(now() - t0);
      child.send(mode);
    });
  const ms = await afterWarmUp(ctx, run);
  child.kill();
  return rate(n, ms);
}

export default {
  figures: [ONEWAY, BATCHED, ADVANCED, PINGPONG],
  async run(ctx) {
    const n = ctx.pick(300_000, 30_000);
    ctx.report(ONEWAY, await oneway(ctx, 'json', n), 'msgs/s');
    ctx.report(BATCHED, await oneway(ctx, 'json', ctx.pick(500_000, 50_000), PER_SEND), 'msgs/s');
    ctx.report(ADVANCED, await oneway(ctx, 'advanced', n / 2), 'msgs/s');

    const child = fork(HELPER, [], { stdio: 'inherit' });
    child.send({ mode: 'echo' });
    await once(child, 'message');
    const trip = (rounds) => pingPong(rounds, () => child.send(MESSAGE), (f) => child.on('message', f));
    await trip(500);
    child.removeAllListeners('message');
    ctx.report(PINGPONG, await trip(ctx.pick(20_000, 2_000)), 'us');
    child.kill();
  },
};
