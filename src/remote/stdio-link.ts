/**
 * A framed link over a pair of byte streams: a remote host's stdout and stdin
 * seen from its parent, or the remote host's own stdin and stdout. Records
 * queued in one turn of the microtask queue leave in one write; incoming
 * bytes go through a framer that refuses a declared length over the limit
 * before buffering it, and a stream that breaks framing ends the link with
 * the reason. Writes past the stream's buffer are kept in order (the
 * transfers that move much use windows, so what waits here stays bounded).
 * Large records are written beside their headers (one writev), not copied
 * behind them.
 *
 * No polling after a batch (process links spin briefly, fd-link.ts): measured
 * here on the 2-core machines, a 50 µs adaptive spin on these pipes made a
 * call's round trip 2.5x slower and file transfers 25% slower, because a host
 * spinning holds the core the other side needs.
 */
import type { Readable, Writable } from 'node:stream';
import { CodecError } from '../errors.js';
import type { RecordLink, RecordLinkHandlers } from '../transport/fd-link.js';
import { createFramer, type Framer } from '../transport/framing.js';
import { planWrites, recordLength, type RecordBytes } from '../transport/record-writes.js';
import { LINK_HIGH_WATER_BYTES } from '../transport/link.js';

const NO_FDS: number[] = [];

export class StdioLink implements RecordLink {
  private readonly framer: Framer;
  private queue: RecordBytes[] = [];
  private queuedRecordBytes = 0;
  private flushQueued = false;
  private closed = false;
  private readonly flushBound = (): void => this.flush();
  private readonly onData = (chunk: Buffer): void => this.read(chunk);
  /** Flow control (core/flow/flow.ts): over the high-water mark of bytes the output has not taken. */
  congested = false;
  onCongestion: ((congested: boolean) => void) | undefined = undefined;
  onDrained: (() => void) | undefined = undefined;

  get queuedRecords(): number {
    return this.queue.length;
  }

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    maxFrameBytes: number,
    public handlers: RecordLinkHandlers,
    /** Bytes read before the link began (after the boot marker). */
    leftover?: Uint8Array,
  ) {
    this.framer = createFramer(maxFrameBytes);
    input.on('data', this.onData);
    input.once('end', () => this.finish(undefined));
    input.once('close', () => this.finish(undefined));
    input.on('error', (error: Error) => this.finish(error));
    output.on('error', (error: Error) => this.finish(error));
    output.on('drain', () => {
      this.onDrained?.();
      if (!this.congested) return;
      this.congested = false;
      this.onCongestion?.(false);
    });
    if (leftover !== undefined && leftover.length > 0) queueMicrotask(() => this.read(leftover));
    input.resume();
  }

  write(record: RecordBytes, fds?: readonly number[]): void {
    if (fds !== undefined && fds.length > 0) throw new CodecError('a remote host link cannot carry file descriptors');
    if (this.closed) return;
    this.queue.push(record);
    this.queuedRecordBytes += 4 + recordLength(record);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushBound);
    }
  }

  get queuedBytes(): number {
    return this.queuedRecordBytes + this.output.writableLength;
  }

  /** Bytes written and not yet taken by the stream (for flow control by the callers). */
  get pendingBytes(): number {
    return this.output.writableLength;
  }

  /** Calls `fn` once the output has drained (at once if it has). */
  whenDrained(fn: () => void): void {
    if (this.output.writableLength === 0 || this.closed) fn();
    else this.output.once('drain', fn);
  }

  end(): Promise<void> {
    this.flush();
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.output.end(() => resolve());
      // One socket both ways (a link on fd 3): ending it sends what is queued, then EOF; the host closes it.
      if ((this.input as unknown) !== this.output) this.input.destroy();
      this.finish(undefined);
    });
  }

  destroy(error: Error): void {
    this.output.destroy();
    this.input.destroy();
    this.finish(error);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.queue.length === 0 || this.closed) return;
    const writes = planWrites(this.queue, [], []);
    this.queue = [];
    this.queuedRecordBytes = 0;
    // Corked, the stream hands all parts to one writev: large parts are not copied to be joined.
    this.output.cork();
    for (const write of writes) for (const part of write.parts) this.output.write(part);
    this.output.uncork();
    if (!this.congested && this.output.writableLength > LINK_HIGH_WATER_BYTES) {
      this.congested = true;
      this.onCongestion?.(true);
    }
  }

  private read(chunk: Uint8Array): void {
    if (this.closed) return;
    let records: Uint8Array[];
    try {
      records = this.framer.push(chunk);
    } catch (error) {
      this.destroy(error instanceof Error ? error : new CodecError(String(error)));
      return;
    }
    for (const record of records) {
      if (this.closed) return;
      this.handlers.onRecord(record, NO_FDS);
    }
  }

  private finish(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queuedRecordBytes = 0;
    this.input.off('data', this.onData);
    this.handlers.onClosed(error);
  }
}
