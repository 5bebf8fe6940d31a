// Hand-written SVG chart of a run. Each thespis figure is a group of horizontal
// bars (itself, then the peers and limits it is compared with) scaled to the
// group's largest value, so figures of very different sizes stay readable side
// by side; ratios get their own log-scale panel centred on 1×.

import { formatNumber, formatValue, isPeer, lowerIsBetter, orderedNames } from './format.js';

const W = 1160;
const LABEL_W = 360;
const BAR_W = 420;
const ROW = 18;
const COLORS = { thespis: '#2b6cb0', peer: '#a0aec0', limit: '#dd6b20', good: '#38a169', bad: '#e53e3e' };

export function escapeXml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]);
}

function kindOf(name) {
  return name.startsWith('limit.') ? 'limit' : name.startsWith('peer.') ? 'peer' : 'thespis';
}

/**
 * Groups to draw: one per thespis figure (with what it is compared with), then
 * the peers no figure claims, one group per family (peer.messageport, ...).
 * A family can mix units; bars are scaled per unit within the group.
 */
export function chartGroups(entries, comparisons, order = []) {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const groups = [];
  const shown = new Set();
  for (const name of orderedNames(entries.filter((e) => !isPeer(e.name) && e.unit !== 'x'), order)) {
    const fig = byName.get(name);
    const members = [fig];
    for (const c of comparisons) {
      const p = c.figure === name && byName.get(c.against);
      if (p && p.unit === fig.unit) members.push(p);
    }
    members.forEach((m) => shown.add(m.name));
    groups.push({ title: name, unit: fig.unit, members });
  }
  const families = new Map();
  for (const name of orderedNames(entries.filter((e) => isPeer(e.name) && !shown.has(e.name)), order)) {
    const e = byName.get(name);
    const key = name.split('.').slice(0, 2).join('.');
    if (!families.has(key)) families.set(key, { title: key, unit: e.unit, members: [] });
    families.get(key).members.push(e);
  }
  return [...groups, ...families.values()];
}

function barRow(y, entry, scale) {
  const w = Math.max(1, (entry.value / scale) * BAR_W);
  const color = COLORS[kindOf(entry.name)];
  const out = [
    `<text x="${LABEL_W - 8}" y="${y + 13}" text-anchor="end">${escapeXml(entry.name)}</text>`,
    `<rect x="${LABEL_W}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${color}"/>`,
  ];
  if (entry.runs > 1) {
    const x1 = LABEL_W + (entry.min / scale) * BAR_W;
    const x2 = LABEL_W + (entry.max / scale) * BAR_W;
    out.push(`<line x1="${x1.toFixed(1)}" x2="${x2.toFixed(1)}" y1="${y + 9}" y2="${y + 9}" stroke="#1a202c" stroke-width="1.5"/>`);
  }
  const range = entry.runs > 1 ? `  (${formatNumber(entry.min)}–${formatNumber(entry.max)}, ${entry.runs} runs)` : '';
  out.push(`<text x="${LABEL_W + BAR_W + 8}" y="${y + 13}">${escapeXml(formatValue(entry.value, entry.unit) + range)}</text>`);
  return out.join('');
}

// Ratios live on a log axis from 1/100× to 100×, so "ten times slower" and
// "ten times faster" are the same length either side of parity.
// betterAbove: true / false, or null when both sides are thespis (no verdict).
function ratioRow(y, entry, betterAbove) {
  const clamp = (v) => Math.min(2, Math.max(-2, Math.log10(v)));
  const mid = LABEL_W + BAR_W / 2;
  const px = (v) => mid + (clamp(v) / 2) * (BAR_W / 2);
  const x = px(entry.value);
  const good = betterAbove === null ? null : betterAbove ? entry.value >= 1 : entry.value <= 1;
  const color = good === null ? COLORS.thespis : good ? COLORS.good : COLORS.bad;
  return [
    `<text x="${LABEL_W - 8}" y="${y + 13}" text-anchor="end">${escapeXml(entry.name)}</text>`,
    `<rect x="${Math.min(x, mid).toFixed(1)}" y="${y + 3}" width="${Math.max(1, Math.abs(x - mid)).toFixed(1)}" height="${ROW - 6}" fill="${color}"/>`,
    `<text x="${LABEL_W + BAR_W + 8}" y="${y + 13}">${escapeXml(formatValue(entry.value, 'x'))}${good === false ? escapeXml('  (thespis behind)') : ''}</text>`,
  ].join('');
}

/** `result` as for renderTable, plus `title` (string). */
export function renderSvg(result) {
  const { entries, comparisons, order = [], absent = [], errors = [], title = 'thespis benchmarks' } = result;
  const byName = new Map(entries.map((e) => [e.name, e]));
  const body = [];
  let y = 56;

  for (const g of chartGroups(entries, comparisons, order)) {
    const units = new Set(g.members.map((m) => m.unit));
    const note = units.size > 1 ? 'bars scaled per unit' : lowerIsBetter(g.unit) ? 'lower is better' : 'higher is better';
    body.push(`<text x="12" y="${y + 14}" font-weight="bold">${escapeXml(g.title)}<tspan dx="10" fill="#718096" font-weight="normal">${note}</tspan></text>`);
    y += 20;
    const scaleOf = (unit) => Math.max(...g.members.filter((m) => m.unit === unit).map((m) => Math.max(m.value, m.max)));
    for (const m of g.members) {
      body.push(barRow(y, m, scaleOf(m.unit)));
      y += ROW;
    }
    y += 8;
  }

  const ratioEntries = orderedNames(entries.filter((e) => e.unit === 'x'), order).map((n) => byName.get(n));
  if (ratioEntries.length) {
    y += 6;
    const mid = LABEL_W + BAR_W / 2;
    body.push(`<text x="12" y="${y + 14}" font-weight="bold">ratios (thespis / peer, log scale 0.01× … 100×)</text>`);
    y += 20;
    const top = y;
    for (const e of ratioEntries) {
      const c = comparisons.find((x) => x.ratio === e.name);
      const fig = c && byName.get(c.figure);
      const verdict = c && !isPeer(c.against) ? null : !(fig && lowerIsBetter(fig.unit));
      body.push(ratioRow(y, e, verdict));
      y += ROW;
    }
    body.push(`<line x1="${mid}" x2="${mid}" y1="${top}" y2="${y}" stroke="#1a202c"/>`);
    for (const [v, label] of [[0.01, '0.01×'], [0.1, '0.1×'], [1, '1×'], [10, '10×'], [100, '100×']]) {
      const x = mid + (Math.log10(v) / 2) * (BAR_W / 2);
      body.push(`<text x="${x.toFixed(1)}" y="${y + 12}" text-anchor="middle" fill="#718096" font-size="10">${label}</text>`);
    }
    y += 20;
  }

  for (const [label, list, color] of [['absent', absent, '#a0aec0'], ['failed', errors, COLORS.bad]]) {
    if (!list.length) continue;
    y += 6;
    body.push(`<text x="12" y="${y + 14}" font-weight="bold" fill="${color}">${label}</text>`);
    y += 20;
    for (const a of list) {
      body.push(`<text x="24" y="${y + 13}" fill="${color}">${escapeXml(`${a.name}: ${a.reason}`.slice(0, 170))}</text>`);
      y += ROW;
    }
  }

  const legend = [['thespis', COLORS.thespis], ['peer', COLORS.peer], ['physical limit', COLORS.limit]]
    .map(([t, c], i) => `<rect x="${12 + i * 140}" y="30" width="12" height="12" fill="${c}"/><text x="${30 + i * 140}" y="40">${t}</text>`)
    .join('');
  const height = y + 16;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    legend,
    `<text x="${LABEL_W + 200}" y="40" fill="#718096">bars: median; line: min–max over fresh processes</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
