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
import type { RecordLinkHandlers } from '../transport/fd-link.js';
import { createFramer } from '../transport/framing.js';
import { OutputStreamLink } from '../transport/stream-link.js';

export class StdioLink extends OutputStreamLink {
  private readonly onData = (chunk: Buffer): void => this.push(chunk);

  constructor(
    private readonly input: Readable,
    output: Writable,
    maxFrameBytes: number,
    handlers: RecordLinkHandlers,
    /** Bytes read before the link began (after the boot marker). */
    leftover?: Uint8Array,
  ) {
    super(output, createFramer(maxFrameBytes), handlers, 'a remote host link cannot carry file descriptors');
    input.on('data', this.onData);
    input.once('end', () => this.finish(undefined));
    input.once('close', () => this.finish(undefined));
    input.on('error', (error: Error) => this.finish(error));
    output.on('error', (error: Error) => this.finish(error));
    if (leftover !== undefined && leftover.length > 0) queueMicrotask(() => this.push(leftover));
    input.resume();
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
