// Raw framed TCP over loopback between two processes, Node's own sockets and
// nothing else: 64-byte length-prefixed frames coalesced into 64 KiB writes
// (the ceiling for a link that batches), and ping-pong of one 64-byte frame
// (Nagle off), the floor for a round trip that sleeps between messages.

import net from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterWarmUp, now, rate } from '../lib/measure.js';
import { frameCounter, framePingPong } from '../helpers/frames.js';

const ONEWAY = 'limit.tcp.oneway_coalesced.msgs_per_s';
const PINGPONG = 'limit.tcp.pingpong.p50_us';
const HELPER = fileURLToPath(new URL('../helpers/socket-child.js', import.meta.url));

async function connectChild(server, args) {
  const accepted = once(server, 'connection');
  const child = spawn(process.execPath, [HELPER, String(server.address().port), ...args], { stdio: 'inherit' });
  const [sock] = await accepted;
  sock.setNoDelay(true);
  return { sock, child };
}

async function oneway(server, n) {
  const { sock, child } = await connectChild(server, ['stream', String(n)]);
  let frames = 0;
  const done = new Promise((resolve) => {
    sock.on('data', frameCounter((k) => (frames += k) >= n && resolve()));
  });
  const t0 = now();
  sock.write('g');
  await done;
  const r = rate(n, now() - t0);
  sock.destroy();
  await once(child, 'exit');
  return r;
}

export default {
  figures: [ONEWAY, PINGPONG],
  async run(ctx) {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const n = ctx.pick(10_000_000, 1_000_000);
      ctx.report(ONEWAY, await afterWarmUp(ctx, () => oneway(server, n)), 'msgs/s');

      const { sock, child } = await connectChild(server, ['echo']);
      ctx.report(PINGPONG, await framePingPong(sock, ctx.pick(20_000, 2_000)), 'us');
      sock.destroy();
      await once(child, 'exit');
    } finally {
      server.close();
    }
  },
};
