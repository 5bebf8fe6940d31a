/**
 * The system's side of a zygote (zygote-entry.ts): starts it, asks it to
 * fork process kernels, and hears of their exits (the zygote is their
 * parent and reaps them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { readJsonLines, type ProcessBoot, type ZygoteCommand, type ZygoteEvent } from './process-protocol.js';

const ENTRY = fileURLToPath(new URL('./zygote-entry.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export interface ChildExitReport {
  pid: number;
  code: number | null;
  signal: string | null;
}

export class Zygote {
  private readonly waiting = new Map<number, { resolve(pid: number): void; reject(error: Error): void }>();
  private nextId = 0;
  readonly exited: Promise<void>;
  private gone = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly control: Socket,
    /** A forked child ended (or, when the zygote itself ends, every child it still had). */
    private readonly onChildExit: (exit: ChildExitReport) => void,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      this.gone = true;
      for (const { reject } of this.waiting.values()) reject(new Error('the zygote exited'));
      this.waiting.clear();
    });
  }

  /** A running zygote: `warm` ones import each actor's module before forking it. */
  static start(kind: 'fork' | 'forkserver', onChildExit: (exit: ChildExitReport) => void): Promise<Zygote> {
    const child = spawn(process.execPath, ['--single-threaded', ENTRY], {
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
      env: { ...process.env, THESPIS_ZYGOTE: kind },
    });
    const control = child.stdio[3] as Socket;
    const zygote = new Zygote(child, control, onChildExit);
    return new Promise<Zygote>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`the ${kind} zygote did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(error);
      };
      child.once('error', fail);
      child.once('exit', (code, signal) => fail(new Error(`the ${kind} zygote exited while starting (code ${code}, signal ${signal})`)));
      zygote.listen(() => {
        clearTimeout(timer);
        child.removeListener('error', fail);
        resolve(zygote);
      });
    });
  }

  /** Fork a process kernel; resolves with its pid. */
  fork(boot: ProcessBoot, preload?: string): Promise<number> {
    if (this.gone) return Promise.reject(new Error('the zygote exited'));
    const id = ++this.nextId;
    return new Promise<number>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.command({ cmd: 'fork', id, boot, preload });
    });
  }

  /** Ask it to leave once its children are gone (it kills stragglers after 2 s); resolves when it has. */
  stop(): Promise<void> {
    if (!this.gone) this.command({ cmd: 'stop' });
    return this.exited;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  private command(command: ZygoteCommand): void {
    this.control.write(`${JSON.stringify(command)}\n`);
  }

  private listen(onReady: () => void): void {
    this.control.on('error', () => undefined); // the exit event reports the end
    readJsonLines<ZygoteEvent>(this.control, (event) => this.event(event, onReady));
  }

  private event(event: ZygoteEvent, onReady: () => void): void {
    switch (event.event) {
      case 'ready':
        onReady();
        return;
      case 'forked':
        this.waiting.get(event.id)?.resolve(event.pid);
        this.waiting.delete(event.id);
        return;
      case 'failed':
        this.waiting.get(event.id)?.reject(new Error(`fork failed: ${event.error}`));
        this.waiting.delete(event.id);
        return;
      case 'exit':
        this.onChildExit({ pid: event.pid, code: event.code, signal: event.signal });
        return;
    }
  }
}
