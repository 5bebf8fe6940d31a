// ssh itself, to the same kind of loopback sshd as remote.boot.ssh_ms: the
// time from starting `ssh` to the first line of a `node` it runs there. No
// runtime, no link, no call: the floor under a remote boot over ssh, which
// thespis (and Mitogen, with python) can only add to.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { withSshd } from '../helpers/remote.js';
import { now } from '../lib/measure.js';
import { median } from '../lib/stats.js';

const FIGURE = 'limit.ssh.node_ms';

async function sshNode(sshd) {
  const o = sshd.options();
  const args = ['-T', '-o', 'BatchMode=yes', '-p', String(o.port), '-i', o.identityFile, '-l', o.user, ...o.sshArgs, '--', o.hostname, 'node -e "process.stdout.write(\'up\')"'];
  const t0 = now();
  const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  await once(child.stdout, 'data');
  const ms = now() - t0;
  const [code] = await exited;
  if (code !== 0) throw new Error(`ssh exited with ${code}`);
  return ms;
}

export default {
  figures: [FIGURE],
  repeats: { full: 3, quick: 1 },
  async run(ctx) {
    await withSshd(ctx, async (sshd) => {
      const times = [];
      const count = ctx.pick(7, 2);
      for (let i = 0; i <= count; i++) {
        const ms = await sshNode(sshd);
        if (i > 0) times.push(ms); // as the boots: the first warms the caches
      }
      ctx.report(FIGURE, median(times), 'ms');
    });
  },
};
