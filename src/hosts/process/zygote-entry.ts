/**
 * A zygote: `node --single-threaded zygote-entry.js`, started by the system
 * for the `fork` and `forkserver` startups. It loads the runtime once, then
 * forks a process kernel per command, so a child starts in about a
 * millisecond instead of the ~50 ms of a fresh node. The `fork` zygote also
 * imports each actor's module before forking (children start warm, as
 * Python's fork inherits loaded modules); the `forkserver` zygote holds only
 * the runtime, so each child imports its actor fresh.
 *
 * Commands arrive as records on fd 3 (a socket pair with the system process,
 * read as an fd link, so a fork command brings the child's end of its link
 * to the system: the child is connected the moment it exists); events leave
 * the same way. It reaps its children itself (only the pids it
 * forked: see native/reap.cc) and reports each exit. When fd 3 ends (the
 * system stopped or died), it kills what is left, reaps it, and exits.
 *
 * What fork safety rests on is in native/fork.cc; the parts that are this
 * file's job: no worker threads here, forks happen from setImmediate (never
 * inside an I/O callback), and the child closes the zygote's handles before
 * its loop runs again, and ignores work it inherited (`isChild` checks).
 */
import { constants } from 'node:os';
import { requireNative } from '../../native.js';
import { FdLink, closeAll, closeFd } from '../../transport/fd-link.js';
import { toImportable } from '../load-class.js';
import { processFdLink, runProcessKernel } from './process-kernel.js';
import { warmUp, warmUpSpare } from './zygote-warmup.js';
import { MAX_HELLO_BYTES, controlFdCount, controlRecord, readBoot, readControl, SPARE_READY, type ZygoteCommand, type ZygoteEvent } from './process-protocol.js';

const addon = requireNative('fork');
let isChild = false;
let stopping = false;
let warm = false;
/** Commands that came during the warm-up, with their descriptors. */
const early: Array<[ZygoteCommand, number[]]> = [];
/** Link ends of children not forked yet: a child must not keep its siblings' (their links would not end with them). */
const unforked = new Set<number>();

const control = new FdLink(3, MAX_HELLO_BYTES * 4, controlFdCount, {
  onRecord: (record, fds) => {
    let command: ZygoteCommand;
    try {
      command = readControl<ZygoteCommand>(record);
    } catch {
      closeAll(fds);
      return;
    }
    if (warm) handle(command, fds);
    else early.push([command, fds]);
  },
  onClosed: () => stop(true),
});

function emit(event: ZygoteEvent): void {
  if (!isChild) control.write(controlRecord(event));
}

addon.onChildExit((exit) => {
  emit({ event: 'exit', pid: exit.pid, code: exit.code, signal: exit.signal });
  if (stopping && addon.forkedChildren().length === 0) process.exit(0);
});

function handle(command: ZygoteCommand, fds: number[]): void {
  if (command.cmd === 'stop') {
    closeAll(fds);
    stop(false);
    return;
  }
  const linkFd = fds[0];
  if (linkFd === undefined || fds.length !== 1) {
    closeAll(fds);
    emit({ event: 'failed', id: command.id, error: 'the fork command came without its link' });
    return;
  }
  unforked.add(linkFd);
  const preload = command.preload === undefined ? Promise.resolve() : import(toImportable(command.preload)).then(() => undefined);
  // A module that fails to import fails in the child too, where the create reports it.
  void preload
    .catch(() => undefined)
    .then(() =>
      setImmediate(() => {
        if (isChild) return;
        unforked.delete(linkFd);
        if (stopping) return closeFd(linkFd);
        let pid: number;
        try {
          pid = addon.fork({ parentDeathSignal: constants.signals.SIGKILL });
        } catch (error) {
          closeFd(linkFd);
          emit({ event: 'failed', id: command.id, error: String(error) });
          return;
        }
        if (pid === 0) return becomeChild(command, linkFd);
        closeFd(linkFd); // the child's now
        emit({ event: 'forked', id: command.id, pid });
      }),
    );
}

/** Runs in the forked child: drop the zygote's handles, then be a process kernel. */
function becomeChild(command: Extract<ZygoteCommand, { cmd: 'fork' }>, linkFd: number): void {
  isChild = true;
  control.handlers = { onRecord: (_record, fds) => closeAll(fds), onClosed: () => undefined };
  control.destroy(new Error('forked'));
  for (const [, fds] of early) closeAll(fds);
  closeAll([...unforked]);
  addon.onChildExit(null);
  const leave = (code: number): void => addon.exitNow(code);
  if (command.boot !== undefined) return runProcessKernel({ ...command.boot, linkFd }, leave);
  // A spare: it is told what to be when the system needs a process.
  const link = processFdLink(linkFd, {
    onRecord: (record, fds) => {
      closeAll(fds);
      const boot = readBoot(record);
      if (boot === null) return leave(1);
      runProcessKernel({ ...boot, linkFd }, leave, link);
    },
    onClosed: () => leave(0),
  });
  // Warm, it says so (an empty record), and the system may give it work.
  void warmUpSpare().then(
    () => link.write(SPARE_READY),
    () => leave(1),
  );
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

// Commands wait until the warm-up is done.
void warmUp().then(
  () => {
    warm = true;
    emit({ event: 'ready' });
    for (const [command, fds] of early.splice(0)) handle(command, fds);
  },
  (error: unknown) => {
    process.stderr.write(`thespis zygote: warm-up failed: ${String(error)}\n`);
    process.exit(1);
  },
);
