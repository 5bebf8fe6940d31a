// Text rendering of a finished run: numbers with units, and the one table.
// Pure functions; run.js decides where the text goes.

const LOWER_IS_BETTER = new Set(['us', 'ms', '%', 'bytes']);

export function lowerIsBetter(unit) {
  return LOWER_IS_BETTER.has(unit);
}

export function isPeer(name) {
  return name.startsWith('peer.') || name.startsWith('limit.');
}

/** Three significant digits with an SI suffix: 12.3 M, 456 k, 71.2, 0.330. */
export function formatNumber(v) {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  const [scale, suffix] =
    abs >= 1e9 ? [1e9, ' G'] : abs >= 1e6 ? [1e6, ' M'] : abs >= 1e4 ? [1e3, ' k'] : [1, ''];
  const x = v / scale;
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : Math.abs(x) >= 1 ? 2 : 3;
  return x.toFixed(digits) + suffix;
}

const UNIT_LABEL = { us: 'µs', x: '×' };

export function formatValue(v, unit) {
  if (unit === 'x') return `${formatNumber(v)}×`;
  return `${formatNumber(v)} ${UNIT_LABEL[unit] ?? unit}`;
}

export function formatRange(entry) {
  if (entry.runs < 2) return '';
  return `${formatNumber(entry.min)}–${formatNumber(entry.max)}`;
}

/** Left-aligned columns unless a column says right; widths from the content. */
export function renderColumns(rows, align = []) {
  const widths = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (align[i] === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * The table: every thespis figure with the peers and limits it is compared with
 * (ratio = figure / peer, so above 1 is better for rates and worse for times),
 * then every peer and limit with its own spread, then what was absent or failed.
 *
 * `result` = { entries, comparisons, order, absent: [{name, reason}], errors: [{name, reason}] }
 */
export function renderTable(result) {
  const { entries, comparisons, order = [], absent = [], errors = [] } = result;
  const byName = new Map(entries.map((e) => [e.name, e]));
  const lines = [];

  const figures = orderedNames(entries.filter((e) => !isPeer(e.name) && e.unit !== 'x'), order);
  const head = ['figure', 'thespis', 'min–max', 'runs', 'compared with', 'its median', 'ratio'];
  const rows = [head];
  for (const name of figures) {
    const e = byName.get(name);
    const own = [name, formatValue(e.value, e.unit), formatRange(e), String(e.runs)];
    const against = comparisons.filter((c) => c.figure === name);
    if (against.length === 0) rows.push([...own, '', '', '']);
    against.forEach((c, i) => {
      const peer = byName.get(c.against);
      const ratio = c.ratio ? byName.get(c.ratio) : undefined;
      const r = ratio ? ratio.value : peer ? e.value / peer.value : NaN;
      rows.push([
        ...(i === 0 ? own : ['', '', '', '']),
        c.against,
        peer ? formatValue(peer.value, peer.unit) : 'absent',
        Number.isFinite(r) ? formatValue(r, 'x') : '',
      ]);
    });
  }
  lines.push(renderColumns(rows, [, 'right', 'right', 'right', , 'right', 'right']));

  const peers = orderedNames(entries.filter((e) => isPeer(e.name)), order);
  if (peers.length) {
    const prow = [['peer or limit', 'median', 'min–max', 'runs']];
    for (const name of peers) {
      const e = byName.get(name);
      prow.push([name, formatValue(e.value, e.unit), formatRange(e), String(e.runs)]);
    }
    lines.push('', renderColumns(prow, [, 'right', 'right', 'right']));
  }

  const ratioNames = entries.filter((e) => e.unit === 'x').map((e) => e.name);
  if (ratioNames.length) {
    const rrow = [['ratio', 'median', 'bounds', 'of']];
    for (const name of orderedNames(entries.filter((e) => e.unit === 'x'), order)) {
      const e = byName.get(name);
      const c = comparisons.find((x) => x.ratio === name);
      rrow.push([name, formatValue(e.value, 'x'), formatRange(e), c ? `${c.figure} / ${c.against}` : '']);
    }
    lines.push('', renderColumns(rrow, [, 'right', 'right']));
  }

  if (absent.length) {
    lines.push('', 'absent (not landed or not available here):');
    for (const a of absent) lines.push(`  ${a.name}: ${a.reason}`);
  }
  if (errors.length) {
    lines.push('', 'FAILED:');
    for (const a of errors) lines.push(`  ${a.name}: ${a.reason}`);
  }
  return lines.join('\n');
}

/** Declared order first, then anything else alphabetically. */
export function orderedNames(entries, order) {
  const rank = new Map(order.map((n, i) => [n, i]));
  return entries
    .map((e) => e.name)
    .sort((a, b) => (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity) || a.localeCompare(b));
}
