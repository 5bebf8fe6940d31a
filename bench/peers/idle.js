// CPU burnt by a process holding one idle worker thread per CPU: what
// thread.idle_cpu_pct should come close to (an idle pool should cost nothing).

import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { idleCpuPercent } from '../helpers/idle-cpu.js';

const NAME = 'peer.worker_threads.idle_cpu_pct';
const IDLE = "require('node:worker_threads').parentPort.on('message', () => {});";

export default {
  figures: [NAME],
  async run(ctx) {
    const workers = Array.from({ length: os.availableParallelism() }, () => new Worker(IDLE, { eval: true }));
    await Promise.all(workers.map((w) => once(w, 'online')));
    try {
      ctx.report(NAME, await idleCpuPercent(ctx.pick(1000, 300), ctx.pick(3000, 700)), '%');
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  },
};
