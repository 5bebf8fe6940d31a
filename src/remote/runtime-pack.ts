/**
 * What travels to a remote host at boot besides its boot record: stage 2,
 * the runtime bundle (dist/remote/runtime.cjs, made from host/remote-entry.ts at
 * build time, so the host evaluates one script instead of loading dozens of
 * modules), a V8 code cache for it, and the loader hook's text. Read once per
 * process.
 *
 * The code cache (dist/remote/runtime.cache) is made at build time by a host
 * booted here (scripts/remote-code-cache.mjs): after a boot, a call and an
 * actor's first messages, the host serialises the bytecode V8 compiled for
 * them. A host whose node is the one that made it (same version, arch and V8)
 * deserialises that instead of parsing the runtime and compiling each function
 * on its first call; any other node (or a cache V8 rejects: other flags)
 * compiles as if there were none. It is our own build's output, as trusted
 * as the runtime it belongs to.
 */
import { existsSync, readFileSync } from 'node:fs';
import { decodeCodeCache } from './code-cache.js';
import type { RuntimeParts } from './protocol.js';

/**
 * Stage 2, run by the first stage with `p` (the inflated payload, whose
 * segments are stage 2, the runtime, its code cache and the cache's tag, the
 * hook, the boot record; each behind a 4-byte length) and `require`:
 * evaluates the runtime with the addon off (it does not travel) and starts
 * the kernel. Keep it in step with PayloadBuilder (child-hosts.ts).
 */
const STAGE2 = `let at = 0;
const next = () => { const n = p.readUInt32BE(at); const part = p.subarray(at + 4, at + 4 + n); at += 4 + n; return part; };
const parts = { stage2: next().toString('latin1'), runtime: next().toString('utf8'), codeCache: next(), codeCacheTag: next().toString('latin1'), hook: next().toString('utf8') };
const boot = JSON.parse(next().toString('utf8'));
process.env.THESPIS_NO_NATIVE = '1';
process.env.CBOR_NATIVE_ACCELERATION_DISABLED = 'true';
// import() from a script made from a code cache fails on Node 20: the runtime borrows this one (loader/dynamic-import.ts).
globalThis[Symbol.for('thespis.remote.import')] = (url) => import(url);
const usable = parts.codeCache.length > 0 && parts.codeCacheTag === process.version + ' ' + process.arch + ' ' + process.versions.v8;
const script = new (require('vm').Script)('(function (module, exports, require, __filename, __dirname) {' + parts.runtime + '\\n})', {
  filename: 'thespis-remote-runtime.cjs',
  cachedData: usable ? parts.codeCache : undefined,
});
globalThis[Symbol.for('thespis.remote.script')] = script;
const run = script.runInThisContext();
const m = { exports: {} };
run(m, m.exports, require, '/thespis-remote/dist/remote/runtime.cjs', '/thespis-remote/dist/remote');
globalThis[Symbol.for('thespis.remote.runtime')] = m.exports;
m.exports.runRemote(parts, boot);
`;

const CACHE_FILE = new URL('./runtime.cache', import.meta.url);

function readCodeCache(): { codeCache: Uint8Array; codeCacheTag: string } {
  if (!existsSync(CACHE_FILE)) return { codeCache: new Uint8Array(0), codeCacheTag: '' };
  const { tag, cache } = decodeCodeCache(readFileSync(CACHE_FILE));
  return { codeCacheTag: tag, codeCache: cache };
}

let parts: RuntimeParts | null = null;

export function runtimeParts(): RuntimeParts {
  parts ??= {
    stage2: STAGE2,
    runtime: readFileSync(new URL('./runtime.cjs', import.meta.url), 'utf8'),
    ...readCodeCache(),
    hook: readFileSync(new URL('../loader/hook.js', import.meta.url), 'utf8'),
  };
  return parts;
}
