/**
 * Framed links over Node streams: records queued during one turn of the
 * microtask queue leave in one corked write (per-write syscalls, not bytes,
 * are what a stream charges for; corked, large parts go to one writev
 * without being copied to join their headers). Incoming bytes go through a
 * framer that refuses a declared length over the limit before buffering it;
 * a stream that breaks framing is destroyed (that link only) with the
 * reason. Flow control reads the output's own buffer: over the high-water
 * mark after a flush the link is congested until the output drains.
 *
 * StreamLink is one socket both ways (a Unix socket to a child process
 * without the addon, a TCP or TLS connection between systems or to a
 * client). It cannot carry file descriptors (a net.Socket reads with
 * read(), which drops them): with the addon built, process links are
 * FdLinks instead. The remote hosts' stdio links (remote/stdio-link.ts)
 * share the rest.
 */
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { CodecError } from '../errors.js';
import { closeAll, type RecordLink, type RecordLinkHandlers } from './fd-link.js';
import { frameBuffer } from './buffer-pool.js';
import { TsFramer, type Framer } from './framing.js';
import { LINK_HIGH_WATER_BYTES } from './link.js';
import { planWrites, recordLength, type RecordBytes, type Write } from './record-writes.js';

const NO_FDS: number[] = [];

/** The part of a link over Node streams that does not depend on which streams. */
export abstract class OutputStreamLink implements RecordLink {
  private queue: RecordBytes[] = [];
  private queuedRecordBytes = 0;
  private flushQueued = false;
  protected closed = false;
  private readonly flushBound = (): void => this.flush();
  congested = false;
  onCongestion: ((congested: boolean) => void) | undefined = undefined;
  onDrained: (() => void) | undefined = undefined;

  constructor(
    protected readonly output: Writable,
    private readonly framer: Framer,
    /** Replaceable: a link's first record (a hello) may be read by someone else than the rest. */
    public handlers: RecordLinkHandlers,
    /** What a write with descriptors fails with. */
    private readonly noFds: string,
  ) {
    // The output's own buffer is what waits; 'drain' says it was written out.
    output.on('drain', () => {
      this.onDrained?.();
      if (!this.congested) return;
      this.congested = false;
      this.onCongestion?.(false);
    });
  }

  get queuedRecords(): number {
    return this.queue.length;
  }

  get queuedBytes(): number {
    return this.queuedRecordBytes + this.output.writableLength;
  }

  /** `recycle` is not taken back here: the stream may still hold the buffer, the collector frees it. */
  write(record: RecordBytes, fds?: readonly number[]): void {
    if (fds !== undefined && fds.length > 0) {
      closeAll(fds);
      throw new CodecError(this.noFds);
    }
    if (this.closed) return;
    this.queue.push(record);
    this.queuedRecordBytes += 4 + recordLength(record);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushBound);
    }
  }

  abstract end(): Promise<void>;
  abstract destroy(error: Error): void;

  protected flush(): void {
    this.flushQueued = false;
    if (this.queue.length === 0 || this.closed) return;
    const writes = planWrites(this.queue, [], []);
    this.queue = [];
    this.queuedRecordBytes = 0;
    this.writeOut(writes);
    const output = this.output;
    if (!this.congested && output.writableLength > LINK_HIGH_WATER_BYTES) {
      this.congested = true;
      this.onCongestion?.(true);
    }
  }

  /** Hands one flush's writes to the stream (a subclass may write some itself first, in order). */
  protected writeOut(writes: readonly Write[]): void {
    const output = this.output;
    output.cork();
    for (const write of writes) for (const part of write.parts) output.write(part);
    output.uncork();
  }

  /** Bytes of the stream (also those someone else read off it first, after a handshake). */
  push(chunk: Uint8Array): void {
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

  protected finish(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queuedRecordBytes = 0;
    this.handlers.onClosed(error);
  }
}

export class StreamLink extends OutputStreamLink {
  constructor(
    private readonly socket: Socket,
    maxFrameBytes: number,
    handlers: RecordLinkHandlers,
  ) {
    super(socket, new TsFramer(maxFrameBytes, frameBuffer), handlers, 'this link cannot carry file descriptors (it is not an fd link)');
    socket.on('data', (chunk: Buffer) => this.push(chunk));
    socket.on('error', (error) => this.finish(error));
    socket.on('close', () => this.finish(undefined));
  }

  /** Send what is queued, then end the stream; resolves once the socket is closed. */
  end(): Promise<void> {
    const socket = this.socket;
    if (socket.destroyed) {
      this.finish(undefined);
      return Promise.resolve();
    }
    this.flush();
    return new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
    });
  }

  /** Close at once, dropping what is queued (a peer that broke the protocol). */
  destroy(error: Error): void {
    this.socket.destroy();
    this.finish(error);
  }
}
