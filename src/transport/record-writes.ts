/**
 * How a byte-stream link turns queued records into writes: each record goes
 * behind its 4-byte length (framing.ts), all of one turn's records in as few
 * sendmsg calls as possible, and large parts of them are never copied.
 *
 * A record is one buffer or several parts that travel in order as one record
 * (an envelope's head and its payload, see channel.ts). Small pieces (frame
 * headers, heads, small payloads) are copied side by side into one buffer,
 * which costs less than an iovec each; a part of COPY_MAX bytes or more is
 * handed to sendmsg as it is (an iovec of its own), so a megabyte payload
 * reaches the kernel with no copy in user space.
 *
 * Descriptors ride with the first byte of the sendmsg that carries their
 * record (fd-link.ts says why), and one sendmsg takes at most
 * MAX_ENVELOPE_FDS of them and IOV_MAX buffers: a write is cut at a record
 * boundary before either would be exceeded.
 */
import { MAX_ENVELOPE_FDS } from './envelope.js';
import { FRAME_HEADER_BYTES, MAX_FRAME_BYTES_LIMIT, writeFrameHeader } from './framing.js';

/** A record as links take it: one buffer, or parts that travel in order as one record. */
export type RecordBytes = Uint8Array | readonly Uint8Array[];

/** Parts at least this large go to sendmsg as they are. */
const COPY_MAX = 16 * 1024;
/** Buffers per sendmsg, kept under IOV_MAX (1024). */
const MAX_PARTS = 1000;

/** One sendmsg's worth: buffers in order, the descriptors of its records, and pooled buffers to give back once sent. */
export interface Write {
  parts: Uint8Array[];
  /** Index of the first part not fully sent. */
  first: number;
  fds: number[];
  recycle: ArrayBuffer[];
  /** How many records it carries. */
  records: number;
}

export function recordLength(record: RecordBytes): number {
  if (record instanceof Uint8Array) return record.byteLength;
  let length = 0;
  for (const part of record) length += part.byteLength;
  return length;
}

function partsOf(record: RecordBytes): readonly Uint8Array[] {
  return record instanceof Uint8Array ? [record] : record;
}

/** The writes for `records` (with their descriptors and pooled buffers, by index). */
export function planWrites(
  records: readonly RecordBytes[],
  fdsOf: readonly (readonly number[] | undefined)[],
  recycleOf: readonly (ArrayBuffer | undefined)[],
): Write[] {
  let small = 0;
  for (const record of records) {
    small += FRAME_HEADER_BYTES;
    for (const part of partsOf(record)) if (part.byteLength < COPY_MAX) small += part.byteLength;
  }
  const scratch = Buffer.allocUnsafe(small);
  let at = 0;
  let runStart = 0;
  let write: Write = { parts: [], first: 0, fds: [], recycle: [], records: 0 };
  const writes = [write];
  const endRun = (): void => {
    if (at > runStart) write.parts.push(scratch.subarray(runStart, at));
    runStart = at;
  };
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const own = fdsOf[i] ?? [];
    const parts = partsOf(record);
    if ((write.fds.length + own.length > MAX_ENVELOPE_FDS || write.parts.length + parts.length + 2 > MAX_PARTS) &&
        (write.parts.length > 0 || at > runStart)) {
      endRun();
      write = { parts: [], first: 0, fds: [], recycle: [], records: 0 };
      writes.push(write);
    }
    for (const fd of own) write.fds.push(fd);
    write.records++;
    const length = recordLength(record);
    if (length > MAX_FRAME_BYTES_LIMIT) throw new RangeError('a record is longer than 4294967295 bytes');
    writeFrameHeader(scratch, at, length);
    at += FRAME_HEADER_BYTES;
    for (const part of parts) {
      if (part.byteLength < COPY_MAX) {
        scratch.set(part, at);
        at += part.byteLength;
      } else {
        endRun();
        write.parts.push(part);
      }
    }
    const recycle = recycleOf[i];
    if (recycle !== undefined) write.recycle.push(recycle);
  }
  endRun();
  return writes;
}

/** Moves `write` past `sent` bytes; true once all of it is sent. */
export function advance(write: Write, sent: number): boolean {
  const parts = write.parts;
  while (write.first < parts.length) {
    const part = parts[write.first]!;
    if (sent < part.byteLength) {
      parts[write.first] = part.subarray(sent);
      return false;
    }
    sent -= part.byteLength;
    write.first++;
  }
  return true;
}

/** The parts of `write` still to send. */
export function unsent(write: Write): Uint8Array[] {
  return write.first === 0 ? write.parts : write.parts.slice(write.first);
}

/** The record as one buffer (a copy when it is in parts). */
export function joinRecord(record: RecordBytes): Uint8Array {
  return record instanceof Uint8Array ? record : Buffer.concat(record as Uint8Array[]);
}
