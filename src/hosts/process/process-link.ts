/**
 * The system process's link to one child process kernel. It exists from the
 * moment the kernel is placed (so frames for it can be sent at once). Frames
 * wait here until there is a stream (a socket pair made at start, or the
 * child's connection back), and their originals are kept until the child's
 * hello proves it runs, so that if it never does they become dead letters and
 * failed creates instead of vanishing.
 */
import type { ChildProcess } from 'node:child_process';
import type { Frame } from '../../core/protocol.js';
import { Channel } from '../../transport/channel.js';
import type { Link } from '../../transport/link.js';
import { recycleOf } from '../../transport/buffer-pool.js';
import { closeAll, type RecordLink } from '../../transport/fd-link.js';
import type { Startup } from './process-protocol.js';

export class ProcessLink implements Link {
  stream: RecordLink | null = null;
  /** The child said hello: it reads what it is sent. */
  confirmed = false;
  /** main ↔ this kernel. */
  readonly channel: Channel;
  /** This kernel → thread kernels, decoded here and re-sent on thread links (keyed by destination). */
  readonly proxies = new Map<string, Channel>();
  /** Envelopes forwarded from this process, by destination process (see ProcessHosts.introduceIfBusy). */
  readonly forwarded = new Map<string, number>();
  /** Retiring: the processes yet to say their mail for it is out (empty once it has been told). */
  awaiting: Set<string> | null = null;
  drainTimer: NodeJS.Timeout | undefined = undefined;
  child: ChildProcess | null = null;
  pid = 0;
  isDown = false;
  readonly exited: Promise<void>;
  markExited!: () => void;
  private early: Frame[] = [];
  private earlyRecords: Array<[Uint8Array, readonly number[]]> = [];

  constructor(
    readonly kernelId: string,
    mainKernelId: string,
    readonly startup: Startup,
    readonly token: string,
  ) {
    this.channel = new Channel(kernelId, mainKernelId, (envelope, fds, recycle) => this.stream!.write(envelope, fds, recycle));
    this.exited = new Promise<void>((resolve) => (this.markExited = resolve));
  }

  send(_destination: string, frame: Frame): void {
    if (this.isDown) return;
    if (!this.confirmed) this.early.push(frame);
    if (this.stream !== null) this.channel.send(frame);
  }

  /**
   * An envelope from another process, passed on as it came, with its
   * descriptors (now this link's); a record read into a pooled buffer goes
   * back to the pool once written out.
   */
  forward(record: Uint8Array, fds: readonly number[]): void {
    if (this.stream !== null) this.stream.write(record, fds, recycleOf(record));
    else if (!this.isDown) this.earlyRecords.push([record, fds]);
    else closeAll(fds);
  }

  /** Flow control: the stream's water marks (before it exists, nothing waits in a socket). */
  get congested(): boolean {
    return this.stream?.congested ?? false;
  }

  private congestionListener: ((congested: boolean) => void) | undefined = undefined;

  get onCongestion(): ((congested: boolean) => void) | undefined {
    return this.congestionListener;
  }

  set onCongestion(listener: ((congested: boolean) => void) | undefined) {
    this.congestionListener = listener;
    if (this.stream !== null) this.stream.onCongestion = listener;
  }

  /** Frames not yet sent, and records the socket has not taken yet. */
  pending(): number {
    return this.channel.queued + (this.stream?.queuedRecords ?? 0) + (this.stream === null ? this.early.length : 0);
  }

  connect(stream: RecordLink): void {
    this.stream = stream;
    stream.onCongestion = this.congestionListener;
    for (const [record, fds] of this.earlyRecords) stream.write(record, fds, recycleOf(record));
    this.earlyRecords = [];
    for (const frame of this.early) this.channel.send(frame);
  }

  confirm(): void {
    this.confirmed = true;
    this.early = [];
  }

  /** Frames the child never read (it never said hello). */
  salvage(): Frame[] {
    const frames = this.confirmed ? [] : this.early;
    this.early = [];
    for (const [, fds] of this.earlyRecords) closeAll(fds);
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
