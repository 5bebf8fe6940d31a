/**
 * The system's side of a zygote (zygote-entry.ts): starts it, asks it to
 * fork process kernels, and hears of their exits (the zygote is their
 * parent and reaps them). Its control link is a socket pair read as an fd
 * link, so each fork command can carry the child's end of its link.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireNative } from '../../native.js';
import { FdLink, closeFd } from '../../transport/fd-link.js';
import { MAX_HELLO_BYTES, controlFdCount, controlRecord, readControl, type ProcessBoot, type ZygoteCommand, type ZygoteEvent } from './process-protocol.js';

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

  private readonly control: FdLink;

  private constructor(
    private readonly child: ChildProcess,
    controlFd: number,
    onReady: () => void,
    /** A forked child ended (or, when the zygote itself ends, every child it still had). */
    private readonly onChildExit: (exit: ChildExitReport) => void,
  ) {
    this.control = new FdLink(controlFd, MAX_HELLO_BYTES * 4, controlFdCount, {
      onRecord: (record) => {
        try {
          this.event(readControl<ZygoteEvent>(record), onReady);
        } catch {
          // not one of ours: the zygote runs our code only, so this cannot be
        }
      },
      onClosed: () => undefined, // the exit event reports the end
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      this.gone = true;
      this.control.destroy(new Error('the zygote exited'));
      for (const { reject } of this.waiting.values()) reject(new Error('the zygote exited'));
      this.waiting.clear();
    });
  }

  /** A running zygote: `warm` ones import each actor's module before forking it. */
  static start(kind: 'fork' | 'forkserver', onChildExit: (exit: ChildExitReport) => void): Promise<Zygote> {
    const [mine, theirs] = requireNative('fork').socketPair();
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['--single-threaded', ENTRY], {
        stdio: ['ignore', 'inherit', 'inherit', theirs],
        env: { ...process.env, THESPIS_ZYGOTE: kind },
      });
    } catch (error) {
      closeFd(mine);
      throw error;
    } finally {
      closeFd(theirs);
    }
    return new Promise<Zygote>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`the ${kind} zygote did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(error);
      };
      child.once('error', fail);
      child.once('exit', (code, signal) => fail(new Error(`the ${kind} zygote exited while starting (code ${code}, signal ${signal})`)));
      const zygote: Zygote = new Zygote(child, mine, () => {
        clearTimeout(timer);
        child.removeListener('error', fail);
        resolve(zygote);
      }, onChildExit);
    });
  }

  /**
   * Fork a process kernel linked by `linkFd` (taken over: closed here once
   * sent), or with no `boot` a spare (spare-process.ts); resolves with its pid.
   */
  fork(boot: ProcessBoot | undefined, linkFd: number, preload?: string): Promise<number> {
    if (this.gone) {
      closeFd(linkFd);
      return Promise.reject(new Error('the zygote exited'));
    }
    const id = ++this.nextId;
    return new Promise<number>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.control.write(controlRecord({ cmd: 'fork', id, boot, preload }, 1), [linkFd]);
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
    this.control.write(controlRecord(command));
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
