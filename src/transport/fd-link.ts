/**
 * A framed link over a raw Unix stream socket that also carries file
 * descriptors (SCM_RIGHTS), for process links when the addon is built.
 *
 * Why not a net.Socket: libuv reads a pipe with read(), and the kernel drops
 * (closes) any descriptor riding on bytes read that way. So this link owns
 * its fd outright: an FdWatcher says when it is readable or writable, and
 * the addon's recvFds/sendFds move bytes and descriptors together.
 *
 * How descriptors stay with their records. A record's descriptors are sent
 * with the first byte of the sendmsg that carries the record, so they arrive
 * no later than the record's first byte, and in record order. The receiver
 * queues them as they come; each complete record says (through `countFds`)
 * how many of them are its own, and takes that many from the front. A peer
 * whose records declare descriptors that never came, or that sends
 * descriptors no record claims, breaks the protocol and loses the link.
 *
 * Like StreamLink: records queued during one turn of the microtask queue
 * leave in one sendmsg, and a declared length over the limit is refused
 * before it is buffered.
 *
 * Large records. A record's large parts go to sendmsg as they are (several
 * buffers in one call, record-writes.ts): nothing is copied to join a head
 * and a payload or records of a batch. A frame that does not fit in one read
 * is read straight into a buffer of its size (the framer's pending frame,
 * taken from this thread's pool of large buffers) until it is complete, not
 * through 64 KiB chunks copied again. Pooled buffers go back to the pool once
 * written out (`write`'s `recycle`) or, on the receiving side, once the
 * handler is done with the record (buffer-pool.ts).
 */
import { closeSync } from 'node:fs';
import { CodecError } from '../errors.js';
import { requireNative, type FdWatcher, type NativeAddon } from '../native.js';
import { frameBuffer, largeBuffers } from './buffer-pool.js';
import { SendBuffer } from './send-buffer.js';
import { MAX_ENVELOPE_FDS } from './envelope.js';
import { LINK_HIGH_WATER_BYTES, LINK_LOW_WATER_BYTES } from './link.js';
import { PollAfterBatch } from './poll-after-batch.js';
import { TsFramer } from './framing.js';
import { advance, planWrites, recordLength, unsent, type RecordBytes, type Write } from './record-writes.js';

export type { RecordBytes } from './record-writes.js';

/** What a record link reports; `fds` are the descriptors that came with the record, now the handler's. */
export interface RecordLinkHandlers {
  onRecord(record: Uint8Array, fds: number[]): void;
  onClosed(error: Error | undefined): void;
}

/** A framed, ordered link to one peer process (fd-link.ts or stream-link.ts). */
export interface RecordLink {
  handlers: RecordLinkHandlers;
  /**
   * Queue a record (one buffer, or parts sent in order as one record); `fds`
   * (owned by the link from now on) travel with it, closed here once sent;
   * `recycle`, a buffer of `largeBuffers` the record is written in, goes
   * back to the pool once sent.
   */
  write(record: RecordBytes, fds?: readonly number[], recycle?: ArrayBuffer): void;
  /** Bytes of records accepted by `write` and not yet handed to the socket. */
  readonly queuedBytes: number;
  /** Called when the socket, having been full, has taken everything queued. */
  onDrained?: (() => void) | undefined;
  /** Send what is queued, then end the stream; resolves once the link is closed. */
  end(): Promise<void>;
  /** Close at once, dropping what is queued (a peer that broke the protocol). */
  destroy(error: Error): void;
  /** Flow control: over the high-water mark of bytes waiting to be sent (core/flow/flow.ts). */
  readonly congested: boolean;
  /** Told when `congested` changes. */
  onCongestion: ((congested: boolean) => void) | undefined;
  /** Records written and not yet handed to the socket. */
  readonly queuedRecords: number;
}

/**
 * One recvmsg of at most this many bytes per readiness event. Small on
 * purpose: every record a read completes is decoded before the kernel runs
 * its actors (a microtask after this callback), so the messages of a whole
 * read are alive together, and young-generation collections copy whatever is
 * alive. Reading up to 16 × 256 KiB per event kept ~60,000 decoded messages
 * alive at once: a receiver spent a quarter of its time collecting, and a
 * stream between two processes ran at 1.8 M msgs/s; one 64 KiB read per event
 * (epoll is level-triggered: it reports the rest next turn) gave 2.7 M.
 */
const READ_BYTES = 64 * 1024;
/** A frame with at least this much still to come is read straight into place. */
const DIRECT_READ_BYTES = 64 * 1024;
/** Descriptors received that no record has claimed yet, at most. */
const MAX_UNCLAIMED_FDS = MAX_ENVELOPE_FDS * 4;

export class FdLink implements RecordLink {
  private readonly addon: NativeAddon;
  private readonly watcher: FdWatcher;
  private readonly framer: TsFramer;
  private records: RecordBytes[] = [];
  private recordFds: (readonly number[] | undefined)[] = [];
  private recycles: (ArrayBuffer | undefined)[] = [];
  private readonly outgoing: Write[] = [];
  private queued = 0;
  onDrained: (() => void) | undefined = undefined;
  private received: number[] = [];
  private flushQueued = false;
  private watchingWritable = false;
  private closed = false;
  private ending: (() => void) | null = null;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  private readonly flushBound = (): void => this.flush();
  /** Polling after a batch (poll-after-batch.ts), when asked for. */
  private readonly poller: PollAfterBatch | null;
  private readonly sendBuffer: SendBuffer;
  /** Records written and not yet accepted by the socket. */
  queuedRecords = 0;
  congested = false;
  onCongestion: ((congested: boolean) => void) | undefined = undefined;

  constructor(
    private readonly fd: number,
    maxFrameBytes: number,
    /** How many descriptors a complete record owns, or -1 when it is malformed. */
    private readonly countFds: (record: Uint8Array) => number,
    public handlers: RecordLinkHandlers,
    /** Longest poll after a batch before sleeping, in µs (0: never; poll-after-batch.ts). */
    spinUs = 0,
    /** Asked before each poll: false skips it (the machine has no core to spare for it, say). */
    mayPoll: () => boolean = () => true,
  ) {
    this.poller = spinUs > 0 ? new PollAfterBatch(spinUs, () => this.readOnce() && this.afterBatch(), mayPoll, () => this.closed) : null;
    this.addon = requireNative('fd links');
    this.sendBuffer = new SendBuffer(this.addon, fd);
    this.framer = new TsFramer(maxFrameBytes, frameBuffer);
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    this.watcher = new this.addon.FdWatcher(fd, (status, events) => this.ready(status, events));
    this.watcher.start(this.addon.FdWatcher.READABLE);
  }

  get queuedBytes(): number {
    return this.queued;
  }

  write(record: RecordBytes, fds?: readonly number[], recycle?: ArrayBuffer): void {
    if (this.closed || this.ending !== null) {
      if (fds !== undefined) closeAll(fds);
      return;
    }
    const length = recordLength(record);
    this.records.push(record);
    this.sendBuffer.queued(length, this.queued);
    this.recordFds.push(fds);
    this.recycles.push(recycle);
    this.queued += 4 + length;
    this.queuedRecords++;
    if (!this.congested && this.queued > LINK_HIGH_WATER_BYTES) {
      this.congested = true;
      this.onCongestion?.(true);
    }
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushBound);
    }
  }

  end(): Promise<void> {
    if (!this.closed && this.ending === null) {
      this.flush();
      this.ending = () => {
        try {
          this.addon.shutdownWrite(this.fd);
        } catch {
          this.finish(undefined);
        }
      };
      if (this.outgoing.length === 0) this.ending();
    }
    return this.closedPromise;
  }

  destroy(error: Error): void {
    this.finish(error);
  }

  /**
   * Bytes of the stream that someone else read off the socket first (a
   * handshake); call before the first readiness event (the same turn the
   * link was made in), so they come before anything read here.
   */
  push(chunk: Uint8Array): void {
    if (this.closed || chunk.length === 0) return;
    let records: Uint8Array[];
    try {
      records = this.framer.push(chunk);
    } catch (error) {
      this.finish(error instanceof Error ? error : new CodecError(String(error)));
      return;
    }
    for (const record of records) {
      if (this.closed) return;
      const count = this.countFds(record);
      if (count !== 0) {
        this.broken(count < 0 ? 'a malformed record' : `a record declares ${count} descriptors that did not come with it`);
        return;
      }
      this.handlers.onRecord(record, NO_FDS);
    }
  }

  // ---- writing -----------------------------------------------------------

  private flush(): void {
    this.flushQueued = false;
    const records = this.records;
    if (records.length === 0 || this.closed) return;
    const writes = planWrites(records, this.recordFds, this.recycles);
    this.records = [];
    this.recordFds = [];
    this.recycles = [];
    for (const write of writes) this.outgoing.push(write);
    this.pump();
  }

  /** Send until done or the socket is full (then wait for it to be writable). */
  private pump(): void {
    const outgoing = this.outgoing;
    const wasFull = this.watchingWritable;
    while (outgoing.length > 0 && !this.closed) {
      const next = outgoing[0]!;
      let sent: number;
      try {
        sent = this.addon.sendFds(this.fd, unsent(next), next.fds);
      } catch (error) {
        this.finish(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (sent < 0) {
        this.watch(true);
        return;
      }
      if (next.fds.length > 0) {
        closeAll(next.fds); // the peer holds its own references now
        next.fds = [];
      }
      this.queued -= sent;
      if (!advance(next, sent)) continue;
      outgoing.shift();
      this.queuedRecords -= next.records;
      for (const buffer of next.recycle) largeBuffers.give(buffer);
    }
    this.watch(false);
    if (this.closed) return;
    if (this.congested && this.queued < LINK_LOW_WATER_BYTES) this.uncongest();
    if (wasFull) this.onDrained?.();
    if (this.ending !== null) this.ending();
  }

  private uncongest(): void {
    this.congested = false;
    this.onCongestion?.(false);
  }

  private watch(writable: boolean): void {
    if (writable === this.watchingWritable || this.closed) return;
    this.watchingWritable = writable;
    const { READABLE, WRITABLE } = this.addon.FdWatcher;
    this.watcher.start(writable ? READABLE | WRITABLE : READABLE);
  }

  // ---- reading -----------------------------------------------------------

  private ready(status: number, events: number): void {
    if (this.closed) return;
    this.poller?.woke();
    if (status < 0) {
      this.finish(new Error(`poll failed on the link (libuv error ${status})`));
      return;
    }
    if ((events & this.addon.FdWatcher.WRITABLE) !== 0) this.pump();
    if ((events & (this.addon.FdWatcher.READABLE | this.addon.FdWatcher.DISCONNECT)) === 0) return;
    if (this.readOnce()) this.afterBatch();
  }

  /** Records came and were handled (true, for the poller's read). */
  private afterBatch(): true {
    this.poller?.afterBatch();
    return true;
  }

  /** One recvmsg and the records it completes; false when nothing came (or the link closed). */
  private readOnce(): boolean {
    if (this.closed) return false;
    const space = this.framer.pendingSpace();
    if (space !== null && space.byteLength >= DIRECT_READ_BYTES) return this.readInto(space);
    let got;
    try {
      got = this.addon.recvFds(this.fd, READ_BYTES, MAX_ENVELOPE_FDS);
    } catch (error) {
      this.finish(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
    if (got === null) return false;
    if (!this.took(got.fds, got.truncated, got.data.byteLength)) return !this.closed;
    let records: Uint8Array[];
    try {
      records = this.framer.push(got.data);
    } catch (error) {
      this.finish(error instanceof Error ? error : new CodecError(String(error)));
      return false;
    }
    return this.deliver(records);
  }

  /** Reads the rest of a large frame into its buffer, until it is complete or the socket is empty. */
  private readInto(space: Uint8Array): boolean {
    let progress = false;
    while (!this.closed) {
      let got;
      try {
        got = this.addon.recvFdsInto(this.fd, space, MAX_ENVELOPE_FDS);
      } catch (error) {
        this.finish(error instanceof Error ? error : new Error(String(error)));
        return false;
      }
      if (got === null) return progress;
      if (!this.took(got.fds, got.truncated, got.bytes)) return !this.closed;
      progress = true;
      const frame = this.framer.filled(got.bytes);
      if (frame !== null) return this.deliver([frame]);
      space = this.framer.pendingSpace()!;
    }
    return false;
  }

  /** Takes the descriptors of one read; false when there is nothing more to do with it (end of stream, or broken). */
  private took(fds: number[], truncated: boolean, bytes: number): boolean {
    if (fds.length > 0) this.received.push(...fds);
    if (truncated) return this.broken('descriptors beyond the limit were sent');
    if (bytes === 0) {
      if (fds.length === 0) this.finish(undefined);
      return false;
    }
    if (this.received.length > MAX_UNCLAIMED_FDS) return this.broken('descriptors that no record claims were sent');
    return true;
  }

  private deliver(records: Uint8Array[]): boolean {
    for (const record of records) {
      if (this.closed) return false;
      const count = this.countFds(record);
      if (count < 0) return this.broken('a malformed record');
      if (count > this.received.length) return this.broken(`a record declares ${count} descriptors that did not come with it`);
      const fds = count === 0 ? NO_FDS : this.received.splice(0, count);
      this.handlers.onRecord(record, fds);
    }
    return !this.closed;
  }

  private broken(what: string): false {
    this.finish(new CodecError(`the peer sent ${what}`));
    return false;
  }

  private finish(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    closeFd(this.fd);
    for (const next of this.outgoing) closeAll(next.fds);
    this.outgoing.length = 0;
    for (const fds of this.recordFds) if (fds !== undefined) closeAll(fds);
    this.records = [];
    this.recordFds = [];
    this.recycles = [];
    this.queued = 0;
    this.queuedRecords = 0;
    if (this.congested) this.uncongest();
    closeAll(this.received);
    this.received = [];
    this.handlers.onClosed(error);
    this.resolveClosed();
  }
}

const NO_FDS: number[] = [];

export function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // closed already: nothing to release
  }
}

export function closeAll(fds: readonly number[]): void {
  for (const fd of fds) closeFd(fd);
}
