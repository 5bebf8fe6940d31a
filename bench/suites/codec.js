// thespis's codec (cbor-x with limits and thespis's own tags) round-tripping
// the common 5-field message. The module is internal, so it is reached by
// path in dist/, not through the package's exports.

import { MESSAGE, micro } from '../lib/measure.js';

const NAME = 'codec.roundtrip_per_s';
const CODEC = new URL('../../dist/transport/codec/codec.js', import.meta.url).href;

export default {
  figures: [NAME],
  compare: [
    { figure: NAME, against: 'peer.cborx.roundtrip_per_s' },
    { figure: NAME, against: 'peer.cborx_structures.roundtrip_per_s' },
    { figure: NAME, against: 'peer.structured_clone.roundtrip_per_s' },
  ],
  async run(ctx) {
    const { Codec } = await ctx.need('dist/transport/codec/codec.js', () => import(CODEC));
    const codec = await ctx.need('new Codec()', () => new Codec());
    if (codec.decode(codec.encode(MESSAGE)).seq !== MESSAGE.seq) throw new Error('codec lost the message');
    let sink = 0;
    const hz = micro(ctx, {
      codec: () => {
        sink += codec.decode(codec.encode(MESSAGE)).seq;
      },
    });
    if (sink === 0) throw new Error('no round trips');
    ctx.report(NAME, hz.codec, 'ops/s');
  },
};
