// Large messages across worker threads: the size sweep. A ByteSource on one
// pool thread sends payloads of 10 KiB, 1 MiB and 16 MiB (strings, as users
// send documents) to a ByteSink on the other, each beside raw MessagePort
// carrying the same strings in the same run (peers/messageport-bytes.js).
// Also: 1 MiB to a dedicated thread (through the main thread, which forwards
// for dedicated threads) and 1 MiB of bytes (Uint8Array).

import { actorClass, createActor, withSystem } from '../helpers/thespis.js';
import { assertApart, bytesFlow } from '../helpers/bytes-flow.js';
import { SIZES } from '../lib/sweep.js';
import { afterWarmUp } from '../lib/measure.js';

const POOL = { base: 'workers', workers: 2 };
const figure = (label) => `thread.bytes_${label}.mib_per_s`;
const DEDICATED = 'thread.dedicated_bytes_1m.mib_per_s';
const BINARY = 'thread.u8_bytes_1m.mib_per_s';
const ONE_MIB = SIZES.find((s) => s.label === '1m');

export default {
  figures: [...SIZES.map((s) => figure(s.label)), DEDICATED, BINARY],
  compare: [
    ...SIZES.map((s) => ({
      figure: figure(s.label),
      against: `peer.messageport.bytes_${s.label}.mib_per_s`,
      ratio: `thread.bytes_${s.label}.vs_messageport`,
    })),
    { figure: DEDICATED, against: 'peer.messageport.bytes_1m.mib_per_s' },
    { figure: BINARY, against: 'peer.messageport.bytes_1m.mib_per_s' },
  ],
  timeoutMs: { full: 240_000, quick: 40_000 },
  async run(ctx) {
    const ByteSource = await actorClass(ctx, 'byte-source', 'ByteSource');
    const ByteSink = await actorClass(ctx, 'byte-sink', 'ByteSink');
    const count = (s) => ctx.pick(s.count, Math.max(4, s.count >> 3));

    await ctx.part([...SIZES.map((s) => figure(s.label)), BINARY], async () => {
      await withSystem(ctx, POOL, async (system) => {
        const source = await createActor(ctx, system, ByteSource);
        const sink = await createActor(ctx, system, ByteSink);
        assertApart(source, sink);
        for (const s of SIZES) {
          const flow = { size: s.size, kind: 'string', n: count(s) };
          ctx.report(figure(s.label), await afterWarmUp(ctx, () => bytesFlow(system, source, sink, flow, 120_000)), 'MiB/s');
        }
        const flow = { size: ONE_MIB.size, kind: 'bytes', n: count(ONE_MIB) };
        ctx.report(BINARY, await afterWarmUp(ctx, () => bytesFlow(system, source, sink, flow, 120_000)), 'MiB/s');
      });
    });

    await ctx.part([DEDICATED], async () => {
      await withSystem(ctx, POOL, async (system) => {
        const source = await createActor(ctx, system, ByteSource);
        const sink = await createActor(ctx, system, ByteSink, { dedicated: true });
        const flow = { size: ONE_MIB.size, kind: 'string', n: count(ONE_MIB) };
        ctx.report(DEDICATED, await afterWarmUp(ctx, () => bytesFlow(system, source, sink, flow, 120_000)), 'MiB/s');
      });
    });
  },
};
