/**
 * A framed link over a pair of byte streams: a remote host's stdout and stdin
 * seen from its parent, or the remote host's own stdin and stdout. Records
 * queued in one turn of the microtask queue leave in one write; incoming
 * bytes go through a framer that refuses a declared length over the limit
 * before buffering it, and a stream that breaks framing ends the link with
 * the reason. Writes past the stream's buffer are kept in order (the
 * transfers that move much use windows, so what waits here stays bounded).
 *
 * Spinning. Waking a sleeping process costs tens of microseconds per hop,
 * more than the rest of a call's round trip; so, as process links do
 * (fd-link.ts, ring-spin.ts), after a batch came in and this turn's replies
 * are out, the link polls its input descriptor with non-blocking reads for a
 * budget that adapts (a poll that catches data keeps it; misses halve it to
 * zero). The descriptor is the stream's own, which libuv keeps non-blocking;
 * polls happen only while the stream holds no unread data, so bytes cannot
 * pass each other.
 */
import { readSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { AdaptiveSpin } from '../transport/ring/ring-spin.js';
import { CodecError } from '../errors.js';
import type { RecordLink, RecordLinkHandlers } from '../transport/fd-link.js';
import { createFramer, encodeFramesTs, type Framer } from '../transport/framing.js';

const NO_FDS: number[] = [];

export class StdioLink implements RecordLink {
  private readonly framer: Framer;
  private queue: Uint8Array[] = [];
  private flushQueued = false;
  private closed = false;
  private readonly flushBound = (): void => this.flush();
  private readonly onData = (chunk: Buffer): void => {
    if (this.sleptAt > 0) {
      this.spin?.slept((performance.now() - this.sleptAt) * 1000);
      this.sleptAt = 0;
    }
    this.read(chunk);
    this.afterBatch();
  };
  private readonly spin: AdaptiveSpin | null;
  private readonly fd: number | undefined;
  private spinQueued = false;
  private sleptAt = 0;
  private readonly spinBound = (): void => this.spinNow();
  private readonly pollBound = (): boolean => this.poll();

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    maxFrameBytes: number,
    public handlers: RecordLinkHandlers,
    /** Bytes read before the link began (after the boot marker). */
    leftover?: Uint8Array,
    /** Longest poll after a batch, in µs (0: never). */
    spinUs = 0,
  ) {
    this.framer = createFramer(maxFrameBytes);
    this.fd = (input as unknown as { _handle?: { fd?: number } })._handle?.fd;
    this.spin = spinUs > 0 && typeof this.fd === 'number' && this.fd >= 0 ? new AdaptiveSpin(spinUs) : null;
    input.on('data', this.onData);
    input.once('end', () => this.finish(undefined));
    input.once('close', () => this.finish(undefined));
    input.on('error', (error: Error) => this.finish(error));
    output.on('error', (error: Error) => this.finish(error));
    if (leftover !== undefined && leftover.length > 0) queueMicrotask(() => this.read(leftover));
    input.resume();
  }

  write(record: Uint8Array, fds?: readonly number[]): void {
    if (fds !== undefined && fds.length > 0) throw new CodecError('a remote host link cannot carry file descriptors');
    if (this.closed) return;
    this.queue.push(record);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushBound);
    }
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
      this.input.destroy();
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
    const records = this.queue;
    this.queue = [];
    this.output.write(encodeFramesTs(records));
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

  /** After a batch: once this turn's replies are out, poll for the next one a little. */
  private afterBatch(): void {
    const spin = this.spin;
    if (spin === null || this.closed) return;
    if (spin.budgetUs > 0) {
      if (!this.spinQueued) {
        this.spinQueued = true;
        setImmediate(this.spinBound);
      }
    } else this.sleptAt = performance.now();
  }

  private spinNow(): void {
    this.spinQueued = false;
    if (this.closed) return;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // each empty poll throws EAGAIN: make that cheap
    let caught: boolean;
    try {
      caught = this.spin!.spinUntil(this.pollBound);
    } finally {
      Error.stackTraceLimit = limit;
    }
    if (caught) this.afterBatch();
    else this.sleptAt = performance.now();
  }

  private readonly pollBuffer = Buffer.allocUnsafe(64 * 1024);

  /** One non-blocking read of the input; true when bytes came (and were handled). */
  private poll(): boolean {
    if (this.closed || this.input.readableLength > 0 || !this.input.readableFlowing) return false;
    let n: number;
    try {
      n = readSync(this.fd!, this.pollBuffer, 0, this.pollBuffer.length, null);
    } catch (error) {
      if ((error as { code?: string }).code === 'EAGAIN') return false;
      this.finish(error as Error);
      return false;
    }
    if (n === 0) {
      this.finish(undefined);
      return false;
    }
    // The framer may keep views of what it is given: hand it a copy of its own.
    this.read(Buffer.from(this.pollBuffer.subarray(0, n)));
    return true;
  }

  private finish(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.input.off('data', this.onData);
    this.handlers.onClosed(error);
  }
}
