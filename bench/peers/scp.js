// scp (OpenSSH) copying the same file as remote.file.mib_per_s over the same
// kind of loopback sshd: the peer of putFile.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileMiB, withSshd, writeTestFile } from '../helpers/remote.js';
import { now } from '../lib/measure.js';

const FIGURE = 'peer.scp.mib_per_s';

export default {
  figures: [FIGURE],
  repeats: { full: 5, quick: 1 },
  timeoutMs: { full: 300_000, quick: 60_000 },
  async run(ctx) {
    await withSshd(ctx, async (sshd) => {
      const dir = mkdtempSync(join(tmpdir(), 'thespis-bench-scp-'));
      try {
        const mib = fileMiB(ctx);
        writeTestFile(join(dir, 'source'), mib);
        const o = sshd.options();
        const args = ['-q', '-P', String(o.port), '-i', o.identityFile, '-o', 'BatchMode=yes', ...o.sshArgs, join(dir, 'source'), `root@127.0.0.1:${join(dir, 'target')}`];
        const t0 = now();
        await new Promise((resolve, reject) => execFile('scp', args, (error, _out, stderr) => (error ? reject(new Error(`${error.message} ${stderr}`)) : resolve())));
        ctx.report(FIGURE, mib / ((now() - t0) / 1000), 'MiB/s');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
};
