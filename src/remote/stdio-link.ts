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
 * Polling after a batch. Waking a process that sleeps on an idle core costs
 * more than the rest of a call's round trip: measured here (2 vCPUs under
 * KVM, the idle core halted), a bare ping-pong over two pipes between two
 * node processes takes ~12 µs when both run on one core and ~120 µs when
 * each wakes the other on its own core, and a call's round trip was 147 µs,
 * ~120 of them wake-ups (each write() that wakes the peer spends ~15 µs
 * sending it the interrupt, and the peer's core takes tens of µs to resume).
 * So, when the link goes straight to the peer's node (not through ssh), once
 * a batch of small records came in and this turn's replies are out, the link
 * polls its own descriptor (libuv keeps it non-blocking) with reads for a
 * budget that adapts (ring-spin.ts): an exchange of calls then pays no
 * wake-ups, and a link that receives sporadically stops polling after a few
 * misses. Polling only while the machine has a core to spare beyond the two
 * ends (spare-core.ts), after small batches only (a transfer's chunks keep
 * the link busy by themselves; polling there took the core the other side,
 * ssh or a file, needed: transfers were 25% slower), and never while the
 * stream holds unread data (bytes cannot pass each other).
 */
import { readSync, writevSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { machineHasSpareCore } from '../net/spare-core.js';
import type { RecordLinkHandlers } from '../transport/fd-link.js';
import { createFramer } from '../transport/framing.js';
import type { Write } from '../transport/record-writes.js';
import { PollAfterBatch } from '../transport/poll-after-batch.js';
import { OutputStreamLink } from '../transport/stream-link.js';

/** The longest poll after a batch on a link straight to a peer's node, in µs (as process links). */
export const STDIO_LINK_SPIN_US = 50;
/** A batch at least this large is a transfer's, not a conversation's: no poll after it. */
const POLL_AFTER_BYTES_UNDER = 16 * 1024;
const POLL_READ_BYTES = 64 * 1024;
/** A flush this small, into an empty stream, is written here at once (see writeOut). */
const DIRECT_WRITE_MAX_BYTES = 64 * 1024;

export class StdioLink extends OutputStreamLink {
  private readonly onData = (chunk: Buffer): void => {
    this.poller?.woke();
    this.push(chunk);
    this.poller?.afterBatch(chunk.length < POLL_AFTER_BYTES_UNDER);
  };
  /** Polling after a batch (poll-after-batch.ts), when asked for. */
  private readonly poller: PollAfterBatch | null;
  /** The input's descriptor (polled), when it has one. */
  private readonly fd: number;
  /** The output's descriptor (written directly), when it has one. */
  private readonly outFd: number;
  private pollBuffer: Buffer | null = null;
  /** Reads that polling made (the rest came through the stream). */
  polledReads = 0;

  constructor(
    private readonly input: Readable,
    output: Writable,
    maxFrameBytes: number,
    handlers: RecordLinkHandlers,
    /** Bytes read before the link began (after the boot marker). */
    leftover?: Uint8Array,
    /** Longest poll after a batch, in µs (0: never; see above). */
    spinUs = 0,
    /** Whether polling is allowed now (the machine has a core to spare). */
    mayPoll: () => boolean = machineHasSpareCore,
  ) {
    super(output, createFramer(maxFrameBytes), handlers, 'a remote host link cannot carry file descriptors');
    this.fd = (input as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    this.outFd = (output as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    this.poller = spinUs > 0 && this.fd >= 0 ? new PollAfterBatch(spinUs, () => this.poll(), mayPoll, () => this.closed) : null;
    input.on('data', this.onData);
    input.once('end', () => this.finish(undefined));
    input.once('close', () => this.finish(undefined));
    input.on('error', (error: Error) => this.finish(error));
    output.on('error', (error: Error) => this.finish(error));
    if (leftover !== undefined && leftover.length > 0) queueMicrotask(() => this.push(leftover));
    input.resume();
  }

  /**
   * A call's request or reply is one small write into an empty stream: it is
   * written here with one writev on the stream's own descriptor (which libuv
   * keeps non-blocking), not through the stream's cork, buffer and write
   * request, which in a host woken for one call cost more than the write.
   * Whatever the pipe does not take goes to the stream after it (the stream
   * was empty, so order holds); anything else takes the stream's way.
   */
  protected override writeOut(writes: readonly Write[]): void {
    const output = this.output;
    if (this.outFd < 0 || writes.length !== 1 || output.writableLength > 0 || output.writableCorked > 0) return super.writeOut(writes);
    const parts = writes[0]!.parts;
    let bytes = 0;
    for (const part of parts) bytes += part.byteLength;
    if (bytes > DIRECT_WRITE_MAX_BYTES) return super.writeOut(writes);
    let written: number;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      written = writevSync(this.outFd, parts as NodeJS.ArrayBufferView[]);
    } catch {
      written = 0; // EAGAIN (a full pipe), or an error the stream reports when it writes
    } finally {
      Error.stackTraceLimit = limit;
    }
    if (written === bytes) return;
    const rest: Uint8Array[] = [];
    for (const part of parts) {
      if (written >= part.byteLength) written -= part.byteLength;
      else {
        rest.push(written > 0 ? part.subarray(written) : part);
        written = 0;
      }
    }
    super.writeOut([{ ...writes[0]!, parts: rest }]);
  }

  /** One non-blocking read of the input; true when bytes came (and were handled: their batch polls again). */
  private poll(): boolean {
    const input = this.input;
    if (this.closed || input.readableLength > 0 || input.readableFlowing !== true) return false;
    const buffer = (this.pollBuffer ??= Buffer.allocUnsafe(POLL_READ_BYTES));
    let n: number;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0; // an empty poll throws EAGAIN: no stack to capture makes that cheap (~4 µs, not ~8)
    try {
      n = readSync(this.fd, buffer, 0, buffer.length, null);
    } catch (error) {
      if ((error as { code?: string }).code === 'EAGAIN') return false;
      this.finish(error as Error);
      return false;
    } finally {
      Error.stackTraceLimit = limit;
    }
    if (n === 0) {
      this.finish(undefined);
      return false;
    }
    this.polledReads++;
    // The framer may keep views of what it is given (framing.ts): it gets bytes of its own.
    this.push(Buffer.from(buffer.subarray(0, n)));
    this.poller!.afterBatch(n < POLL_AFTER_BYTES_UNDER);
    return true;
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

  protected override finish(error: Error | undefined): void {
    if (this.closed) return;
    this.input.off('data', this.onData);
    super.finish(error);
  }
}
