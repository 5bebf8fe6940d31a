/**
 * Daemon processes by pid: whether one still runs, waiting for it to end,
 * and the pid file that keeps a second daemon off a port one already serves.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { CliError } from '../command.js';

/** Whether `pid` is a live process (a zombie, exited but not yet reaped, is not). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc here: the signal check is all there is
  }
}

/**
 * Whether `pid` runs a thespis daemon (`thespis start --foreground`, which is
 * also what a background start runs), rather than a program that started a
 * system of its own and keeps running after it stops. True where /proc
 * cannot tell.
 */
export function isDaemonProcess(pid: number): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes('start') && args.includes('--foreground');
  } catch {
    return true;
  }
}

/** Resolves true once `pid` has exited, false if it still runs after `timeoutMs`. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  // No portable way to be told of a non-child's exit: look every 25 ms.
  while (isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

export interface PidFile {
  readonly path: string;
  /** Removes the file if it is still ours. */
  release(): void;
}

/**
 * Writes this process's pid to `path`, created exclusively. A file left by a
 * daemon that no longer runs is replaced; one of a running daemon is an
 * error naming it. (Two daemons that both find a stale file may both go on:
 * the port itself then refuses the second.)
 */
export function claimPidFile(path: string, what: string): PidFile {
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = readPid(path);
      if (holder !== null && holder !== process.pid && isRunning(holder)) {
        throw new CliError(`a thespis daemon (pid ${holder}) already serves ${what}: stop it with \`thespis stop --admin ${what}\`, or choose another --port`);
      }
      try {
        unlinkSync(path);
      } catch (gone) {
        if ((gone as { code?: string }).code !== 'ENOENT') throw gone;
      }
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return {
      path,
      release: () => {
        if (readPid(path) === process.pid) unlinkSync(path);
      },
    };
  }
}

function readPid(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
