// Runs one suite once in a fresh `node` and returns what it reported.
// The child leads its own process group so that a timeout, or whatever a suite
// left running (worker pools, actor processes), is reaped with one kill.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
const TAIL = 4000;

function killGroup(pid) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const live = new Set();
/** Kill every child still running (driver interrupted). */
export function killAll() {
  for (const pid of live) killGroup(pid);
}

/**
 * Resolves { result, ms } where result = { samples, absent, errors }. A crash,
 * a timeout or silence becomes errors charged to the suite's figures.
 */
export function runOnce(meta, { quick, verbose = false, onLine }) {
  const timeoutMs = quick ? meta.timeoutMs.quick : meta.timeoutMs.full;
  const args = [...meta.nodeArgs, CHILD, meta.file, ...(quick ? ['--quick'] : [])];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    live.add(child.pid);
    let tail = '';
    let result;
    let failure;
    const keep = (chunk) => {
      const text = chunk.toString();
      if (verbose) process.stderr.write(text);
      tail = (tail + text).slice(-TAIL);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('message', (m) => (result = m));
    const timer = setTimeout(() => {
      failure = `timed out after ${timeoutMs / 1000} s`;
      killGroup(child.pid);
    }, timeoutMs);
    const beat = setInterval(() => onLine?.(`  … still running ${meta.rel} (${Math.round((Date.now() - started) / 1000)} s)`), 15_000);
    child.on('error', (e) => (failure = e.message));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(beat);
      killGroup(child.pid);
      live.delete(child.pid);
      const ms = Date.now() - started;
      if (result && !failure) return resolve({ result, ms });
      const why = failure ?? `exited (${signal ?? code}) without a result`;
      const last = tail.trim().split('\n').slice(-3).join(' | ');
      const reason = last ? `${why}: ${last}` : why;
      const reported = new Set((result?.samples ?? []).map((s) => s.name));
      const names = meta.figures.length ? meta.figures : [meta.rel];
      const errors = names.filter((n) => !reported.has(n)).map((name) => ({ name, reason }));
      resolve({ result: { samples: result?.samples ?? [], absent: [], errors }, ms });
    });
  });
}
