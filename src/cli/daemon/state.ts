/**
 * Where daemons keep their pid files and default logs: THESPIS_STATE_DIR, or
 * $XDG_STATE_HOME/thespis, or ~/.local/state/thespis.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function stateDir(env: NodeJS.ProcessEnv): string {
  if (env.THESPIS_STATE_DIR) return env.THESPIS_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'thespis');
}

export function ensureStateDir(env: NodeJS.ProcessEnv): string {
  const dir = stateDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** "<host>-<port>", safe as a file name. */
export function daemonName(host: string, port: number | string): string {
  return `${host.replace(/[^A-Za-z0-9.-]/g, '_')}-${port}`;
}

export function pidFilePath(env: NodeJS.ProcessEnv, host: string, port: number): string {
  return join(stateDir(env), `${daemonName(host, port)}.pid`);
}

/**
 * The log a daemon writes unless told --log: named after its port, or for
 * --port 0 (any free port, not known yet) after the moment it started.
 */
export function defaultLogPath(env: NodeJS.ProcessEnv, host: string, port: number): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '').replace('T', '-').slice(0, 17);
  return join(stateDir(env), `${daemonName(host, port === 0 ? `any-${stamp}-${process.pid}` : port)}.log`);
}
