// Remote hosts: start a runtime in another process with nothing but `node`
// (the `local` method; `ssh`, `sudo` and `su` work the same), a second one
// through the first, put an actor on it, call a function there, copy a file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem } from 'thespis';
import { DiskProbe } from './remote-tasks.js';

const system = await ActorSystem.start({ logLevel: 'info' });
const dir = mkdtempSync(join(tmpdir(), 'thespis-example-'));
try {
  const box = await system.connectHost({ method: 'local', name: 'box' });
  const inner = await system.connectHost({ method: 'local', name: 'inner', via: box });
  console.log(await inner.call(new URL('./remote-tasks.js', import.meta.url).href + '#whereAmI', 'hello'));

  const probe = await system.createActor(DiskProbe, { host: inner });
  writeFileSync(join(dir, 'build.txt'), 'build 42\n');
  await box.putFile(join(dir, 'build.txt'), join(dir, 'deployed.txt'), { mode: 0o640 });
  console.log(await system.ask(probe, { path: join(dir, 'deployed.txt') }, 5000));
  console.log(readFileSync(join(dir, 'deployed.txt'), 'utf8').trim());

  await box.close(); // and `inner`, which was reached through it
  console.log(`inner connected after box.close(): ${inner.connected}`);
} finally {
  await system.shutdown();
  rmSync(dir, { recursive: true, force: true });
}
