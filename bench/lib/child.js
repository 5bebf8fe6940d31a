// Entry of one fresh process that runs one suite file once and reports back on
// the IPC channel. A fresh process per repeat is the point: single-thread
// figures here are bimodal per process (see LIMITS.md), so the driver takes
// the median over processes, never over loops inside one process.
//
//   node bench/lib/child.js <suite file> [--quick]

import { pathToFileURL } from 'node:url';
import { createContext } from './context.js';

const [file, ...flags] = process.argv.slice(2);
const ctx = createContext({ quick: flags.includes('--quick') });

let suite;
let finished = false;

// Leftover handles (a pool, a socket a suite forgot) must not keep us alive:
// the result is what matters, and the driver reaps our process group after.
function finish() {
  if (finished) return;
  finished = true;
  const result = ctx.result();
  if (process.send) {
    process.send(result, () => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  } else {
    console.log(JSON.stringify(result, null, 2));
    process.exit(0);
  }
}

// An error thrown from a callback the suite does not own (a worker's 'error'
// with no listener, a socket) still belongs to this suite's figures.
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (e) => {
    ctx.settle(suite?.figures ?? [file], e);
    finish();
  });
}

try {
  suite = (await import(pathToFileURL(file).href)).default;
  await suite.run(ctx);
} catch (e) {
  ctx.settle(suite?.figures ?? [file], e);
}

finish();
