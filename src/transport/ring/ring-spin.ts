/**
 * The adaptive spin of a reader (a ring, or a socket: fd-link.ts): how long
 * to poll before going to sleep.
 *
 * Waking a sleeping thread costs tens of microseconds on idle CPUs (LIMITS.md:
 * ~67 µs ping-pong p50 with Atomics.wait against 0.33 µs spinning), so right
 * after a batch the reader polls the write index for up to `budgetUs` before
 * it sleeps. The budget must adapt, because a spin is only worth its CPU when
 * the next batch is about to come:
 *
 * - A spin that catches data restores the full budget: an exchange is active.
 * - A spin that finds nothing counts a failure and halves the budget, down to
 *   zero: sporadic traffic soon stops spinning, and a thread that goes idle
 *   spins at most once, briefly, after its last batch, then sleeps at ~0% CPU.
 * - A sleep that ends soon (under 2 * maxUs) restores the full budget while
 *   failures are few. A sleep's length includes the wake-up latency (~30-40 µs
 *   per hop on idle CPUs), so data that came just after we gave up shows as a
 *   sleep of up to maxUs + that latency. Without this rule two threads in a
 *   request/response exchange can lock into a phase where each spin expires
 *   just before the peer's reply, and neither ever spins again. The reset is
 *   to the full budget, not a doubling: a small budget cannot cover the peer's
 *   wake-up, fails, and would halve again before it could grow.
 * - After MAX_FAILURES failures in a row, short sleeps no longer restore the
 *   budget. That is the signature of CPU oversubscription (more runnable
 *   threads than cores): our spin then holds the core the peer needs, and the
 *   reply comes right after we stop spinning, each round trip costing two
 *   whole budgets (measured here: p50 = 2 * maxUs + ~13 µs). Spinning stops,
 *   and is tried again every PROBE_EVERY short sleeps, or after a long sleep
 *   (a new burst of traffic).
 */

const MAX_FAILURES = 3;
const PROBE_EVERY = 64;

export class AdaptiveSpin {
  /** Current budget, in microseconds; 0 means "do not spin". */
  budgetUs: number;
  private failures = 0;
  private probeIn = PROBE_EVERY;

  constructor(readonly maxUs: number) {
    this.budgetUs = maxUs;
  }

  /**
   * Poll `array[index]` until it differs from `value` or the budget is spent;
   * returns the last value loaded.
   */
  spinWhileEqual(array: Int32Array, index: number, value: number): number {
    const deadline = performance.now() + this.budgetUs / 1000;
    let seen: number;
    do {
      seen = Atomics.load(array, index);
      if (seen !== value) return this.caught(seen);
    } while (performance.now() < deadline);
    return this.missed(seen);
  }

  /** Call `poll` until it returns true (something came) or the budget is spent; returns what the last call said. */
  spinUntil(poll: () => boolean): boolean {
    const deadline = performance.now() + this.budgetUs / 1000;
    do {
      if (poll()) return this.caught(true);
    } while (performance.now() < deadline);
    return this.missed(false);
  }

  private caught<T>(result: T): T {
    this.budgetUs = this.maxUs;
    this.failures = 0;
    return result;
  }

  private missed<T>(result: T): T {
    this.failures++;
    this.budgetUs = this.budgetUs >= 2 ? this.budgetUs / 2 : 0;
    return result;
  }

  /** Tell the policy how long (µs) a sleep lasted, from sleeping to woken. */
  slept(durationUs: number): void {
    if (this.maxUs === 0) return;
    if (durationUs >= 2 * this.maxUs) {
      this.failures = 0; // a pause: the next burst gets a fresh start
      return;
    }
    if (this.failures < MAX_FAILURES || --this.probeIn <= 0) {
      if (this.failures >= MAX_FAILURES) {
        this.probeIn = PROBE_EVERY;
        this.failures = MAX_FAILURES - 1; // one more failure and we back off again
      }
      this.budgetUs = this.maxUs;
    }
  }
}
