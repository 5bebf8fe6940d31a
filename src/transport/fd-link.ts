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
 */
import { closeSync } from 'node:fs';
import { CodecError } from '../errors.js';
import { requireNative, type FdWatcher, type NativeAddon } from '../native.js';
import { MAX_ENVELOPE_FDS } from './envelope.js';
import { LINK_HIGH_WATER_BYTES, LINK_LOW_WATER_BYTES } from './link.js';
import { AdaptiveSpin } from './ring/ring-spin.js';
import { createFramer, encodeFramesTs, type Framer } from './framing.js';

/** What a record link reports; `fds` are the descriptors that came with the record, now the handler's. */
export interface RecordLinkHandlers {
  onRecord(record: Uint8Array, fds: number[]): void;
  onClosed(error: Error | undefined): void;
}

/** A framed, ordered link to one peer process (fd-link.ts or stream-link.ts). */
export interface RecordLink {
  handlers: RecordLinkHandlers;
  /** Queue a record; `fds` (owned by the link from now on) travel with it, closed here once sent. */
  write(record: Uint8Array, fds?: readonly number[]): void;
  /** Send what is queued, then end the stream; resolves once the link is closed. */
  end(): Promise<void>;
  /** Close at once, dropping what is queued (a peer that broke the protocol). */
  destroy(error: Error): void;
  /** Flow control: over the high-water mark of bytes waiting to be sent (core/flow.ts). */
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
/** Descriptors received that no record has claimed yet, at most. */
const MAX_UNCLAIMED_FDS = MAX_ENVELOPE_FDS * 4;

interface Outgoing {
  bytes: Uint8Array;
  /** How many records it holds. */
  records: number;
  /** Sent with the first byte; emptied (and closed here) once that byte is out. */
  fds: number[];
}

export class FdLink implements RecordLink {
  private readonly addon: NativeAddon;
  private readonly watcher: FdWatcher;
  private readonly framer: Framer;
  private records: Uint8Array[] = [];
  private recordFds: (readonly number[] | undefined)[] = [];
  private anyFds = false;
  private readonly outgoing: Outgoing[] = [];
  private received: number[] = [];
  private flushQueued = false;
  private watchingWritable = false;
  private closed = false;
  private ending: (() => void) | null = null;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  private readonly flushBound = (): void => this.flush();
  private readonly spin: AdaptiveSpin | null;
  private spinQueued = false;
  /** When the link last went to sleep after a batch (0: not since the last event). */
  private sleptAt = 0;
  private readonly spinBound = (): void => this.spinNow();
  private readonly readOnceBound = (): boolean => this.readOnce();
  /** Bytes written and not yet accepted by the socket, with their frame headers. */
  private queuedBytes = 0;
  queuedRecords = 0;
  congested = false;
  onCongestion: ((congested: boolean) => void) | undefined = undefined;

  constructor(
    private readonly fd: number,
    maxFrameBytes: number,
    /** How many descriptors a complete record owns, or -1 when it is malformed. */
    private readonly countFds: (record: Uint8Array) => number,
    public handlers: RecordLinkHandlers,
    /** Longest poll after a batch before sleeping, in µs (0: never; see afterBatch). */
    spinUs = 0,
    /** Asked before each poll: false skips it (the machine has no core to spare for it, say). */
    private readonly mayPoll: () => boolean = () => true,
  ) {
    this.spin = spinUs > 0 ? new AdaptiveSpin(spinUs) : null;
    this.addon = requireNative('fd links');
    this.framer = createFramer(maxFrameBytes);
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    this.watcher = new this.addon.FdWatcher(fd, (status, events) => this.ready(status, events));
    this.watcher.start(this.addon.FdWatcher.READABLE);
  }

  write(record: Uint8Array, fds?: readonly number[]): void {
    if (this.closed || this.ending !== null) {
      if (fds !== undefined) closeAll(fds);
      return;
    }
    this.records.push(record);
    this.recordFds.push(fds);
    this.queuedBytes += record.length + 4;
    this.queuedRecords++;
    if (!this.congested && this.queuedBytes > LINK_HIGH_WATER_BYTES) {
      this.congested = true;
      this.onCongestion?.(true);
    }
    if (fds !== undefined && fds.length > 0) this.anyFds = true;
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
    const perRecord = this.recordFds;
    this.records = [];
    this.recordFds = [];
    if (!this.anyFds) {
      this.outgoing.push({ bytes: encodeFramesTs(records), fds: [], records: records.length });
    } else {
      this.anyFds = false;
      // One sendmsg carries at most MAX_ENVELOPE_FDS descriptors: cut the
      // batch at record boundaries where that would be exceeded.
      let start = 0;
      let fds: number[] = [];
      for (let i = 0; i < records.length; i++) {
        const own = perRecord[i] ?? [];
        if (fds.length + own.length > MAX_ENVELOPE_FDS) {
          this.outgoing.push({ bytes: encodeFramesTs(records.slice(start, i)), fds, records: i - start });
          start = i;
          fds = [];
        }
        fds.push(...own);
      }
      this.outgoing.push({ bytes: encodeFramesTs(records.slice(start)), fds, records: records.length - start });
    }
    this.pump();
  }

  /** Send until done or the socket is full (then wait for it to be writable). */
  private pump(): void {
    const outgoing = this.outgoing;
    while (outgoing.length > 0 && !this.closed) {
      const next = outgoing[0]!;
      let sent: number;
      try {
        sent = this.addon.sendFds(this.fd, next.bytes, next.fds);
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
      this.queuedBytes -= sent;
      if (sent < next.bytes.length) next.bytes = next.bytes.subarray(sent);
      else {
        outgoing.shift();
        this.queuedRecords -= next.records;
      }
    }
    this.watch(false);
    if (this.congested && this.queuedBytes < LINK_LOW_WATER_BYTES) this.uncongest();
    if (this.ending !== null && !this.closed) this.ending();
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
    if (this.sleptAt > 0) {
      this.spin!.slept((performance.now() - this.sleptAt) * 1000);
      this.sleptAt = 0;
    }
    if (status < 0) {
      this.finish(new Error(`poll failed on the link (libuv error ${status})`));
      return;
    }
    if ((events & this.addon.FdWatcher.WRITABLE) !== 0) this.pump();
    if ((events & (this.addon.FdWatcher.READABLE | this.addon.FdWatcher.DISCONNECT)) === 0) return;
    if (this.readOnce()) this.afterBatch();
  }

  /**
   * Records just came: the peer is likely to answer what we send back, so
   * once this turn's replies are out (microtasks run before immediates), poll
   * a little before going back to sleep. See ring-spin.ts for why and how long.
   */
  private afterBatch(): void {
    const spin = this.spin;
    if (spin === null || this.closed) return;
    if (spin.budgetUs > 0 && this.mayPoll()) {
      if (!this.spinQueued) {
        this.spinQueued = true;
        setImmediate(this.spinBound);
      }
    } else this.sleptAt = performance.now();
  }

  private spinNow(): void {
    this.spinQueued = false;
    if (this.closed) return;
    if (this.spin!.spinUntil(this.readOnceBound)) this.afterBatch();
    else this.sleptAt = performance.now();
  }

  /** One recvmsg and the records it completes; false when nothing came (or the link closed). */
  private readOnce(): boolean {
    if (this.closed) return false;
    let got;
    try {
      got = this.addon.recvFds(this.fd, READ_BYTES, MAX_ENVELOPE_FDS);
    } catch (error) {
      this.finish(error instanceof Error ? error : new Error(String(error)));
      return false;
    }
    if (got === null) return false;
    if (got.fds.length > 0) this.received.push(...got.fds);
    if (got.truncated) return this.broken('descriptors beyond the limit were sent');
    if (got.data.byteLength === 0) {
      if (got.fds.length === 0) this.finish(undefined);
      return !this.closed;
    }
    if (this.received.length > MAX_UNCLAIMED_FDS) return this.broken('descriptors that no record claims were sent');
    let records: Uint8Array[];
    try {
      records = this.framer.push(got.data);
    } catch (error) {
      this.finish(error instanceof Error ? error : new CodecError(String(error)));
      return false;
    }
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
    this.queuedBytes = 0;
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
