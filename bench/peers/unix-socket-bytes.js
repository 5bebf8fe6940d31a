// Raw framed writes of large payloads over a Unix socket between two
// processes (one write per frame, the receiver counting frames without
// copying them): the physical limit for the process size sweep
// (suites/process-bytes.js), for the same sizes.

import net from 'node:net';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterWarmUp, now } from '../lib/measure.js';
import { frameCounter } from '../helpers/frames.js';
import { MIB } from '../lib/payload.js';
import { PROCESS_SIZES } from '../lib/sweep.js';

const HELPER = fileURLToPath(new URL('../helpers/socket-bytes-child.js', import.meta.url));
const name = (label) => `limit.unix_socket.bytes_${label}.mib_per_s`;

async function flow(server, path, size, n) {
  const accepted = once(server, 'connection');
  const child = spawn(process.execPath, [HELPER, path, String(size), String(n)], { stdio: 'inherit' });
  const exited = once(child, 'exit');
  const [sock] = await accepted;
  let frames = 0;
  const done = new Promise((resolve) => sock.on('data', frameCounter((k) => (frames += k) >= n && resolve())));
  const t0 = now();
  sock.write('g');
  await done;
  const ms = now() - t0;
  sock.destroy();
  await exited;
  return (n * size) / MIB / (ms / 1000);
}

export default {
  figures: PROCESS_SIZES.map((s) => name(s.label)),
  async run(ctx) {
    const path = join(os.tmpdir(), `thespis-bench-bytes-${process.pid}.sock`);
    rmSync(path, { force: true });
    const server = net.createServer();
    server.listen(path);
    await once(server, 'listening');
    try {
      for (const { label, size, count } of PROCESS_SIZES) {
        const n = ctx.pick(count, Math.max(4, count >> 3));
        ctx.report(name(label), await afterWarmUp(ctx, () => flow(server, path, size, n)), 'MiB/s');
      }
    } finally {
      server.close();
      rmSync(path, { force: true });
    }
  },
};
