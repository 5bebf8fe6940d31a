// The addon on worker threads: framing and FdWatcher work there (each thread
// has its own loop), fork and reaping are refused (they belong to the main
// thread), and a watcher left armed does not stop the worker from exiting.
import { once } from 'node:events';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { requireNative } from '../src/native.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const nodeGypBuild = createRequire(import.meta.url).resolve('node-gyp-build');

const workerSource = `
  const { parentPort, workerData } = require('node:worker_threads');
  const addon = require(workerData.nodeGypBuild)(workerData.root);
  const attempt = (f) => { try { f(); return null; } catch (e) { return e.message; } };
  const framer = new addon.Framer(16);
  const frames = framer.push(addon.encodeFrames([Buffer.from('in a worker')]));
  const [a, b] = addon.socketPair();
  let reported = false;
  const watcher = new addon.FdWatcher(a, (status, events) => {
    if (reported) return;
    reported = true;
    parentPort.postMessage({
      frame: Buffer.from(frames[0]).toString(),
      writable: (events & addon.FdWatcher.WRITABLE) !== 0,
      fork: attempt(() => addon.fork()),
      onChildExit: attempt(() => addon.onChildExit(() => {})),
      fds: [a, b],
    });
    // Left armed and ready on purpose: it fires again while the worker's env
    // is torn down, when JS can no longer run, and the hook must close it.
  });
  watcher.start(addon.FdWatcher.WRITABLE);
  watcher.unref();
  setTimeout(() => {}, 20); // the watcher fires before this lets the worker end
`;

describe('the addon on worker threads', () => {
  it('frames and watches fds there, refuses fork, and lets the worker exit', async () => {
    requireNative('fork');
    const worker = new Worker(workerSource, { eval: true, workerData: { root, nodeGypBuild } });
    const [report] = (await once(worker, 'message')) as [Record<string, unknown>];
    const [code] = (await once(worker, 'exit')) as [number];
    const fds = report.fds as number[];
    for (const fd of fds) fs.closeSync(fd);
    expect(report).toMatchObject({
      frame: 'in a worker',
      writable: true,
      fork: 'fork() is only possible on the main thread',
      onChildExit: 'onChildExit is only available on the main thread',
    });
    expect(code).toBe(0);
  });
});
