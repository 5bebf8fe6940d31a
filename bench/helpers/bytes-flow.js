// The size-sweep flow for thespis suites: a ByteSource sends n payloads of a
// size to a ByteSink under a credit window (lib/payload.js), and the clock
// runs from the go to the sink's report, like helpers/thespis.js flow().

import { now } from '../lib/measure.js';
import { MIB, windowFor } from '../lib/payload.js';

/** MiB/s of one flow of n payloads of `size` bytes (`kind` 'string' or 'bytes'). */
export async function bytesFlow(system, source, sink, { size, kind, n }, timeoutMs) {
  const endpoint = system.private();
  const { window, ackEvery } = windowFor(size);
  await endpoint.ask(sink, { expect: n, size, ackEvery }, timeoutMs);
  const t0 = now();
  endpoint.tell(source, { go: n, size, kind, window, target: sink });
  const report = await endpoint.listen(timeoutMs);
  const ms = now() - t0;
  if (report.bad > 0 || report.counted !== n) throw new Error(`${report.bad} of ${n} payloads arrived with the wrong size`);
  return (n * size) / MIB / (ms / 1000);
}

/** Fails the figure when the two actors share a kernel: the figure is about crossing a boundary. */
export function assertApart(source, sink) {
  if (source.kernel === sink.kernel) throw new Error(`source and sink were both placed on ${source.kernel}`);
}
