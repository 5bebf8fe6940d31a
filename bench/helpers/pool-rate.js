// Tasks per second through a worker pool: all tasks submitted at once, as a
// caller with plenty of work would, after a warm-up that starts the threads.

import { availableParallelism } from 'node:os';
import { now, rate } from '../lib/measure.js';

/**
 * Threads in every pool of the troupe comparison: thespis's pool (the workers
 * base's default, one per CPU, and the troupe's `max`), and piscina's and
 * tinypool's, pinned to the same count (their defaults differ: piscina grows
 * to 1.5x the CPUs, tinypool keeps one CPU free).
 */
export const POOL_THREADS = availableParallelism();

export const NOOP_TASK = new URL('./noop-task.js', import.meta.url).href;

export async function poolRate(pool, n) {
  const all = (k) => Promise.all(Array.from({ length: k }, () => pool.run(null)));
  await all(Math.max(1000, n / 10));
  const t0 = now();
  await all(n);
  return rate(n, now() - t0);
}
