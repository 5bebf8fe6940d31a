// Build step: bundles the runtime a remote host runs (dist/remote/host/remote-entry.js
// and what it imports, cbor-x included) into one CommonJS script,
// dist/remote/runtime.cjs, which a host evaluates from memory (remote/runtime-pack.ts);
// then makes dist/remote/runtime.cache, the V8 code cache a host on this very
// node deserialises instead of compiling the runtime: a host booted here runs
// a call and an actor's first messages and hands back the bytecode V8 compiled
// for them. Without it (any failure is only reported) hosts compile as before.
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const dist = fileURLToPath(new URL('../dist/remote/', import.meta.url));
const bundle = await rolldown({
  input: `${dist}host/remote-entry.js`,
  platform: 'node',
  external: [/^node:/, 'cbor-extract', 'node-gyp-build'],
  logLevel: 'silent',
});
const { output } = await bundle.generate({ format: 'cjs', codeSplitting: false });
writeFileSync(`${dist}runtime.cjs`, output[0].code);
await bundle.close();

const cacheFile = `${dist}runtime.cache`;
rmSync(cacheFile, { force: true });
try {
  const { ActorSystem } = await import('../dist/index.js');
  const { CODE_CACHE, encodeCodeCache } = await import('../dist/remote/code-cache.js');
  const { Warmup } = await import('./remote-warmup.js');
  const system = await ActorSystem.start({ base: 'inline', logLevel: 'error' });
  try {
    const host = await system.connectHost({ method: 'local', serve: [fileURLToPath(new URL('.', import.meta.url))], connectTimeoutMs: 60_000 });
    for (let i = 0; i < 3; i++) await host.call('node:process#cwd');
    const actor = await system.createActor(Warmup, { host });
    for (let i = 0; i < 3; i++) await system.ask(actor, i, 10_000);
    const made = await host[CODE_CACHE]();
    if (made === null) throw new Error('the host made no code cache (its node has no vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER)');
    writeFileSync(cacheFile, encodeCodeCache(made));
  } finally {
    await system.shutdown();
  }
} catch (error) {
  console.warn(`bundle-remote: no code cache for remote hosts (${error instanceof Error ? error.message : String(error)})`);
}
