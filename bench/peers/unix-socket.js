// Raw Unix-socket frames between two processes: 64-byte length-prefixed frames
// coalesced into 64 KiB writes (the ceiling for a process link that batches),
// and ping-pong of one 64-byte frame.

import net from 'node:net';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterWarmUp, now, rate } from '../lib/measure.js';
import { frameCounter, framePingPong } from '../helpers/frames.js';

const ONEWAY = 'peer.unix_socket.oneway_coalesced.msgs_per_s';
const PINGPONG = 'peer.unix_socket.pingpong.p50_us';
const HELPER = fileURLToPath(new URL('../helpers/socket-child.js', import.meta.url));

async function connectChild(server, path, args) {
  const accepted = once(server, 'connection');
  const child = spawn(process.execPath, [HELPER, path, ...args], { stdio: 'inherit' });
  const [sock] = await accepted;
  sock.setNoDelay(true);
  return { sock, child };
}

async function oneway(server, path, n) {
  const { sock, child } = await connectChild(server, path, ['stream', String(n)]);
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
    const path = join(os.tmpdir(), `thespis-bench-${process.pid}.sock`);
    rmSync(path, { force: true });
    const server = net.createServer();
    server.listen(path);
    await once(server, 'listening');
    try {
      const n = ctx.pick(10_000_000, 1_000_000);
      ctx.report(ONEWAY, await afterWarmUp(ctx, () => oneway(server, path, n)), 'msgs/s');

      const { sock, child } = await connectChild(server, path, ['echo']);
      ctx.report(PINGPONG, await framePingPong(sock, ctx.pick(20_000, 2_000)), 'us');
      sock.destroy();
      await once(child, 'exit');
    } finally {
      server.close();
      rmSync(path, { force: true });
    }
  },
};
