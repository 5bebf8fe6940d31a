/**
 * A framed link over a byte stream (a Unix socket to a child process):
 * records queued during one turn of the microtask queue leave in one write,
 * because per-write syscalls, not bytes, are what a socket charges for.
 * Incoming bytes go through a framer that refuses a declared length over
 * the limit before buffering it; a stream that breaks framing is destroyed
 * (that link only) with the reason. It cannot carry file descriptors (a
 * net.Socket reads with read(), which drops them): with the addon built,
 * process links are FdLinks instead.
 */
import type { Socket } from 'node:net';
import { CodecError } from '../errors.js';
import { closeAll, type RecordLink, type RecordLinkHandlers } from './fd-link.js';
import { frameBuffer } from './buffer-pool.js';
import { TsFramer } from './framing.js';
import { LINK_HIGH_WATER_BYTES } from './link.js';
import { planWrites, recordLength, type RecordBytes } from './record-writes.js';

const NO_FDS: number[] = [];

export class StreamLink implements RecordLink {
  private readonly framer: TsFramer;
  private queue: RecordBytes[] = [];
  private queuedRecordBytes = 0;
  private flushQueued = false;
  private closed = false;
  private readonly flushBound = (): void => this.flush();
  congested = false;
  onCongestion: ((congested: boolean) => void) | undefined = undefined;
  onDrained: (() => void) | undefined = undefined;

  get queuedRecords(): number {
    return this.queue.length;
  }

  constructor(
    private readonly socket: Socket,
    maxFrameBytes: number,
    /** Replaceable: a link's first record (a hello) may be read by someone else than the rest. */
    public handlers: RecordLinkHandlers,
  ) {
    this.framer = new TsFramer(maxFrameBytes, frameBuffer);
    socket.on('data', (chunk: Buffer) => this.push(chunk));
    socket.on('error', (error) => this.finish(error));
    socket.on('close', () => this.finish(undefined));
    // The socket's own buffer is what waits; 'drain' says it was written out.
    socket.on('drain', () => {
      this.onDrained?.();
      if (!this.congested) return;
      this.congested = false;
      this.onCongestion?.(false);
    });
  }

  get queuedBytes(): number {
    return this.queuedRecordBytes + this.socket.writableLength;
  }

  /** `recycle` is not taken back here: the socket may still hold the buffer, the collector frees it. */
  write(record: RecordBytes, fds?: readonly number[]): void {
    if (fds !== undefined && fds.length > 0) {
      closeAll(fds);
      throw new CodecError('this link cannot carry file descriptors (it is not an fd link)');
    }
    if (this.closed) return;
    this.queue.push(record);
    this.queuedRecordBytes += 4 + recordLength(record);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushBound);
    }
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

  private flush(): void {
    this.flushQueued = false;
    if (this.queue.length === 0 || this.closed) return;
    const writes = planWrites(this.queue, [], []);
    this.queue = [];
    this.queuedRecordBytes = 0;
    // Corked, the socket hands all parts to one writev: large parts are not copied to be joined.
    const socket = this.socket;
    socket.cork();
    for (const write of writes) for (const part of write.parts) socket.write(part);
    socket.uncork();
    if (!this.congested && socket.writableLength > LINK_HIGH_WATER_BYTES) {
      this.congested = true;
      this.onCongestion?.(true);
    }
  }

  /** Bytes of the stream that someone else read off the socket first (after a handshake). */
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

  private finish(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queuedRecordBytes = 0;
    this.handlers.onClosed(error);
  }
}
