// Shared by the remote-host suite and its peers (Mitogen, scp): the loopback
// sshd (test/fixtures/remote/sshd.js) and the file moved over it.

import { closeSync, openSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export { sshAvailable, startSshd } from '../../test/fixtures/remote/sshd.js';

/** MiB moved by the file figures: 256 (quick: 32). */
export const fileMiB = (ctx) => ctx.pick(256, 32);

/** A file of `mib` MiB of random bytes (a 1 MiB random block repeated: nothing on the way compresses). */
export function writeTestFile(path, mib) {
  const block = randomBytes(1024 * 1024);
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mib; i++) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
}

/** Runs `body` with a loopback sshd, or reports the figures absent with why. */
export async function withSshd(ctx, body) {
  const { sshAvailable, startSshd } = await import('../../test/fixtures/remote/sshd.js');
  const missing = sshAvailable();
  if (missing !== null) ctx.absent(`ssh: ${missing}`);
  const sshd = await startSshd();
  try {
    return await body(sshd);
  } finally {
    await sshd.stop();
  }
}
