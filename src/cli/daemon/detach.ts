/**
 * Starting a daemon in the background: the same `thespis start --foreground`
 * in a detached process (its own session, so no terminal's signals reach
 * it), with no stdin, stdout and stderr appended to its log file, and an IPC
 * channel used once: the daemon reports its address (or why it could not
 * start) and disconnects, so it keeps none of the caller's descriptors.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError } from '../command.js';
import type { ReadyInfo, StartReport } from './daemon.js';

const CLI_ENTRY = fileURLToPath(new URL('../../cli.js', import.meta.url));
/** Set in the daemon's environment: report over the IPC channel. */
export const REPORT_ENV = 'THESPIS_DAEMON_REPORT';

type Report = ({ kind: 'ready' } & ReadyInfo) | { kind: 'failed'; reason: string };

/** Starts the daemon; resolves once it listens, or throws a CliError with its reason. */
export function startInBackground(args: readonly string[], logPath: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ReadyInfo> {
  const fd = openSync(logPath, 'a', 0o600);
  let child;
  try {
    child = spawn(process.execPath, [CLI_ENTRY, 'start', '--foreground', ...args], {
      detached: true,
      stdio: ['ignore', fd, fd, 'ipc'],
      env: { ...env, [REPORT_ENV]: 'ipc' },
      cwd: '/',
    });
  } finally {
    closeSync(fd);
  }
  const daemon = child;
  return new Promise<ReadyInfo>((resolve, reject) => {
    let reason: string | null = null;
    const done = (): void => {
      clearTimeout(timer);
      daemon.removeAllListeners();
      if (daemon.connected) daemon.disconnect();
      daemon.unref();
    };
    const timer = setTimeout(() => {
      done();
      daemon.kill('SIGKILL');
      reject(new CliError(`the daemon did not listen within ${timeoutMs / 1000} s and was killed: see its log ${logPath}`));
    }, timeoutMs);
    daemon.on('message', (message: Report) => {
      if (message.kind === 'ready') {
        done();
        const { kind: _kind, ...info } = message;
        resolve(info);
      } else {
        reason = message.reason; // it exits next
      }
    });
    daemon.once('error', (error) => {
      done();
      reject(new CliError(`cannot start the daemon: ${error.message}`));
    });
    daemon.once('exit', (code, signal) => {
      done();
      if (reason !== null) reject(new CliError(reason));
      else reject(new CliError(`the daemon ended (${signal ?? `exit code ${code}`}) before it listened: ${lastLine(logPath)} (see ${logPath})`));
    });
  });
}

/** The report a daemon started by startInBackground gives, over its IPC channel. */
export function ipcReport(): StartReport {
  const send = (message: Report): Promise<void> =>
    new Promise((resolve) => {
      if (process.send === undefined || !process.connected) return resolve();
      // The starter may be gone (killed while it waited): the daemon carries on.
      process.send(message, undefined, {}, () => {
        if (process.connected) process.disconnect();
        resolve();
      });
    });
  return {
    ready: (info) => send({ kind: 'ready', ...info }),
    failed: (reason) => send({ kind: 'failed', reason }),
  };
}

function lastLine(path: string): string {
  try {
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    return lines[lines.length - 1] || 'its log is empty';
  } catch {
    return 'its log cannot be read';
  }
}
