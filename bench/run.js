// `npm run bench [-- options]`: runs every suite in bench/suites (thespis) and
// bench/peers (peers and physical limits), each repeat in a fresh process,
// prints one table on stdout and writes results/latest.json and latest.svg.
// Progress goes to stderr.
//
// Options:
//   --quick          every suite briefly (smoke; finishes in under two minutes)
//   --filter <text>  only suite files whose path contains text (repeatable)
//   --repeats <n>    fresh processes per suite (default 5, quick 2)
//   --out <dir>      where latest.json / latest.svg go (default bench/results)
//   --verbose        pass the children's own output through to stderr

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collect } from './lib/collect.js';
import { formatValue, renderTable } from './lib/format.js';
import { killAll, runOnce } from './lib/spawn.js';
import { discover, loadMeta } from './lib/suites.js';
import { renderSvg } from './lib/svg.js';

const BENCH = fileURLToPath(new URL('.', import.meta.url));
// Rounds after the first are skipped past this, so --quick stays under two
// minutes even on a slow day; the first round always runs (that is the smoke).
const QUICK_BUDGET_MS = 90_000;

function parseArgs(argv) {
  const opts = { quick: false, filters: [], repeats: undefined, out: join(BENCH, 'results'), verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--verbose') opts.verbose = true;
    else if (a === '--filter') opts.filters.push(...value().split(','));
    else if (a === '--repeats') opts.repeats = Number(value());
    else if (a === '--out') opts.out = value();
    else throw new Error(`unknown option ${a}`);
  }
  return opts;
}

const log = (line) => process.stderr.write(`${line}\n`);

function clock(ms) {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function summary(result) {
  const parts = result.samples.map((s) => `${s.name.split('.').slice(-2).join('.')} ${formatValue(s.value, s.unit)}`);
  if (result.absent.length) parts.push(`${result.absent.length} absent (${result.absent[0].reason})`);
  if (result.errors.length) parts.push(`${result.errors.length} FAILED: ${result.errors[0].reason}`);
  const text = parts.join(', ');
  return text.length > 150 ? `${text.slice(0, 147)}...` : text;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const metas = await Promise.all(discover(BENCH, opts.filters).map(loadMeta));
  if (metas.length === 0) throw new Error(`no suite files match ${opts.filters.join(', ')}`);
  const repeatsOf = (m) => opts.repeats ?? (opts.quick ? m.repeats.quick : m.repeats.full);
  const total = metas.reduce((n, m) => n + (m.error ? 0 : repeatsOf(m)), 0);
  const rounds = Math.max(...metas.map(repeatsOf));
  log(`bench: ${metas.length} suite files, ${total} fresh processes${opts.quick ? ' (quick)' : ''}; node ${process.version}, ${os.availableParallelism()} CPUs`);

  const started = Date.now();
  const runs = [];
  const gone = new Set(); // suites with nothing to measure: absent everywhere, or broken
  let done = 0;
  // Round-robin: run 1 of every suite, then run 2 of every suite, ... so slow
  // drift in the machine's state lands on thespis and its peers alike.
  for (let round = 1; round <= rounds; round++) {
    for (const meta of metas) {
      if (meta.error || gone.has(meta.file) || round > repeatsOf(meta)) continue;
      if (opts.quick && round > 1 && Date.now() - started > QUICK_BUDGET_MS) {
        log(`  skipping ${meta.rel} run ${round}: quick budget spent`);
        continue;
      }
      const { result, ms } = await runOnce(meta, { quick: opts.quick, verbose: opts.verbose, onLine: log });
      runs.push({ meta, result });
      done++;
      const head = `[${String(done).padStart(String(total).length)}/${total} ${clock(Date.now() - started)}]`;
      log(`${head} ${meta.rel} run ${round}/${repeatsOf(meta)} (${(ms / 1000).toFixed(1)} s) ${summary(result)}`);
      if (result.samples.length === 0) gone.add(meta.file);
    }
  }

  const outcome = collect(metas, runs);
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const title = `thespis benchmarks${opts.quick ? ' (quick)' : ''}, ${date} UTC, node ${process.version}, ${os.availableParallelism()} CPUs`;
  process.stdout.write(`\n${title}\n\n${renderTable(outcome)}\n`);

  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, 'latest.json'), `${JSON.stringify(outcome.entries, null, 2)}\n`);
  writeFileSync(join(opts.out, 'latest.svg'), renderSvg({ ...outcome, title }));
  log(`\nwrote ${join(opts.out, 'latest.json')} and latest.svg in ${clock(Date.now() - started)}`);
  return outcome.errors.length ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

main().then(
  (code) => process.exit(code),
  (e) => {
    killAll();
    log(`bench: ${e.stack ?? e}`);
    process.exit(2);
  },
);
