/**
 * The system process's link to one child process kernel. It exists from the
 * moment the kernel is placed (so frames for it can be sent at once) and is
 * connected when the child dials back; frames sent before that wait here, in
 * their original form, so that if the child never arrives they become dead
 * letters and failed creates instead of vanishing.
 */
import type { ChildProcess } from 'node:child_process';
import type { Frame } from '../core/protocol.js';
import { Channel } from '../transport/channel.js';
import type { Link } from '../transport/link.js';
import type { StreamLink } from '../transport/stream-link.js';
import type { Startup } from './process-protocol.js';

export class ProcessLink implements Link {
  stream: StreamLink | null = null;
  /** main ↔ this kernel. */
  readonly channel: Channel;
  /** This kernel → thread kernels, decoded here and re-sent on thread links (keyed by destination). */
  readonly proxies = new Map<string, Channel>();
  child: ChildProcess | null = null;
  pid = 0;
  isDown = false;
  readonly exited: Promise<void>;
  markExited!: () => void;
  private early: Frame[] = [];
  private earlyRecords: Uint8Array[] = [];

  constructor(
    readonly kernelId: string,
    mainKernelId: string,
    readonly startup: Startup,
    readonly token: string,
  ) {
    this.channel = new Channel(kernelId, mainKernelId, (envelope) => this.stream?.write(envelope));
    this.exited = new Promise<void>((resolve) => (this.markExited = resolve));
  }

  send(_destination: string, frame: Frame): void {
    if (this.stream !== null) this.channel.send(frame);
    else if (!this.isDown) this.early.push(frame);
  }

  /** An envelope from another process, passed on as it came. */
  forward(record: Uint8Array): void {
    if (this.stream !== null) this.stream.write(record);
    else if (!this.isDown) this.earlyRecords.push(record);
  }

  connect(stream: StreamLink): void {
    this.stream = stream;
    for (const record of this.earlyRecords) stream.write(record);
    for (const frame of this.early) this.channel.send(frame);
    this.early = [];
    this.earlyRecords = [];
  }

  /** Frames that never left (the child never connected). */
  salvage(): Frame[] {
    const frames = this.early;
    this.early = [];
    this.earlyRecords = [];
    return frames;
  }

  close(): void {
    void this.stream?.end();
  }

  /** Ends the process at once (a broken link, or one that would not stop). */
  kill(): void {
    try {
      if (this.child !== null) this.child.kill('SIGKILL');
      else if (this.pid > 0) process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
