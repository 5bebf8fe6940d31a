// What a suite's run(ctx) sees inside its fresh child process: where to report
// samples, and how to say "this figure cannot be measured yet" (absent) as
// opposed to "this figure broke" (error). Absent is the normal state of a
// figure whose thespis feature has not landed, so it must never fail the run.

export class Absent extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'Absent';
  }
}

// Reasons end up in the committed chart: keep them short and free of this
// machine's absolute paths.
export function describeError(e) {
  const text = e instanceof Error ? `${e.code ? `${e.code} ` : ''}${e.message}` : String(e);
  return text.split('\n')[0].replaceAll(`${process.cwd()}/`, '').slice(0, 300);
}

export function createContext({ quick = false } = {}) {
  const samples = [];
  const absent = [];
  const errors = [];
  const settled = new Set();

  const ctx = {
    quick,
    /** A size for a full run and a smaller one for --quick. */
    pick: (full, small) => (quick ? small : full),
    report(name, value, unit) {
      if (!Number.isFinite(value)) throw new Error(`${name}: not a finite number (${value})`);
      samples.push({ name, value, unit });
      settled.add(name);
    },
    /**
     * Run a step that needs a thespis feature (an import, a system base, a host);
     * any failure means the feature is not there yet, so it becomes Absent.
     */
    async need(what, fn) {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof Absent) throw e;
        throw new Absent(`${what}: ${describeError(e)}`);
      }
    },
    absent(reason) {
      throw new Absent(reason);
    },
    /**
     * One independent part of a suite: its failure (absent or broken) is charged
     * to its own figure names only, and the suite's other parts still run.
     */
    async part(names, fn) {
      try {
        await fn();
      } catch (e) {
        ctx.settle(names, e);
      }
    },
    /** Charge a failure to every name in `names` that has not reported yet. */
    settle(names, e) {
      const list = e instanceof Absent ? absent : errors;
      for (const name of names) {
        if (settled.has(name)) continue;
        settled.add(name);
        list.push({ name, reason: describeError(e) });
      }
    },
    result: () => ({ samples, absent, errors }),
  };
  return ctx;
}

/** Wraps a promise so a hang becomes an error naming what hung. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
