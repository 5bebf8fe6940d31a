/**
 * Large buffers kept for reuse. Touching new memory costs a page fault per
 * 4 KiB, about as much as copying into it: encoding a 16 MiB string into a
 * fresh buffer ran at ~0.9 GB/s here, into a reused one at ~4 GB/s. So the
 * links that move large records (bulk-port.ts between threads, fd-link.ts
 * between processes) take their buffers from a pool and give them back once
 * nothing refers to them any more. The pool is bounded (buffers and bytes),
 * dropping the largest beyond that, and a buffer is only ever reused for a
 * record of at most twice its size, so one large record does not pin a huge
 * buffer for small ones. A pool nothing has taken from for IDLE_MS lets go of
 * what it keeps: a burst of large messages does not hold its memory for the
 * life of the thread.
 */

/** New buffers are a little larger than asked (rounded to this), so a slightly larger record reuses them. */
const GRAIN = 64 * 1024;
/** Kept buffers are dropped after this long with no take. */
const IDLE_MS = 2000;

/** Every buffer a pool made: a record in one is the receiver's to give back (or pass on) once done. */
const made = new WeakSet<ArrayBuffer>();

/** Whether `buffer` came from a pool (its record may go back to the pool once nothing refers to it). */
export function isPooled(buffer: ArrayBufferLike): boolean {
  return made.has(buffer as ArrayBuffer);
}

export class BufferPool {
  /** Kept buffers by size (sizes are multiples of GRAIN), oldest first within a size. */
  private readonly bySize = new Map<number, ArrayBuffer[]>();
  private count = 0;
  private bytes = 0;
  private lastTaken = 0;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly idleCheckBound = (): void => this.idleCheck();

  constructor(
    private readonly maxBuffers: number,
    private readonly maxBytes: number,
  ) {}

  /** Bytes held for reuse. */
  get pooledBytes(): number {
    return this.bytes;
  }

  /** A buffer of at least `bytes`, from offset 0 of an ArrayBuffer of its own (not zeroed). */
  take(bytes: number): Uint8Array {
    this.lastTaken = Date.now();
    const size = Math.ceil((bytes + (bytes >> 3)) / GRAIN) * GRAIN;
    let best = 0;
    if (this.count > 0) {
      if (this.bySize.get(size)?.length) best = size;
      else {
        for (const [kept, list] of this.bySize) {
          if (list.length > 0 && kept >= bytes && kept <= 2 * size && (best === 0 || kept < best)) best = kept;
        }
      }
    }
    if (best > 0) {
      const buffer = this.bySize.get(best)!.pop()!;
      this.count--;
      this.bytes -= best;
      return new Uint8Array(buffer);
    }
    const buffer = Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
    made.add(buffer);
    return new Uint8Array(buffer, 0, size);
  }

  /** A buffer nothing refers to any more (never one still in use: it will be written over). */
  give(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    if (size === 0 || size > this.maxBytes) return; // detached, or too large to keep
    while (this.count >= this.maxBuffers || this.bytes + size > this.maxBytes) {
      if (!this.dropOne()) return;
    }
    let list = this.bySize.get(size);
    if (list === undefined) this.bySize.set(size, (list = []));
    list.push(buffer);
    made.add(buffer); // one handed back by another thread is a new object here
    this.count++;
    this.bytes += size;
    if (this.idleTimer === null) this.armIdle(IDLE_MS);
  }

  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(this.idleCheckBound, ms);
    this.idleTimer.unref?.();
  }

  private idleCheck(): void {
    this.idleTimer = null;
    if (this.count === 0) return;
    const idle = Date.now() - this.lastTaken;
    if (idle >= IDLE_MS) this.clear();
    else this.armIdle(IDLE_MS - idle);
  }

  clear(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.bySize.clear();
    this.count = 0;
    this.bytes = 0;
  }

  /** Drops a kept buffer of the largest size (the one least likely to be asked for again); false when none is kept. */
  private dropOne(): boolean {
    let largest = 0;
    for (const [size, list] of this.bySize) if (list.length > 0 && size > largest) largest = size;
    if (largest === 0) return false;
    this.bySize.get(largest)!.shift();
    this.count--;
    this.bytes -= largest;
    return true;
  }
}

/**
 * This thread's pool for records of process links (each thread has its own
 * module instance). A sender holds one buffer per large record queued on its
 * link until the socket takes it, so the pool must hold as many as a sender
 * keeps in flight: an actor answering a window of 32 credits with 1 MiB
 * messages queues 32 records in one turn. Kept to 4 buffers, every turn of
 * such a flow took ~28 fresh buffers (a page fault per 4 KiB written, and a
 * collection now and then for the external memory): the flow ran 25–35%
 * slower. The bound that matters is bytes; the idle release above gives them
 * back after a burst.
 */
export const largeBuffers = new BufferPool(256, 128 * 1024 * 1024);

/** Frames are assembled in pooled buffers from this size up (framing.ts TsFramer's allocator). */
export const POOLED_FRAME_BYTES = 64 * 1024;

/** A TsFramer allocator: large frames in pooled buffers of exactly their size (from offset 0), small ones fresh. */
export function frameBuffer(bytes: number): Uint8Array {
  return bytes >= POOLED_FRAME_BYTES ? largeBuffers.take(bytes).subarray(0, bytes) : new Uint8Array(bytes);
}

/** The buffer of a record read into a pooled buffer (to give back once the record is written out), else undefined. */
export function recycleOf(record: Uint8Array): ArrayBuffer | undefined {
  return made.has(record.buffer as ArrayBuffer) ? (record.buffer as ArrayBuffer) : undefined;
}

/** A received record is done with (decoded, and no view of it handed out): its pooled buffer is reused. */
export function doneWith(record: Uint8Array): void {
  if (made.has(record.buffer as ArrayBuffer)) largeBuffers.give(record.buffer as ArrayBuffer);
}
