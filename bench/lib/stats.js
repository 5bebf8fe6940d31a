// Pure aggregation: samples from many fresh processes -> one entry per figure,
// plus the ratio entries the suites declare. No I/O here so the test can cover it.

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile of an unsorted array, p in [0, 100]. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function summarize(name, unit, values) {
  return {
    name,
    value: median(values),
    unit,
    runs: values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/**
 * Group samples ({ name, value, unit }) by name. A figure's unit comes from its
 * first sample; a later sample with another unit is a suite bug worth hearing about.
 */
export function aggregate(samples) {
  const groups = new Map();
  for (const s of samples) {
    if (!Number.isFinite(s.value)) continue;
    let g = groups.get(s.name);
    if (!g) groups.set(s.name, (g = { unit: s.unit, values: [] }));
    if (g.unit !== s.unit) throw new Error(`${s.name}: unit ${s.unit} differs from ${g.unit}`);
    g.values.push(s.value);
  }
  return [...groups].map(([name, g]) => summarize(name, g.unit, g.values));
}

/**
 * A ratio of two medians. The figures come from different processes, so there is
 * no pairing of runs; min-max is the widest the two ranges allow, which keeps
 * the reader from trusting a ratio more than its inputs.
 */
export function ratioEntry(name, top, bottom) {
  return {
    name,
    value: top.value / bottom.value,
    unit: 'x',
    runs: Math.min(top.runs, bottom.runs),
    min: top.min / bottom.max,
    max: top.max / bottom.min,
  };
}

/** Entries for every declared comparison that names a ratio and has both sides. */
export function ratios(entries, comparisons) {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const out = [];
  for (const c of comparisons) {
    if (!c.ratio) continue;
    const top = byName.get(c.figure);
    const bottom = byName.get(c.against);
    if (top && bottom && bottom.value !== 0) out.push(ratioEntry(c.ratio, top, bottom));
  }
  return out;
}
