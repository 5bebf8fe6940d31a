/**
 * A zygote: `node --single-threaded zygote-entry.js`, started by the system
 * for the `fork` and `forkserver` startups. It loads the runtime once, then
 * forks a process kernel per command, so a child starts in about a
 * millisecond instead of the ~50 ms of a fresh node. The `fork` zygote also
 * imports each actor's module before forking (children start warm, as
 * Python's fork inherits loaded modules); the `forkserver` zygote holds only
 * the runtime, so each child imports its actor fresh.
 *
 * Commands arrive as JSON lines on fd 3 (a pipe from the system process);
 * events leave the same way. It reaps its children itself (only the pids it
 * forked: see native/reap.cc) and reports each exit. When fd 3 ends (the
 * system stopped or died), it kills what is left, reaps it, and exits.
 *
 * What fork safety rests on is in native/fork.cc; the parts that are this
 * file's job: no worker threads here, forks happen from setImmediate (never
 * inside an I/O callback), and the child closes the zygote's handles before
 * its loop runs again, and ignores work it inherited (`isChild` checks).
 */
import { Socket, connect } from 'node:net';
import { constants } from 'node:os';
import { requireNative } from '../native.js';
import { toImportable } from './load-class.js';
import { runProcessKernel } from './process-kernel.js';
import { warmUp } from './zygote-warmup.js';
import { readJsonLines, type ZygoteCommand, type ZygoteEvent } from './process-protocol.js';

const addon = requireNative('fork');
const control = new Socket({ fd: 3, readable: true, writable: true });
let isChild = false;
let stopping = false;

function emit(event: ZygoteEvent): void {
  if (!isChild) control.write(`${JSON.stringify(event)}\n`);
}

addon.onChildExit((exit) => {
  emit({ event: 'exit', pid: exit.pid, code: exit.code, signal: exit.signal });
  if (stopping && addon.forkedChildren().length === 0) process.exit(0);
});

readJsonLines<ZygoteCommand>(control, handle);
control.on('error', () => stop(true));
control.on('close', () => stop(true));

function handle(command: ZygoteCommand): void {
  if (command.cmd === 'stop') {
    stop(false);
    return;
  }
  const preload = command.preload === undefined ? Promise.resolve() : import(toImportable(command.preload)).then(() => undefined);
  // A module that fails to import fails in the child too, where the create reports it.
  void preload
    .catch(() => undefined)
    .then(() =>
      setImmediate(() => {
        if (isChild || stopping) return;
        let pid: number;
        try {
          pid = addon.fork({ parentDeathSignal: constants.signals.SIGKILL });
        } catch (error) {
          emit({ event: 'failed', id: command.id, error: String(error) });
          return;
        }
        if (pid === 0) becomeChild(command);
        else emit({ event: 'forked', id: command.id, pid });
      }),
    );
}

/** Runs in the forked child: drop the zygote's handles, then be a process kernel. */
function becomeChild(command: Extract<ZygoteCommand, { cmd: 'fork' }>): void {
  isChild = true;
  control.removeAllListeners();
  control.destroy();
  addon.onChildExit(null);
  runProcessKernel(command.boot, connect(command.boot.socketPath), (code) => addon.exitNow(code));
}

/** Leave once every child is gone; `now` (the system is gone) kills them first. */
function stop(now: boolean): void {
  if (isChild) return;
  stopping = true;
  const children = addon.forkedChildren();
  if (children.length === 0) process.exit(0);
  if (now) for (const pid of children) kill(pid);
  else setTimeout(() => children.forEach(kill), 2000).unref();
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone; its exit is reaped and reported as usual
  }
}

// Commands wait in the pipe until the warm-up is done.
control.pause();
void warmUp().then(
  () => {
    control.resume();
    emit({ event: 'ready' });
  },
  (error: unknown) => {
    process.stderr.write(`thespis zygote: warm-up failed: ${String(error)}\n`);
    process.exit(1);
  },
);
