// Remote hosts (Mitogen's core): boot to the first call answered (local and
// over ssh to a loopback sshd), a call's round trip, one call to each of 16
// hosts, and putFile over ssh with the system process's memory growth.
// Peers in the same run: Mitogen (bench/peers/mitogen.js) and scp (bench/peers/scp.js).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileMiB, withSshd, writeTestFile } from '../helpers/remote.js';
import { withSystem } from '../helpers/thespis.js';
import { withTimeout } from '../lib/context.js';
import { now } from '../lib/measure.js';
import { median } from '../lib/stats.js';

const CALL = 'node:process#cwd';
const F = {
  bootLocal: 'remote.boot.local_ms',
  bootSsh: 'remote.boot.ssh_ms',
  rtt: 'remote.call.rtt_us',
  fanout: 'remote.fanout16.ms',
  file: 'remote.file.mib_per_s',
  rss: 'remote.file.rss_growth_mib',
};

async function boots(ctx, system, options, count) {
  const times = [];
  for (let i = 0; i <= count; i++) {
    const t0 = now();
    const host = await withTimeout(system.connectHost(options), 30_000, 'connectHost');
    await host.call(CALL);
    if (i > 0) times.push(now() - t0); // the first pays for reading and compressing the runtime
    await host.close();
  }
  return median(times);
}

export default {
  figures: Object.values(F),
  compare: [
    { figure: F.bootLocal, against: 'peer.mitogen.boot.local_ms', ratio: 'remote.boot.local_vs_mitogen' },
    { figure: F.bootLocal, against: 'peer.node_spawn.start_ms' },
    { figure: F.bootSsh, against: 'peer.mitogen.boot.ssh_ms', ratio: 'remote.boot.ssh_vs_mitogen' },
    { figure: F.bootSsh, against: 'limit.ssh.node_ms' },
    { figure: F.rtt, against: 'peer.mitogen.call.rtt_us', ratio: 'remote.call.rtt_vs_mitogen' },
    { figure: F.fanout, against: 'peer.mitogen.fanout16.ms', ratio: 'remote.fanout16.vs_mitogen' },
    { figure: F.file, against: 'peer.scp.mib_per_s', ratio: 'remote.file.vs_scp' },
  ],
  repeats: { full: 5, quick: 1 },
  timeoutMs: { full: 300_000, quick: 60_000 },
  async run(ctx) {
    await withSystem(ctx, { base: 'inline' }, async (system) => {
      if (typeof system.connectHost !== 'function') ctx.absent('connectHost has not landed');
      await ctx.part([F.bootLocal], async () => {
        ctx.report(F.bootLocal, await boots(ctx, system, { method: 'local' }, ctx.pick(7, 2)), 'ms');
      });
      await ctx.part([F.rtt], async () => {
        const host = await system.connectHost({ method: 'local' });
        const n = ctx.pick(5000, 500);
        for (let i = 0; i < n; i++) await host.call(CALL); // warm-up, as many as timed
        const times = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const t0 = now();
          await host.call(CALL);
          times[i] = now() - t0;
        }
        ctx.report(F.rtt, median([...times]) * 1000, 'us');
        await host.close();
      });
      await ctx.part([F.fanout], async () => {
        const hosts = await Promise.all(Array.from({ length: 16 }, () => system.connectHost({ method: 'local' })));
        const rounds = ctx.pick(300, 30);
        for (let i = 0; i < rounds; i++) await Promise.all(hosts.map((h) => h.call(CALL))); // warm-up, as many as timed
        const times = [];
        for (let i = 0; i < rounds; i++) {
          const t0 = now();
          await Promise.all(hosts.map((h) => h.call(CALL)));
          times.push(now() - t0);
        }
        ctx.report(F.fanout, median(times), 'ms');
        await Promise.all(hosts.map((h) => h.close()));
      });
      await ctx.part([F.bootSsh, F.file, F.rss], () =>
        withSshd(ctx, async (sshd) => {
          ctx.report(F.bootSsh, await boots(ctx, system, sshd.options(), ctx.pick(5, 1)), 'ms');
          const dir = mkdtempSync(join(tmpdir(), 'thespis-bench-file-'));
          try {
            const mib = fileMiB(ctx);
            writeTestFile(join(dir, 'source'), mib);
            const host = await system.connectHost(sshd.options());
            global.gc?.();
            const before = process.memoryUsage.rss();
            let peak = before;
            const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
            const t0 = now();
            await host.putFile(join(dir, 'source'), join(dir, 'target'));
            const ms = now() - t0;
            clearInterval(sampler);
            peak = Math.max(peak, process.memoryUsage.rss());
            ctx.report(F.file, mib / (ms / 1000), 'MiB/s');
            ctx.report(F.rss, (peak - before) / (1024 * 1024), 'MiB');
            await host.close();
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }),
      );
    });
  },
};
