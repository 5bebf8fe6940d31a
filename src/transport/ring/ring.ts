/**
 * A single-producer single-consumer ring of variable-length byte records over
 * a SharedArrayBuffer, for links between worker threads: one thread calls
 * `createRing`, posts the buffer to the other once, and each side wraps it in
 * its half (`RingWriter` in the producing thread, `RingReader` in the
 * consuming one). A two-way link uses two rings.
 *
 * Design notes live with the code they explain: ring-layout.ts (the buffer and
 * record format), ring-writer.ts (memory ordering, batching, wake-up protocol,
 * backpressure, chunking), ring-reader.ts (scheduling, adaptive spin, views or
 * copies), ring-wait.ts (Atomics.waitAsync and the Node event loop).
 */
import {
  CAPACITY, HEADER_BYTES, MAGIC, MAGIC_VALUE, MAX_CAPACITY, MIN_CAPACITY, isPowerOfTwo,
} from './ring-layout.js';

export { RingWriter, type RingWriterOptions } from './ring-writer.js';
export { RingReader, type RingReaderOptions, type RecordsHandler } from './ring-reader.js';
export { HEADER_BYTES as RING_HEADER_BYTES } from './ring-layout.js';

/**
 * A new, empty ring with `capacityBytes` of record space: a power of two from
 * 64 bytes to 1 GiB. The buffer is `RING_HEADER_BYTES` larger. A record takes
 * its length rounded up to 4 plus a 4-byte header.
 */
export function createRing(capacityBytes: number): SharedArrayBuffer {
  if (!isPowerOfTwo(capacityBytes) || capacityBytes < MIN_CAPACITY || capacityBytes > MAX_CAPACITY) {
    throw new RangeError(
      `ring: capacity must be a power of two from ${MIN_CAPACITY} to ${MAX_CAPACITY} bytes, got ${capacityBytes}`);
  }
  const sab = new SharedArrayBuffer(HEADER_BYTES + capacityBytes);
  const ctl = new Int32Array(sab, 0, HEADER_BYTES / 4);
  Atomics.store(ctl, CAPACITY, capacityBytes);
  Atomics.store(ctl, MAGIC, MAGIC_VALUE);
  return sab;
}
