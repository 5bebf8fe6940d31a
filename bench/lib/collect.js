// Turns every child's report into the run's result: entries (figures, peers,
// ratios), plus what was absent and what failed. Pure, for the test.

import { aggregate, ratios } from './stats.js';

const PRECISION = 4;
const round = (v) => (Number.isFinite(v) ? Number(v.toPrecision(PRECISION)) : v);

export function roundEntry(e) {
  return { name: e.name, value: round(e.value), unit: e.unit, runs: e.runs, min: round(e.min), max: round(e.max) };
}

/**
 * metas: loaded suite declarations; runs: [{ meta, result: { samples, absent, errors } }].
 * Returns { entries, comparisons, order, absent, errors } as the renderers expect.
 */
export function collect(metas, runs) {
  const samples = runs.flatMap((r) => r.result.samples);
  const measured = aggregate(samples);
  const comparisons = metas.flatMap((m) => m.compare);
  const entries = [...measured, ...ratios(measured, comparisons)].map(roundEntry);
  const have = new Set(entries.map((e) => e.name));

  const errors = [];
  for (const m of metas) if (m.error) errors.push({ name: m.rel, reason: `does not load: ${m.error.message}` });
  const runsOf = new Map();
  for (const r of runs) runsOf.set(r.meta.file, (runsOf.get(r.meta.file) ?? 0) + 1);
  const failures = new Map();
  for (const r of runs) {
    for (const e of r.result.errors) {
      const key = `${e.name}\0${e.reason}`;
      const f = failures.get(key) ?? { ...e, count: 0, of: runsOf.get(r.meta.file) };
      f.count++;
      failures.set(key, f);
    }
  }
  for (const f of failures.values()) {
    const runsNote = f.of > 1 ? ` (${f.count} of ${f.of} runs)` : '';
    errors.push({ name: f.name, reason: f.reason + runsNote });
  }
  const failed = new Set(errors.map((e) => e.name));

  const absent = [];
  const seen = new Set();
  const addAbsent = (name, reason) => {
    if (have.has(name) || failed.has(name) || seen.has(name)) return;
    seen.add(name);
    absent.push({ name, reason });
  };
  for (const r of runs) for (const a of r.result.absent) addAbsent(a.name, a.reason);
  for (const m of metas) for (const name of m.figures) addAbsent(name, 'not reported');
  // A ratio is only worth a line when its figure exists but its peer does not.
  for (const c of comparisons) {
    if (c.ratio && have.has(c.figure) && !have.has(c.against)) addAbsent(c.ratio, `needs ${c.against}`);
  }

  const order = [...metas.flatMap((m) => m.figures), ...comparisons.map((c) => c.ratio).filter(Boolean)];
  return { entries: sortEntries(entries, order), comparisons, order, absent, errors };
}

/** Declared order first (figures, then ratios), anything undeclared last by name. */
export function sortEntries(entries, order) {
  const rank = new Map(order.map((n, i) => [n, i]));
  return [...entries].sort(
    (a, b) => (rank.get(a.name) ?? Infinity) - (rank.get(b.name) ?? Infinity) || a.name.localeCompare(b.name),
  );
}
