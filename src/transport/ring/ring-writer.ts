/**
 * The producing side of the byte ring (one writer per ring, in one thread).
 *
 * Publication. Records are copied into the data area with plain typed-array
 * stores and become visible to the reader only when the writer stores the new
 * write index with `Atomics.store`. Under the JS memory model (ECMA-262
 * "Memory Model") every Atomics operation is sequentially consistent, and a
 * seq-cst read that reads the value of a seq-cst write synchronizes with it;
 * happens-before is transitive through each thread's program order. So the
 * payload stores, which precede the index store in the writer's program order,
 * happen before every read the reader makes after its `Atomics.load` of the
 * index returned that value: those plain reads are race-free and see the
 * payload. The same argument in the other direction (the reader's plain reads
 * of a slot precede its store of the read index, which the writer loads before
 * reusing the slot) makes reuse safe. Nothing else needs a fence.
 *
 * The index is published per batch, not per record: when `publishBytes`
 * unpublished bytes have piled up, when a write finds the ring full, on
 * `flush()`, and (by default) once at the end of the current microtask
 * checkpoint through one coalesced `queueMicrotask`.
 *
 * Waking the reader. A reader about to sleep stores READER_SLEEPING = 1, then
 * loads the write index once more, then waits on the write index word with the
 * value it last saw. The writer stores the write index, then loads
 * READER_SLEEPING. With seq-cst operations at least one of the two sees the
 * other's store (the classic Dekker pair): either the reader sees the new
 * index and does not sleep, or the writer sees the flag and notifies. A notify
 * that lands before the reader's waitAsync is registered is not lost either:
 * waitAsync compares the word with the expected value atomically and returns
 * "not-equal" at once. The writer clears the flag with an exchange, so only
 * the first publish after the reader fell asleep pays for a notify.
 *
 * Backpressure. `write` is all-or-nothing and returns false when the ring is
 * full. `writeOrQueue` always accepts: what does not fit goes to an overflow
 * queue drained in order as the reader frees space. The writer waits for space
 * with the mirror image of the protocol above (WRITER_WAITING, a waitAsync on
 * the read index, the reader notifying after it publishes a new read index).
 *
 * Large records. `write` throws a RangeError for a record larger than
 * `maxRecordBytes` (capacity - 4): it could never fit. `writeOrQueue` sends
 * such a record as chunks flagged MORE, each at most a quarter of the ring so
 * writer and reader overlap; the reader reassembles and delivers it whole.
 */
import { KeepAlive, waitAsync } from './ring-wait.js';
import {
  END, MORE, PAD, READER_SLEEPING, READ_IDX, RECORD_HEADER_BYTES, WRITER_WAITING, WRITE_IDX,
  mapRing, recordSize,
} from './ring-layout.js';

export interface RingWriterOptions {
  /** Publish once at the end of the current microtask checkpoint after a write (default true). */
  autoFlush?: boolean;
  /** Publish as soon as this many bytes are written but unpublished (default min(capacity / 4, 8 KiB)). */
  publishBytes?: number;
}

/** A queued record and how many of its bytes are already in the ring (chunked records). */
interface Pending {
  readonly bytes: Uint8Array | null; // null: the end-of-stream marker
  sent: number;
}

/** Synchronous retries of a stuck drain before it yields to the event loop. */
const MAX_SYNC_RETRIES = 16;

export class RingWriter {
  readonly capacity: number;
  /** Largest record `write` accepts; `writeOrQueue` chunks larger ones. */
  readonly maxRecordBytes: number;

  private readonly ctl: Int32Array;
  private readonly data: Uint8Array;
  private readonly words: Int32Array;
  private readonly mask: number;
  private readonly chunkBytes: number;
  private readonly publishBytes: number;
  private readonly autoFlush: boolean;

  private w: number;            // local write index, ahead of the published one
  private published: number;    // last value stored to WRITE_IDX
  private readSeen: number;     // last read index loaded; free space is at least capacity - (w - readSeen)
  private flushQueued = false;

  private queue: Pending[] = [];
  private head = 0;
  private queuedBytesCount = 0;
  private waiting = false;      // a waitAsync on the read index or a retry is pending
  private gen = 0;              // bumped by close() so a stale wake-up does nothing
  private ended = false;
  private closed = false;
  private readonly drainWaiters: Array<() => void> = [];
  private readonly keepAlive = new KeepAlive();

  constructor(sab: SharedArrayBuffer, options: RingWriterOptions = {}) {
    const ring = mapRing(sab);
    this.ctl = ring.ctl;
    this.data = ring.data;
    this.words = ring.words;
    this.capacity = ring.capacity;
    this.mask = ring.capacity - 1;
    this.maxRecordBytes = ring.capacity - RECORD_HEADER_BYTES;
    this.chunkBytes = (ring.capacity >> 2) - RECORD_HEADER_BYTES;
    this.autoFlush = options.autoFlush ?? true;
    const publishBytes = options.publishBytes ?? Math.min(ring.capacity >> 2, 8192);
    if (!(publishBytes >= 1)) throw new RangeError('ring: publishBytes must be at least 1');
    this.publishBytes = publishBytes;
    this.w = this.published = Atomics.load(this.ctl, WRITE_IDX);
    this.readSeen = Atomics.load(this.ctl, READ_IDX);
  }

  /** Entries waiting in the overflow queue (a chunked record counts once, so does a pending end()). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Payload bytes of the records in the overflow queue, for upstream backpressure. */
  get queuedBytes(): number {
    return this.queuedBytesCount;
  }

  /**
   * Copy one record into the ring. Returns false, leaving no record written
   * (at most a PAD), when it does not fit now or when the overflow queue is not empty (a direct write
   * would overtake queued records). Throws a RangeError when `bytes` is longer
   * than `maxRecordBytes`, and an Error after `end()` or `close()`.
   */
  write(bytes: Uint8Array): boolean {
    this.checkOpen();
    const length = bytes.length;
    if (length > this.maxRecordBytes) {
      throw new RangeError(
        `ring: record of ${length} bytes exceeds maxRecordBytes (${this.maxRecordBytes}); ` +
        'use writeOrQueue to send it in chunks, or a larger ring');
    }
    if (this.head !== this.queue.length) return false;
    return this.put(bytes, 0, length, 0);
  }

  /**
   * Send one record, whatever the ring's state: written now when it fits and
   * nothing is queued, else queued and written in order as space frees up.
   * Records larger than `maxRecordBytes` travel in chunks and arrive whole.
   * Never loses a record short of `close()`; the queue is unbounded, so watch
   * `queuedBytes` if the producer can outrun the consumer for long. A queued
   * record is kept by reference, not copied: do not modify `bytes` afterwards.
   */
  writeOrQueue(bytes: Uint8Array): void {
    this.checkOpen();
    const length = bytes.length;
    if (this.head === this.queue.length && length <= this.maxRecordBytes &&
        this.put(bytes, 0, length, 0)) {
      return;
    }
    this.enqueue({ bytes, sent: 0 }, length);
  }

  /** Publish everything written so far and wake the reader if it sleeps. */
  flush(): void {
    const w = this.w;
    if (w === this.published) return;
    this.published = w;
    Atomics.store(this.ctl, WRITE_IDX, w);
    // The load (a plain mov on x86) spares the hot path the exchange (a locked instruction).
    if (Atomics.load(this.ctl, READER_SLEEPING) !== 0 &&
        Atomics.exchange(this.ctl, READER_SLEEPING, 0) !== 0) {
      Atomics.notify(this.ctl, WRITE_IDX);
    }
  }

  /** Resolves once the overflow queue is empty and everything is published. */
  drained(): Promise<void> {
    if (this.head === this.queue.length || this.closed) {
      this.flush();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * End the stream: after every queued record, an end marker goes into the
   * ring; the reader delivers what precedes it, calls its `onEnd` and stops.
   * Later writes throw.
   */
  end(): void {
    if (this.ended || this.closed) return;
    this.ended = true;
    this.enqueue({ bytes: null, sent: 0 }, 0);
  }

  /**
   * Give up: drop the overflow queue (returns how many records were dropped),
   * stop waiting for space and release the thread. What is already in the ring
   * stays there for the reader. Later writes throw.
   */
  close(): number {
    if (this.closed) return 0;
    this.flush();
    const dropped = this.queue.length - this.head;
    this.closed = true;
    this.gen++;
    this.queue = [];
    this.head = 0;
    this.queuedBytesCount = 0;
    this.keepAlive.release();
    if (this.waiting) {
      // Resolve our own pending waitAsync so nothing dangles; only the writer
      // ever waits on the read index word.
      Atomics.notify(this.ctl, READ_IDX);
    }
    this.settleDrainWaiters();
    return dropped;
  }

  /** Let the thread exit while records are queued (like MessagePort.unref). */
  unref(): void {
    this.keepAlive.unref();
  }

  ref(): void {
    this.keepAlive.ref();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('ring: writer is closed');
    if (this.ended) throw new Error('ring: writer has ended');
  }

  /**
   * Copy `length` bytes of `src` from `start` as one record with header flags
   * `flags`; all or nothing. A PAD written to reach offset 0 may stay even when
   * the record then does not fit: it is valid on its own and is what lets a
   * record nearly as large as the ring ever fit.
   */
  private put(src: Uint8Array, start: number, length: number, flags: number): boolean {
    const size = recordSize(length);
    let off = this.w & this.mask;
    const toEnd = this.capacity - off;
    if (size > toEnd) {
      if (!this.reserve(toEnd)) return false;
      this.words[off >> 2] = PAD;
      this.w = (this.w + toEnd) | 0;
      off = 0;
    }
    if (!this.reserve(size)) return false;
    this.words[off >> 2] = length | flags;
    if (length !== 0) {
      this.data.set(start === 0 && length === src.length ? src : src.subarray(start, start + length),
        off + RECORD_HEADER_BYTES);
    }
    this.w = (this.w + size) | 0;
    this.written();
    return true;
  }

  /** True when `size` bytes are free at the write index; publishes when they are not. */
  private reserve(size: number): boolean {
    if (this.capacity - ((this.w - this.readSeen) | 0) >= size) return true;
    this.readSeen = Atomics.load(this.ctl, READ_IDX);
    if (this.capacity - ((this.w - this.readSeen) | 0) >= size) return true;
    this.flush(); // the reader can only free space for what it can see
    return false;
  }

  private written(): void {
    if (((this.w - this.published) | 0) >= this.publishBytes) {
      this.flush();
    } else if (this.autoFlush && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.autoFlushTask);
    }
  }

  private readonly autoFlushTask = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  private enqueue(entry: Pending, length: number): void {
    this.queue.push(entry);
    this.queuedBytesCount += length;
    if (!this.waiting) this.drain();
  }

  /** Move queued records into the ring; true when the queue is empty. */
  private pump(): boolean {
    const queue = this.queue;
    while (this.head < queue.length) {
      const entry = queue[this.head]!;
      const bytes = entry.bytes;
      if (bytes === null) {
        if (!this.reserve(RECORD_HEADER_BYTES)) return false;
        // An END header always fits before the end: offsets are multiples of 4.
        this.words[(this.w & this.mask) >> 2] = END;
        this.w = (this.w + RECORD_HEADER_BYTES) | 0;
        this.flush();
      } else if (bytes.length <= this.maxRecordBytes) {
        if (!this.put(bytes, 0, bytes.length, 0)) return false;
      } else {
        while (entry.sent < bytes.length) {
          const n = Math.min(bytes.length - entry.sent, this.chunkBytes);
          const last = entry.sent + n === bytes.length;
          if (!this.put(bytes, entry.sent, n, last ? 0 : MORE)) return false;
          entry.sent += n;
        }
      }
      this.queuedBytesCount -= bytes === null ? 0 : bytes.length;
      this.head++;
      // Drop consumed entries now and then so a long backlog does not pin memory.
      if (this.head >= 1024 && this.head * 2 >= queue.length) {
        queue.splice(0, this.head);
        this.head = 0;
      }
    }
    return true;
  }

  private drain(): void {
    for (let tries = 0; ; tries++) {
      if (this.pump()) {
        this.queue = [];
        this.head = 0;
        Atomics.store(this.ctl, WRITER_WAITING, 0);
        this.keepAlive.release();
        this.flush();
        this.settleDrainWaiters();
        return;
      }
      // Stuck (pump published what it had). Announce, then look again: the
      // reader may have freed space between our failed reserve and the store.
      this.keepAlive.hold();
      Atomics.store(this.ctl, WRITER_WAITING, 1);
      const r = Atomics.load(this.ctl, READ_IDX);
      const gen = this.gen;
      if (r === this.readSeen) {
        const result = waitAsync(this.ctl, READ_IDX, r);
        if (result.async) {
          this.waiting = true;
          void result.value.then(() => this.woke(gen));
          return;
        }
        // "not-equal": the reader moved since our load.
      }
      if (tries < MAX_SYNC_RETRIES) continue;
      // The reader keeps moving but frees too little at a time: let the loop breathe.
      this.waiting = true;
      setImmediate(() => this.woke(gen));
      return;
    }
  }

  private woke(gen: number): void {
    if (gen !== this.gen) return;
    this.waiting = false;
    this.drain();
  }

  private settleDrainWaiters(): void {
    const waiters = this.drainWaiters.splice(0);
    for (const resolve of waiters) resolve();
  }
}
