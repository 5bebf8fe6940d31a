// Helpers for the CLI tests: the real `thespis` binary as a child process, in
// a temporary HOME (so state, logs and history are the test's own), and every
// daemon it starts tracked and killed at the end.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
export const ACTORS = fileURLToPath(new URL('./fixtures/cli/actors.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface Daemon {
  admin: string;
  pid: number;
  log: string;
}

/** Whether `pid` is gone: no such process, or a zombie waiting for its reaper. */
export function gone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] === 'Z';
  } catch {
    return true;
  }
}

/** Waits (with a deadline) until `check` holds; `explain` adds what the failure message should show. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, explain?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${explain === undefined ? '' : `\n${explain()}`}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves true when nothing accepts connections at `admin` any more. */
export function portClosed(admin: string): Promise<boolean> {
  const colon = admin.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect(Number(admin.slice(colon + 1)), admin.slice(0, colon));
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', (error: Error & { code?: string }) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** Whether `pid` runs this checkout's CLI (a pid file's pid may have been reused since). */
function isOurs(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(CLI);
  } catch {
    return false;
  }
}

export class CliSandbox {
  readonly home = mkdtempSync(join(tmpdir(), 'thespis-cli-'));
  readonly env: NodeJS.ProcessEnv;
  private readonly daemons = new Set<number>();

  constructor() {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: this.home };
    for (const name of ['XDG_STATE_HOME', 'THESPIS_ADMIN', 'THESPIS_SECRET_FILE', 'THESPIS_STATE_DIR', 'THESPIS_HISTORY', 'NO_COLOR', 'FORCE_COLOR', 'THESPIS_DEBUG']) {
      delete env[name];
    }
    this.env = env;
  }

  get stateDir(): string {
    return join(this.home, '.local', 'state', 'thespis');
  }

  file(name: string, text: string): string {
    const path = join(this.home, name);
    writeFileSync(path, text);
    return path;
  }

  /** `thespis ...args`; killed (and the test failed by its result) after `timeoutMs`. */
  run(args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<CliResult> {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...this.env, ...options.env }, cwd: this.home, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.end(options.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    return new Promise((resolve) => {
      child.once('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
  }

  /** `thespis start --port 0 ...args`, tracked; fails the test if it does not start. */
  async start(args: readonly string[] = [], env?: NodeJS.ProcessEnv): Promise<Daemon> {
    const result = await this.run(['start', '--port', '0', ...args], { env });
    const pid = Number(/\(pid (\d+)\)/.exec(result.stderr)?.[1]);
    if (pid > 0) this.daemons.add(pid);
    if (result.status !== 0) throw new Error(`thespis start failed (${result.status}): ${result.stderr}`);
    return { admin: result.stdout.trim(), pid, log: /log: (.*)$/m.exec(result.stderr)![1]! };
  }

  track(pid: number): void {
    this.daemons.add(pid);
  }

  /** Kills every daemon this sandbox started (and any its pid files name), then removes HOME. */
  async cleanup(): Promise<void> {
    try {
      for (const name of readdirSync(this.stateDir)) {
        if (name.endsWith('.pid')) this.daemons.add(Number.parseInt(readFileSync(join(this.stateDir, name), 'utf8'), 10));
      }
    } catch {
      // no state directory: nothing was started
    }
    for (const pid of this.daemons) {
      if (!gone(pid) && isOurs(pid)) process.kill(pid, 'SIGKILL');
    }
    await until('the daemons to be gone', () => [...this.daemons].every(gone));
    rmSync(this.home, { recursive: true, force: true });
  }
}
