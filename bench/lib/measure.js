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

/** Yield to the event loop (lets I/O and message ports run). */
export const tick = () => new Promise((resolve) => setImmediate(resolve));
