/**
 * Shared layout of the byte ring: where the indices and flags live in the
 * SharedArrayBuffer and how a record is framed. Writer and reader both build on
 * this file and on nothing else, so the two sides cannot disagree.
 *
 * Buffer: [ header: 3 lines of 128 bytes ][ data: capacity bytes ]
 *
 *   line 0 (constant)     MAGIC, CAPACITY
 *   line 1 (writer-owned) WRITE_IDX, WRITER_WAITING
 *   line 2 (reader-owned) READ_IDX, READER_SLEEPING
 *
 * Each side writes only its own line, so the hot stores of one thread never
 * invalidate the cache line the other thread is storing to (no false sharing).
 * 128 rather than 64 bytes because x86 prefetches cache lines in pairs.
 *
 * Indices are free-running byte counters kept as int32 and allowed to wrap at
 * 2^32: `(w - r) | 0` is the number of used bytes and `idx & (capacity - 1)`
 * the offset in the data area. Both hold across the 2^32 wrap because the
 * capacity is a power of two no larger than 2^30.
 *
 * Data area: a sequence of records, each a 4-byte header (int32, native byte
 * order: both sides are threads of one process) followed by the payload,
 * padded to a multiple of 4 so the next header is aligned. A record never
 * straddles the end of the data area: when it would, the writer puts a PAD
 * header at the current offset, meaning "the rest up to the end is unused,
 * continue at offset 0".
 *
 * Header values:
 *   >= 0  a record; bits 0..29 are the payload length, bit 30 (MORE) says the
 *         payload is a chunk and further chunks of the same record follow
 *   PAD   (-1) skip to the end of the data area
 *   END   (-2) the writer has ended the stream; nothing follows
 */

/** Int32 slots per 128-byte line. */
const LINE = 32;

export const MAGIC = 0;
export const CAPACITY = 1;
export const WRITE_IDX = LINE;
export const WRITER_WAITING = LINE + 1;
export const READ_IDX = 2 * LINE;
export const READER_SLEEPING = 2 * LINE + 1;

export const HEADER_BYTES = 3 * LINE * 4;
export const MAGIC_VALUE = 0x74_68_72_31; // "thr1"

export const RECORD_HEADER_BYTES = 4;
export const PAD = -1;
export const END = -2;
export const MORE = 1 << 30;
export const LENGTH_MASK = MORE - 1;

export const MIN_CAPACITY = 64;
export const MAX_CAPACITY = 1 << 30;

/** Bytes a record with `length` payload bytes takes in the data area. */
export function recordSize(length: number): number {
  return RECORD_HEADER_BYTES + ((length + 3) & ~3);
}

/** The views both sides use over one ring buffer. */
export interface RingViews {
  readonly ctl: Int32Array;
  readonly data: Uint8Array;
  /** The data area as int32, for record headers (offsets are multiples of 4). */
  readonly words: Int32Array;
  readonly capacity: number;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Validate a buffer made by `createRing` and map it. */
export function mapRing(sab: SharedArrayBuffer): RingViews {
  if (!(sab instanceof SharedArrayBuffer)) {
    throw new TypeError('ring: expected a SharedArrayBuffer made by createRing()');
  }
  if (sab.byteLength < HEADER_BYTES + MIN_CAPACITY) {
    throw new TypeError(`ring: buffer of ${sab.byteLength} bytes is too small to be a ring`);
  }
  const ctl = new Int32Array(sab, 0, HEADER_BYTES / 4);
  const capacity = Atomics.load(ctl, CAPACITY);
  if (Atomics.load(ctl, MAGIC) !== MAGIC_VALUE || !isPowerOfTwo(capacity) ||
      sab.byteLength !== HEADER_BYTES + capacity) {
    throw new TypeError('ring: buffer was not made by createRing()');
  }
  return {
    ctl,
    data: new Uint8Array(sab, HEADER_BYTES, capacity),
    words: new Int32Array(sab, HEADER_BYTES, capacity / 4),
    capacity,
  };
}
