// Systems on the network for the tcp/tls/convention figures: a system in a
// child process of its own (helpers/net-system.js), and waiting for a
// convention to see its members. The children are in the suite's process
// group, so the driver reaps them even if a suite breaks midway.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../lib/context.js';

const SYSTEM = fileURLToPath(new URL('./net-system.js', import.meta.url));
// For profiling the far end too: BENCH_FAR_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
const FAR_NODE_ARGS = (process.env.BENCH_FAR_NODE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * Starts a system in a child process with these ActorSystem.start options;
 * resolves { adminAddress, pid, systemId, startingMs, child, stop() } once
 * it has started.
 */
export async function spawnSystem(options) {
  const child = spawn(process.execPath, [...FAR_NODE_ARGS, SYSTEM, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const first = await withTimeout(
    new Promise((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code, signal) => reject(new Error(`system process exited (${signal ?? code}) before it started`)));
    }),
    30_000,
    'system process start',
  );
  const info = JSON.parse(first);
  return {
    ...info,
    child,
    exited,
    /** Graceful shutdown (stdin closes), then SIGKILL if it lingers. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once `system` lists `count` members (itself included). */
export async function members(system, count, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await system.status();
    if (status.convention.length >= count) return;
    if (Date.now() > deadline) throw new Error(`the convention has ${status.convention.length} members, not ${count}, after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Wall clock with sub-millisecond resolution, comparable across processes of this machine. */
export const wallMs = () => performance.timeOrigin + performance.now();
