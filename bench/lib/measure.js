// Measuring helpers shared by suites: the common test message, a clock, and a
// thin wrapper over benchmark.js for micro-benchmarks.

import Benchmark from 'benchmark';

export { MESSAGE } from './message.js';

/** Milliseconds, sub-microsecond resolution. */
export const now = () => performance.now();

export const rate = (count, ms) => count / (ms / 1000);

/**
 * Run each case with benchmark.js (synchronously, one after another) and return
 * { name: ops per second }. A case that throws fails the whole call: a
 * micro-benchmark that cannot run its body is broken, not slow.
 */
export function micro(ctx, cases) {
  const options = ctx.quick ? { maxTime: 0.3, minSamples: 3 } : { maxTime: 2, minSamples: 10 };
  const out = {};
  for (const [name, fn] of Object.entries(cases)) {
    const bench = new Benchmark(name, fn, options);
    bench.run({ async: false });
    if (bench.error) throw bench.error;
    out[name] = bench.hz;
  }
  return out;
}

/**
 * Untimed runs before the timed one of a message flow (small messages or a
 * size sweep), for thespis and its peers alike (one with --quick). Why more than one: a flow's first and last
 * messages (the ask that starts it, the report that ends it) are of other
 * types than the stream, and on each of them V8 throws away code it had
 * optimised for the stream alone and builds it again with the new types. It
 * takes a few flows to stop: 500 k-message flows between two process actors,
 * back to back, ran at 1.4, 1.5, 2.6, 2.9, 2.7 M msgs/s (one flow of warm-up
 * timed the second). Node's own IPC, which decodes in C++, ran at 1.37, 1.41,
 * 1.30, 1.34: the same from its second run.
 */
export const WARMUP_RUNS = 3;

/** `run()` WARMUP_RUNS times untimed, then once more: its last result. */
export async function afterWarmUp(ctx, run) {
  const warmups = ctx.quick ? 1 : WARMUP_RUNS;
  for (let i = 0; i < warmups; i++) await run();
  return run();
}

/** Yield to the event loop (lets I/O and message ports run). */
export const tick = () => new Promise((resolve) => setImmediate(resolve));
