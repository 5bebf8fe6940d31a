/**
 * What travels to a remote host at boot: the runtime bundle
 * (dist/remote/runtime.cjs, made from remote-entry.ts at build time, so the
 * host evaluates one script instead of loading dozens of modules), the
 * loader hook's text, and stage 2. Read once per process.
 */
import { readFileSync } from 'node:fs';
import type { RuntimePayload } from './protocol.js';

/**
 * Stage 2, run by the first stage with `p` (the payload), `rest` (bytes read
 * past it) and `require`: evaluates the runtime with the addon off (it does
 * not travel) and starts the kernel.
 */
const STAGE2 = [
  "process.env.THESPIS_NO_NATIVE = '1';",
  "process.env.CBOR_NATIVE_ACCELERATION_DISABLED = 'true';",
  'const m = { exports: {} };',
  "new Function('module', 'exports', 'require', '__filename', '__dirname', p.runtime + '\\n//# sourceURL=thespis-remote-runtime.cjs')(m, m.exports, require, '/thespis-remote/dist/remote/runtime.cjs', '/thespis-remote/dist/remote');",
  "globalThis[Symbol.for('thespis.remote.runtime')] = m.exports;",
  'm.exports.runRemote(p, rest);',
].join('\n');

let parts: Omit<RuntimePayload, 'boot'> | null = null;

export function runtimeParts(): Omit<RuntimePayload, 'boot'> {
  parts ??= {
    runtime: readFileSync(new URL('./runtime.cjs', import.meta.url), 'utf8'),
    hook: readFileSync(new URL('../loader/hook.js', import.meta.url), 'utf8'),
    stage2: STAGE2,
  };
  return parts;
}
