// Start-to-first-message of the plain Node ways to get another runtime: a
// spawned `node`, child_process.fork, a worker thread. The floor under
// process.start.* (which also load thespis and an actor).

import { spawn, fork } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { median } from '../lib/stats.js';
import { now } from '../lib/measure.js';

const HELLO = fileURLToPath(new URL('../helpers/hello.js', import.meta.url));
const SPAWN = 'peer.node_spawn.start_ms';
const FORK = 'peer.node_fork.start_ms';
const WORKER = 'peer.worker_thread.start_ms';

const ways = {
  [SPAWN]: async () => {
    const child = spawn(process.execPath, [HELLO], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(child.stdout, 'data');
    return child;
  },
  [FORK]: async () => {
    const child = fork(HELLO, [], { stdio: 'inherit' });
    await once(child, 'message');
    return child;
  },
  [WORKER]: async () => {
    const worker = new Worker(HELLO);
    await once(worker, 'message');
    return worker;
  },
};

export default {
  figures: Object.keys(ways),
  async run(ctx) {
    const times = ctx.pick(7, 3);
    for (const [name, start] of Object.entries(ways)) {
      const ms = [];
      for (let i = 0; i <= times; i++) {
        const t0 = now();
        const it = await start();
        if (i > 0) ms.push(now() - t0); // the first start warms the disk cache
        if (it.terminate) await it.terminate();
        else if (it.exitCode === null) await once(it, 'exit');
      }
      ctx.report(name, median(ms), 'ms');
    }
  },
};
