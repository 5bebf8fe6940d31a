// Peers for codec.roundtrip_per_s: the same 5-field message through
// structuredClone (what MessagePort does) and cbor-x, default and with shared
// record structures. Micro-benchmarks, so benchmark.js.

import { MESSAGE, micro } from '../lib/measure.js';

export default {
  figures: [
    'peer.structured_clone.roundtrip_per_s',
    'peer.cborx.roundtrip_per_s',
    'peer.cborx_structures.roundtrip_per_s',
  ],
  async run(ctx) {
    const { encode, decode, Encoder } = await import('cbor-x');
    const shared = new Encoder({ structures: [] });
    let sink = 0;
    const hz = micro(ctx, {
      structuredClone: () => {
        sink += structuredClone(MESSAGE).seq;
      },
      cborx: () => {
        sink += decode(encode(MESSAGE)).seq;
      },
      cborxStructures: () => {
        sink += shared.decode(shared.encode(MESSAGE)).seq;
      },
    });
    if (sink === 0) throw new Error('round trips lost the message');
    ctx.report('peer.structured_clone.roundtrip_per_s', hz.structuredClone, 'ops/s');
    ctx.report('peer.cborx.roundtrip_per_s', hz.cborx, 'ops/s');
    ctx.report('peer.cborx_structures.roundtrip_per_s', hz.cborxStructures, 'ops/s');
  },
};
