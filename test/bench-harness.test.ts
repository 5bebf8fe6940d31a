// The benchmark harness's pure parts (statistics, table, JSON entries, SVG),
// plus one real --quick run of a peer-only suite through the driver.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
// @ts-ignore: plain JS bench modules carry no types
import { aggregate, median, percentile, ratioEntry, ratios } from '../bench/lib/stats.js';
// @ts-ignore: plain JS bench modules carry no types
import { formatNumber, formatValue, renderTable } from '../bench/lib/format.js';
// @ts-ignore: plain JS bench modules carry no types
import { escapeXml, renderSvg } from '../bench/lib/svg.js';
// @ts-ignore: plain JS bench modules carry no types
import { collect } from '../bench/lib/collect.js';
// @ts-ignore: plain JS bench modules carry no types
import { Absent, createContext } from '../bench/lib/context.js';

const run = promisify(execFile);

type Sample = { name: string; value: number; unit: string };
const s = (name: string, value: number, unit = 'msgs/s'): Sample => ({ name, value, unit });

const comparisons = [
  { figure: 'thread.oneway.msgs_per_s', against: 'peer.messageport.oneway_batched64.msgs_per_s', ratio: 'thread.oneway.vs_messageport_batched' },
  { figure: 'thread.oneway.msgs_per_s', against: 'limit.sab_ring.oneway_batched64.msgs_per_s' },
  { figure: 'troupe.noop.tasks_per_s', against: 'peer.piscina.noop.tasks_per_s', ratio: 'troupe.noop.vs_piscina' },
];
const metas = [
  { file: '/b/suites/thread.js', rel: 'suites/thread.js', figures: ['thread.oneway.msgs_per_s', 'thread.pingpong.p50_us'], compare: comparisons.slice(0, 2) },
  { file: '/b/suites/troupe.js', rel: 'suites/troupe.js', figures: ['troupe.noop.tasks_per_s'], compare: comparisons.slice(2) },
  { file: '/b/peers/mp.js', rel: 'peers/mp.js', figures: ['peer.messageport.oneway_batched64.msgs_per_s', 'limit.sab_ring.oneway_batched64.msgs_per_s'], compare: [] },
];
const runs = [
  { meta: metas[0], result: { samples: [s('thread.oneway.msgs_per_s', 1e6)], absent: [], errors: [{ name: 'thread.pingpong.p50_us', reason: 'boom' }] } },
  { meta: metas[0], result: { samples: [s('thread.oneway.msgs_per_s', 3e6)], absent: [], errors: [] } },
  { meta: metas[0], result: { samples: [s('thread.oneway.msgs_per_s', 2e6)], absent: [], errors: [] } },
  { meta: metas[1], result: { samples: [], absent: [{ name: 'troupe.noop.tasks_per_s', reason: "base 'workers' is not available yet" }], errors: [] } },
  ...[4e6, 5e6].map((v) => ({
    meta: metas[2],
    result: { samples: [s('peer.messageport.oneway_batched64.msgs_per_s', v), s('limit.sab_ring.oneway_batched64.msgs_per_s', v * 10)], absent: [], errors: [] },
  })),
];

describe('bench statistics', () => {
  it('takes the median of odd and even counts without reordering the input', () => {
    const input = [5, 1, 3];
    expect(median(input)).toBe(3);
    expect(input).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 50)).toBe(7);
  });

  it('aggregates samples into median, min, max and runs per name', () => {
    const entries = aggregate([s('a', 3), s('b', 1, 'us'), s('a', 1), s('a', 2)]);
    expect(entries).toEqual([
      { name: 'a', value: 2, unit: 'msgs/s', runs: 3, min: 1, max: 3 },
      { name: 'b', value: 1, unit: 'us', runs: 1, min: 1, max: 1 },
    ]);
    expect(() => aggregate([s('a', 1), s('a', 2, 'us')])).toThrow(/unit/);
  });

  it('bounds a ratio by the widest the two ranges allow', () => {
    const top = { name: 't', value: 10, unit: 'msgs/s', runs: 5, min: 8, max: 12 };
    const bottom = { name: 'b', value: 5, unit: 'msgs/s', runs: 3, min: 4, max: 6 };
    expect(ratioEntry('r', top, bottom)).toEqual({ name: 'r', value: 2, unit: 'x', runs: 3, min: 8 / 6, max: 3 });
    expect(ratios([top], [{ figure: 't', against: 'b', ratio: 'r' }])).toEqual([]);
  });
});

describe('bench results', () => {
  const outcome = collect(metas, runs);

  it('writes entries of { name, value, unit, runs, min, max } with ratios as entries', () => {
    for (const e of outcome.entries) expect(Object.keys(e)).toEqual(['name', 'value', 'unit', 'runs', 'min', 'max']);
    const byName = Object.fromEntries(outcome.entries.map((e: { name: string }) => [e.name, e]));
    expect(byName['thread.oneway.msgs_per_s']).toEqual({ name: 'thread.oneway.msgs_per_s', value: 2e6, unit: 'msgs/s', runs: 3, min: 1e6, max: 3e6 });
    expect(byName['thread.oneway.vs_messageport_batched']).toMatchObject({ value: 0.4444, unit: 'x', runs: 2, min: 0.2, max: 0.75 });
    expect(byName['troupe.noop.tasks_per_s']).toBeUndefined();
    expect(byName['troupe.noop.vs_piscina']).toBeUndefined();
  });

  it('lists a missing feature as absent and a broken figure as failed', () => {
    expect(outcome.absent).toEqual([{ name: 'troupe.noop.tasks_per_s', reason: "base 'workers' is not available yet" }]);
    expect(outcome.errors).toEqual([{ name: 'thread.pingpong.p50_us', reason: 'boom (1 of 3 runs)' }]);
  });

  it('prints one table with figure, median, peers and ratio', () => {
    const table = renderTable(outcome);
    const row = table.split('\n').find((l: string) => l.startsWith('thread.oneway.msgs_per_s'));
    expect(row).toMatch(/2\.00 M msgs\/s\s+1\.00 M–3\.00 M\s+3\s+peer\.messageport\.oneway_batched64\.msgs_per_s\s+4\.50 M msgs\/s\s+0\.444×/);
    expect(table).toMatch(/limit\.sab_ring\.oneway_batched64\.msgs_per_s\s+45\.0 M msgs\/s\s+0\.044×/);
    expect(table).toContain('absent (not landed or not available here):');
    expect(table).toContain('FAILED:');
  });

  it('draws an SVG with every entry, escaped text and the ratio panel', () => {
    const svg = renderSvg({ ...outcome, title: 'a < b & c' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('a &lt; b &amp; c');
    for (const e of outcome.entries) expect(svg).toContain(e.name);
    expect(svg).toContain('ratios (thespis / peer');
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect(escapeXml(`<'&">`)).toBe('&lt;&apos;&amp;&quot;&gt;');
  });

  it('formats numbers with three significant digits and SI suffixes', () => {
    expect(formatNumber(12_345_678)).toBe('12.3 M');
    expect(formatNumber(456_000)).toBe('456 k');
    expect(formatNumber(71.23)).toBe('71.2');
    expect(formatNumber(0.33)).toBe('0.330');
    expect(formatValue(4.2, 'us')).toBe('4.20 µs');
    expect(formatValue(0.5, 'x')).toBe('0.500×');
  });
});

describe('bench suite context', () => {
  it('charges a failed part to its own names: absent when a feature is missing, failed otherwise', async () => {
    const ctx = createContext({ quick: true });
    expect(ctx.pick(100, 1)).toBe(1);
    await ctx.part(['a'], async () => {
      await ctx.need('thespis', async () => {
        throw new Error('ERR_MODULE_NOT_FOUND');
      });
    });
    await ctx.part(['b'], async () => {
      throw new Error('broke');
    });
    await ctx.part(['c'], async () => ctx.report('c', 5, 'ms'));
    expect(ctx.result()).toEqual({
      samples: [{ name: 'c', value: 5, unit: 'ms' }],
      absent: [{ name: 'a', reason: 'thespis: ERR_MODULE_NOT_FOUND' }],
      errors: [{ name: 'b', reason: 'broke' }],
    });
    expect(() => ctx.absent('later')).toThrow(Absent);
  });
});

describe('npm run bench -- --quick', () => {
  it('runs a peer suite in fresh processes and writes latest.json and latest.svg', async () => {
    const out = mkdtempSync(join(os.tmpdir(), 'thespis-bench-'));
    try {
      const { stdout, stderr } = await run(process.execPath, ['bench/run.js', '--quick', '--filter', 'peers/codec', '--out', out]);
      expect(stderr).toMatch(/peers\/codec\.js run 2\/2/);
      expect(stdout).toContain('peer.cborx.roundtrip_per_s');
      const entries = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
      const names = entries.map((e: { name: string }) => e.name).sort();
      expect(names).toEqual(['peer.cborx.roundtrip_per_s', 'peer.cborx_structures.roundtrip_per_s', 'peer.structured_clone.roundtrip_per_s']);
      for (const e of entries) {
        expect(e.runs).toBe(2);
        expect(e.value).toBeGreaterThan(0);
        expect(e.min).toBeLessThanOrEqual(e.value);
        expect(e.max).toBeGreaterThanOrEqual(e.value);
      }
      expect(readFileSync(join(out, 'latest.svg'), 'utf8')).toContain('peer.cborx.roundtrip_per_s');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
