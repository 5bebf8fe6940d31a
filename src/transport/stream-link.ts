/**
 * A framed link over a byte stream (a Unix socket to a child process):
 * records queued during one turn of the microtask queue leave in one write,
 * because per-write syscalls, not bytes, are what a socket charges for.
 * Incoming bytes go through a framer that refuses a declared length over
 * the limit before buffering it; a stream that breaks framing is destroyed
 * (that link only) with the reason.
 */
import type { Socket } from 'node:net';
import { CodecError } from '../errors.js';
import { createFramer, encodeFramesTs, type Framer } from './framing.js';

export interface StreamLinkHandlers {
  /** One complete record; a view into socket memory, valid as long as it is referenced. */
  onRecord(record: Uint8Array): void;
  /** The stream ended or was destroyed; `error` says why when it was not a clean end. */
  onClosed(error: Error | undefined): void;
}

export class StreamLink {
  private readonly framer: Framer;
  private queue: Uint8Array[] = [];
  private flushQueued = false;
  private closed = false;
  private readonly flushBound = (): void => this.flush();

  constructor(
    private readonly socket: Socket,
    maxFrameBytes: number,
    /** Replaceable: a link's first record (a hello) may be read by someone else than the rest. */
    public handlers: StreamLinkHandlers,
  ) {
    this.framer = createFramer(maxFrameBytes);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', (error) => this.finish(error));
    socket.on('close', () => this.finish(undefined));
  }

  write(record: Uint8Array): void {
    if (this.closed) return;
    this.queue.push(record);
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
    const records = this.queue;
    this.queue = [];
    this.socket.write(encodeFramesTs(records));
  }

  private read(chunk: Buffer): void {
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
      this.handlers.onRecord(record);
    }
  }

  private finish(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.handlers.onClosed(error);
  }
}
