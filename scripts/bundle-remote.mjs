// Build step: bundles the runtime a remote host runs (dist/remote/remote-entry.js
// and what it imports, cbor-x included) into one CommonJS script,
// dist/remote/runtime.cjs, which a host evaluates from memory (remote/runtime-pack.ts).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const dist = fileURLToPath(new URL('../dist/remote/', import.meta.url));
const bundle = await rolldown({
  input: `${dist}remote-entry.js`,
  platform: 'node',
  external: [/^node:/, 'cbor-extract', 'node-gyp-build'],
  logLevel: 'silent',
});
const { output } = await bundle.generate({ format: 'cjs', codeSplitting: false });
writeFileSync(`${dist}runtime.cjs`, output[0].code);
await bundle.close();
