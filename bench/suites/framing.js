// Length-prefixed framing, native addon against its pure-JS twin
// (dist/transport/framing.js), on the same workload: 1024 frames of 60 bytes
// encoded into one buffer, then pushed back through a Framer in 4000-byte
// chunks, so frames straddle chunk edges as they do on a real socket.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { micro } from '../lib/measure.js';

const NATIVE = 'native.framing.native_msgs_per_s';
const JS = 'native.framing.js_msgs_per_s';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const JS_TWIN = new URL('../../dist/transport/framing.js', import.meta.url).href;
const FRAMES = 1024;
const CHUNK = 4000;
const MAX_FRAME = 1 << 20;

function framingOf(mod, where) {
  const { Framer, encodeFrames } = mod;
  if (typeof Framer !== 'function' || typeof encodeFrames !== 'function') {
    throw new Error(`${where} has no Framer / encodeFrames (exports: ${Object.keys(mod).join(', ') || 'none'})`);
  }
  return { Framer, encodeFrames };
}

/** One round: encode a batch, decode it across chunk edges; returns frames seen. */
function roundOf({ Framer, encodeFrames }, payloads) {
  return () => {
    const wire = encodeFrames(payloads);
    const framer = new Framer(MAX_FRAME);
    let seen = 0;
    for (let off = 0; off < wire.length; off += CHUNK) seen += framer.push(wire.subarray(off, off + CHUNK)).length;
    if (seen !== payloads.length) throw new Error(`framer returned ${seen} of ${payloads.length} frames`);
    return seen;
  };
}

export default {
  figures: [NATIVE, JS],
  compare: [{ figure: NATIVE, against: JS, ratio: 'native.framing.vs_js' }],
  async run(ctx) {
    const payloads = Array.from({ length: FRAMES }, (_, i) => new Uint8Array(60).fill(i & 0xff));
    const measure = (name, impl) => {
      const round = roundOf(impl, payloads);
      round(); // a wrong answer should fail before it is timed
      ctx.report(name, micro(ctx, { round }).round * FRAMES, 'msgs/s');
    };
    await ctx.part([NATIVE], async () => {
      const addon = await ctx.need('native addon (npm run build of the addon?)', () =>
        framingOf(createRequire(import.meta.url)('node-gyp-build')(ROOT), 'the addon'),
      );
      measure(NATIVE, addon);
    });
    await ctx.part([JS], async () => {
      // The TypeScript framer and batch encoder, under the names the addon uses.
      const twin = await ctx.need('dist/transport/framing.js', async () => {
        const mod = await import(JS_TWIN);
        return framingOf({ Framer: mod.TsFramer, encodeFrames: mod.encodeFramesTs }, 'framing.js');
      });
      measure(JS, twin);
    });
  },
};
