// Mitogen itself (Debian's python3-mitogen, driven by mitogen_peer.py): the
// peer of bench/suites/remote.js, same calls (os.getcwd / process.cwd), same
// counts, same loopback sshd.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withSshd } from '../helpers/remote.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./mitogen_peer.py', import.meta.url));
const F = {
  bootLocal: 'peer.mitogen.boot.local_ms',
  bootSsh: 'peer.mitogen.boot.ssh_ms',
  rtt: 'peer.mitogen.call.rtt_us',
  fanout: 'peer.mitogen.fanout16.ms',
};

function runPeer(args) {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, JSON.stringify(args)], { timeout: 240_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message} ${stderr.split('\n').slice(-3).join(' ')}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

export default {
  figures: Object.values(F),
  repeats: { full: 5, quick: 1 },
  timeoutMs: { full: 300_000, quick: 60_000 },
  async run(ctx) {
    if (!existsSync('/usr/lib/python3/dist-packages/mitogen/__init__.py')) ctx.absent('needs the Debian package python3-mitogen');
    const args = { boots: ctx.pick(7, 2), calls: ctx.pick(5000, 500), fanouts: ctx.pick(300, 30), sshBoots: ctx.pick(5, 1) };
    let out;
    await ctx.part([F.bootSsh], () =>
      withSshd(ctx, async (sshd) => {
        const o = sshd.options();
        out = await runPeer({ ...args, ssh: { port: o.port, identityFile: o.identityFile, sshArgs: o.sshArgs } });
        ctx.report(F.bootSsh, out.boot_ssh_ms, 'ms');
      }),
    );
    out ??= await runPeer(args);
    ctx.report(F.bootLocal, out.boot_local_ms, 'ms');
    ctx.report(F.rtt, out.rtt_us, 'us');
    ctx.report(F.fanout, out.fanout16_ms, 'ms');
  },
};
