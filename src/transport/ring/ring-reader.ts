/**
 * The consuming side of the byte ring (one reader per ring, in one thread).
 *
 * Scheduling. The reader is a small state machine driven by the thread's event
 * loop, never a blocking loop, so the thread keeps serving timers, ports and
 * its own writers:
 *
 *   poll ── data ──> consume: take the published records (up to maxBatchBytes
 *    │                        of ring), call onRecords once with the batch,
 *    │                        then poll again via setImmediate (so microtasks
 *    │                        queued by the callback, e.g. a writer's
 *    │                        auto-flush of a reply, run first, and the
 *    │                        thread's other macrotasks get their turn)
 *    └── none ──> spin (only right after a batch) ── data ──> consume
 *                  └── none ──> sleep: Atomics.waitAsync on the write index
 *                                       ── woken ──> poll
 *
 * Spinning. Right after a batch the reader polls the write index for a
 * while before sleeping, because waking a sleeping thread costs tens of
 * microseconds; ring-spin.ts decides for how long (adaptively, down to not at
 * all).
 *
 * Sleeping. See ring-writer.ts for the READER_SLEEPING / write-index protocol
 * that makes a lost wake-up impossible, and ring-wait.ts for why a
 * started reader holds a timer (a pending waitAsync does not keep a Node 20
 * thread alive). `stop()` notifies the write-index word itself, which resolves
 * the pending waitAsync at once: nothing of the reader outlives stop().
 *
 * Records. With `copy: true` (the default) each batch is copied out of the
 * ring into one private ArrayBuffer (one or two memcpy's), the read index is
 * published before the callback runs, and the records are views of that
 * buffer: safe to keep (keeping one keeps its batch's buffer alive). With
 * `copy: false` the records are views into the shared ring, valid only until
 * onRecords returns (the writer reuses the space after that); the read index
 * is published after it returns. Views save the copy and the allocation:
 * measured ~1.3x the records/s of copies for 32-byte records. Chunked records
 * (see ring-writer.ts) are always delivered as fresh copies.
 *
 * An exception thrown by onRecords is not caught: it propagates as an uncaught
 * exception of the thread. The batch counts as delivered and the reader keeps
 * running unless the thread dies.
 */
import { AdaptiveSpin } from './ring-spin.js';
import { KeepAlive, waitAsync } from './ring-wait.js';
import {
  END, LENGTH_MASK, MORE, PAD, READER_SLEEPING, READ_IDX, RECORD_HEADER_BYTES, WRITER_WAITING,
  WRITE_IDX, mapRing, recordSize,
} from './ring-layout.js';

export type RecordsHandler = (records: Uint8Array[]) => void;

export interface RingReaderOptions {
  /** Copy each batch out of the ring (default true); false hands out views valid during the callback. */
  copy?: boolean;
  /** Longest spin, in microseconds, before sleeping after a batch (default 50; 0 never spins). */
  maxSpinUs?: number;
  /**
   * Bytes of ring taken per onRecords call, at most (default a quarter of the
   * capacity); a record larger than this still comes whole, as a batch of one.
   */
  maxBatchBytes?: number;
  /**
   * Records per onRecords call, at most (default: no limit but the bytes).
   * For rings whose records stand for data elsewhere (a thread link's
   * markers for transferred records), where bytes of ring say little.
   */
  maxBatchRecords?: number;
}

export class RingReader {
  readonly capacity: number;

  private readonly ctl: Int32Array;
  private readonly data: Uint8Array;
  private readonly words: Int32Array;
  private readonly mask: number;
  private readonly copy: boolean;
  private readonly spin: AdaptiveSpin;
  private readonly maxBatchBytes: number;
  private readonly maxBatchRecords: number;

  private r: number;                        // read index, always equal to the published one
  private onRecords: RecordsHandler | undefined;
  private onEnd: (() => void) | undefined;
  private running = false;
  private ended = false;
  private gen = 0;                          // bumped by stop() so stale wake-ups do nothing
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private afterBatch = false;               // the next poll directly follows a batch: may spin
  private sleeping = false;
  private sleptAt = 0;
  private partial: Uint8Array[] | null = null;  // chunks of a record still being received
  private partialBytes = 0;
  private readonly keepAlive = new KeepAlive();

  constructor(sab: SharedArrayBuffer, options: RingReaderOptions = {}) {
    const ring = mapRing(sab);
    this.ctl = ring.ctl;
    this.data = ring.data;
    this.words = ring.words;
    this.capacity = ring.capacity;
    this.mask = ring.capacity - 1;
    this.copy = options.copy ?? true;
    const maxSpinUs = options.maxSpinUs ?? 50;
    if (!(maxSpinUs >= 0)) throw new RangeError('ring: maxSpinUs must be >= 0');
    this.spin = new AdaptiveSpin(maxSpinUs);
    const maxBatchBytes = options.maxBatchBytes ?? ring.capacity >> 2;
    if (!(maxBatchBytes >= 1)) throw new RangeError('ring: maxBatchBytes must be >= 1');
    this.maxBatchBytes = maxBatchBytes;
    const maxBatchRecords = options.maxBatchRecords ?? Infinity;
    if (!(maxBatchRecords >= 1)) throw new RangeError('ring: maxBatchRecords must be >= 1');
    this.maxBatchRecords = maxBatchRecords;
    this.r = Atomics.load(this.ctl, READ_IDX);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Deliver records, in order and each once, in batches to `onRecords`, from
   * the next turn of the event loop until `stop()`. `onEnd` runs once the
   * writer's `end()` marker is reached (after the records before it); the
   * reader is then stopped. While started the reader keeps its thread alive
   * (see `unref`).
   */
  start(onRecords: RecordsHandler, onEnd?: () => void): void {
    if (this.running) throw new Error('ring: reader already started');
    if (this.ended) throw new Error('ring: the writer has ended this ring');
    this.onRecords = onRecords;
    this.onEnd = onEnd;
    this.running = true;
    this.gen++;
    this.keepAlive.hold();
    this.afterBatch = false;
    this.immediate = setImmediate(this.poll);
  }

  /**
   * Stop delivering and release the thread: no timer, immediate or pending
   * waitAsync of the reader survives this call. Records not yet delivered stay
   * in the ring for a later `start()`. Safe to call from inside onRecords.
   */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.gen++;
    if (this.immediate !== undefined) {
      clearImmediate(this.immediate);
      this.immediate = undefined;
    }
    this.keepAlive.release();
    if (this.sleeping) {
      this.sleeping = false;
      Atomics.store(this.ctl, READER_SLEEPING, 0);
      // Resolves our own pending waitAsync; only the reader waits on this word.
      Atomics.notify(this.ctl, WRITE_IDX);
    }
    this.onRecords = undefined;
    this.onEnd = undefined;
  }

  /** Let the thread exit while the reader waits (like MessagePort.unref). */
  unref(): void {
    this.keepAlive.unref();
  }

  ref(): void {
    this.keepAlive.ref();
  }

  private readonly poll = (): void => {
    this.immediate = undefined;
    if (!this.running) return;
    let w = Atomics.load(this.ctl, WRITE_IDX);
    if (w === this.r && this.afterBatch && this.spin.budgetUs > 0) {
      w = this.spin.spinWhileEqual(this.ctl, WRITE_IDX, w);
    }
    this.afterBatch = false;
    if (w !== this.r) this.consume(w);
    else this.sleep();
  };

  private sleep(): void {
    Atomics.store(this.ctl, READER_SLEEPING, 1);
    // Look once more after announcing: the writer may have published between
    // our last load and the store above without seeing the flag.
    const w = Atomics.load(this.ctl, WRITE_IDX);
    if (w !== this.r) {
      Atomics.store(this.ctl, READER_SLEEPING, 0);
      this.consume(w);
      return;
    }
    const result = waitAsync(this.ctl, WRITE_IDX, w);
    if (!result.async) {
      Atomics.store(this.ctl, READER_SLEEPING, 0);
      this.immediate = setImmediate(this.poll);
      return;
    }
    this.sleeping = true;
    this.sleptAt = performance.now();
    const gen = this.gen;
    void result.value.then(() => this.woke(gen));
  }

  private woke(gen: number): void {
    if (gen !== this.gen) return;
    this.sleeping = false;
    // Normally the writer cleared it already with its exchange.
    Atomics.store(this.ctl, READER_SLEEPING, 0);
    this.spin.slept((performance.now() - this.sleptAt) * 1000);
    // We run in a promise reaction, where a throw would become a rejection of
    // a promise nobody holds; rethrow it as the uncaught exception it is.
    // (A setImmediate hop would do too, at the cost of a loop turn per wake.)
    try {
      this.poll();
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  /** Deliver every record published up to write index `w`. */
  private consume(w: number): void {
    const start = this.r;
    const avail = (w - start) | 0;
    if (avail < 0 || avail > this.capacity || (avail & 3) !== 0) {
      this.corrupt(`indices (read ${start}, write ${w})`);
    }
    const off = start & this.mask;
    const records: Uint8Array[] = [];
    // A bounded batch lets the writer refill the rest of the ring meanwhile
    // instead of waiting for all of it to be processed.
    const limit = this.maxBatchBytes;
    let end: number;
    if (this.copy) {
      const taken = this.boundary(off, avail, limit);
      const first = Math.min(taken, this.capacity - off);
      let batch: Uint8Array;
      if (first === taken) {
        batch = this.data.slice(off, off + taken); // slice copies into a private ArrayBuffer
      } else {
        batch = new Uint8Array(taken);
        batch.set(this.data.subarray(off));
        batch.set(this.data.subarray(0, taken - first), first);
      }
      end = (start + taken) | 0;
      this.release(end); // the bytes are ours now: give the space back before the callback
      this.parse(batch, new Int32Array(batch.buffer), true, off, taken, taken, records);
    } else {
      const taken = this.parse(this.data, this.words, false, off, avail, limit, records);
      end = (start + taken) | 0;
    }
    const ended = this.ended;
    if (!ended) {
      // Scheduled before the callback so a throw cannot stall the reader;
      // a stop() inside the callback cancels it.
      this.afterBatch = true;
      this.immediate = setImmediate(this.poll);
    }
    const onRecords = this.onRecords!;
    const onEnd = this.onEnd;
    try {
      if (records.length !== 0) onRecords(records);
    } finally {
      if (!this.copy) this.release(end);
      if (ended) {
        this.stop();
        onEnd?.();
      }
    }
  }

  /**
   * Split up to `avail` bytes of records into `records`, stopping at the first
   * record boundary at or past `limit` bytes; returns the bytes taken. `src` /
   * `srcWords` is the ring itself (`linear` false: positions are ring offsets
   * and wrap at the capacity) or a linear copy starting at ring offset
   * `ringOff` (`linear` true). Sets `ended` at the end marker.
   */
  private parse(src: Uint8Array, srcWords: Int32Array, linear: boolean, ringOff: number,
                avail: number, limit: number, records: Uint8Array[]): number {
    const cap = this.capacity;
    const buffer = src.buffer;
    const base = src.byteOffset;
    const total = avail;
    let pos = linear ? 0 : ringOff;
    let count = 0;
    while (avail > 0 && total - avail < limit && count < this.maxBatchRecords) {
      const header = srcWords[pos >> 2]!;
      if (header === PAD) {
        const skip = cap - ringOff;
        avail -= skip;
        ringOff = 0;
        pos = linear ? pos + skip : 0;
        continue;
      }
      if (header === END) {
        this.ended = true;
        return total - avail + RECORD_HEADER_BYTES;
      }
      const length = header & LENGTH_MASK;
      const size = recordSize(length);
      if (header < 0 || size > avail || ringOff + size > cap) {
        this.corrupt(`record header ${header} at offset ${ringOff}`);
      }
      // The constructor is markedly cheaper than subarray() (no species lookup).
      const payload = new Uint8Array(buffer, base + pos + RECORD_HEADER_BYTES, length);
      if ((header & MORE) !== 0) {
        (this.partial ??= []).push(linear ? payload : payload.slice());
        this.partialBytes += length;
      } else if (this.partial !== null) {
        records.push(this.assemble(payload));
      } else {
        records.push(payload);
      }
      avail -= size;
      ringOff = (ringOff + size) & this.mask;
      pos = linear ? pos + size : ringOff;
      count++;
    }
    return total - avail;
  }

  /** Bytes from ring offset `off` up to the first record boundary at or past `limit` (or `avail`). */
  private boundary(off: number, avail: number, limit: number): number {
    const words = this.words;
    let taken = 0;
    let count = 0;
    while (taken < avail && taken < limit && count < this.maxBatchRecords) {
      const header = words[off >> 2]!;
      const size = header === PAD ? this.capacity - off
        : header === END ? avail - taken // the end marker is the last thing in the ring
        : recordSize(header & LENGTH_MASK);
      if (header !== PAD) count++;
      taken += size;
      off = (off + size) & this.mask;
    }
    // A corrupt header shows as an overshoot here and is reported by parse().
    return Math.min(taken, avail);
  }

  private assemble(last: Uint8Array): Uint8Array {
    const whole = new Uint8Array(this.partialBytes + last.length);
    let at = 0;
    for (const part of this.partial!) {
      whole.set(part, at);
      at += part.length;
    }
    whole.set(last, at);
    this.partial = null;
    this.partialBytes = 0;
    return whole;
  }

  /** Only a bug or a foreign write into the buffer gets here: stop for good. */
  private corrupt(what: string): never {
    this.stop();
    this.ended = true;
    throw new Error(`ring: corrupt ${what}`);
  }

  /** Publish the read index and wake the writer if it waits for space. */
  private release(r: number): void {
    this.r = r;
    Atomics.store(this.ctl, READ_IDX, r);
    if (Atomics.load(this.ctl, WRITER_WAITING) !== 0 &&
        Atomics.exchange(this.ctl, WRITER_WAITING, 0) !== 0) {
      Atomics.notify(this.ctl, READ_IDX);
    }
  }
}
