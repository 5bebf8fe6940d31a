/**
 * Waiting support for both ring sides: a typed `Atomics.waitAsync` and a way
 * to keep the thread's event loop alive while a side waits.
 *
 * `Atomics.waitAsync` exists in Node >= 16 (V8 8.7) but is ES2024, newer than
 * this project's `lib`, so it is typed here once.
 *
 * In Node 20 a pending `Atomics.waitAsync` promise does NOT keep the event loop
 * alive (checked on 20.20: a worker whose only pending work is a waitAsync on
 * an unchanged word exits at once, with or without a timeout; V8 resolves the
 * promise through a platform task that libuv does not count as a handle).
 * A reader waiting for records, or a writer waiting for space to drain its
 * overflow queue, must therefore hold a handle of its own, or the thread would
 * exit with records still to come or still queued. An interval with a period
 * of days is the cheapest ref'd handle there is: one timer in libuv's heap,
 * never due in practice, no syscalls.
 *
 * `unref()` lets a user opt out, like `MessagePort.unref()`: the side keeps
 * working while something else keeps the thread alive.
 */

export type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };

type WaitAsync = (array: Int32Array, index: number, value: number, timeoutMs?: number) => WaitAsyncResult;

export const waitAsync: WaitAsync = (() => {
  const fn = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
  if (typeof fn !== 'function') throw new Error('ring: Atomics.waitAsync is not available (Node >= 16 needed)');
  return fn.bind(Atomics);
})();

const FAR_FUTURE_MS = 2 ** 30; // about 12 days; the maximum is 2^31 - 1

function noop(): void {}

export class KeepAlive {
  private timer: ReturnType<typeof setInterval> | undefined;
  private refed = true;

  hold(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(noop, FAR_FUTURE_MS);
    if (!this.refed) this.timer.unref();
  }

  release(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  ref(): void {
    this.refed = true;
    this.timer?.ref();
  }

  unref(): void {
    this.refed = false;
    this.timer?.unref();
  }
}
