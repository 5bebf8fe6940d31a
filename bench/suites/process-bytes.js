// Large messages across child processes: the size sweep for processes. A
// ByteSource and a ByteSink each in a process of its own (host 'process')
// move 1 MiB and 16 MiB strings, beside raw framed writes of the same sizes
// over a Unix socket in the same run (peers/unix-socket-bytes.js).

import { actorClass, createActor, withSystem } from '../helpers/thespis.js';
import { assertApart, bytesFlow } from '../helpers/bytes-flow.js';
import { PROCESS_SIZES } from '../lib/sweep.js';
import { afterWarmUp } from '../lib/measure.js';

const PROCESS = { host: 'process' };
const figure = (label) => `process.bytes_${label}.mib_per_s`;

export default {
  figures: PROCESS_SIZES.map((s) => figure(s.label)),
  compare: PROCESS_SIZES.map((s) => ({
    figure: figure(s.label),
    against: `limit.unix_socket.bytes_${s.label}.mib_per_s`,
    ratio: `process.bytes_${s.label}.vs_unix_socket`,
  })),
  timeoutMs: { full: 240_000, quick: 40_000 },
  async run(ctx) {
    const ByteSource = await actorClass(ctx, 'byte-source', 'ByteSource');
    const ByteSink = await actorClass(ctx, 'byte-sink', 'ByteSink');
    await withSystem(ctx, { base: 'workers' }, async (system) => {
      const source = await createActor(ctx, system, ByteSource, PROCESS);
      const sink = await createActor(ctx, system, ByteSink, PROCESS);
      assertApart(source, sink);
      for (const s of PROCESS_SIZES) {
        const flow = { size: s.size, kind: 'string', n: ctx.pick(s.count, Math.max(4, s.count >> 3)) };
        ctx.report(figure(s.label), await afterWarmUp(ctx, () => bytesFlow(system, source, sink, flow, 120_000)), 'MiB/s');
      }
    });
  },
};
