/**
 * A CBOR writer over a slab, for the values the fast batch writer handles
 * (fast-batch.ts): heads, primitives, strings and bytes, each at memory speed.
 *
 * Strings. Short ones are written by a loop (cheaper than a call out of JS
 * for a few characters). Longer ones by `TextEncoder.encodeInto`, which
 * copies ASCII with SIMD; `encodeInto` into exactly `length` bytes tells
 * ASCII apart at no extra cost: it fills them all only when every character
 * took one byte. A string of LATIN1_MIN_CHARS or more whose characters are
 * all Latin-1 (U+0000-U+00FF) is written as LATIN1_TAG over a byte string,
 * one byte a character: the reader turns it into a string with a plain copy
 * (Buffer latin1Slice, ~2-3x faster than UTF-8 decoding, measured here on
 * 1-16 MiB strings), and the writer makes it with one (Buffer latin1Write,
 * ~10 GB/s here against ~5 for encodeInto; encoding was a third of a sending
 * process's time with 16 MiB strings). Which strings: NOT_LATIN1 finds none
 * in a one-byte V8 string without reading it (irregexp compiles the class
 * away for one-byte subjects); in a two-byte one it reads up to the first
 * character past U+00FF, so only a long Latin-1 prefix costs a scan. Other
 * text is measured once (Buffer.byteLength) and written as CBOR text.
 *
 * Bytes. Uint8Array (Buffer too), ArrayBuffer and DataView are written as
 * BYTES_TAG over a byte string: one copy, and the reader gets a Uint8Array
 * (as from the general codec).
 *
 * Bulk buffers. A record that grows to BULK_RECORD_BYTES with a string or
 * bytes of BULK_VALUE_BYTES or more does not stay in the slab shared by small records: it moves to a
 * buffer of its own from the link's `BulkBuffers` (a thread link transfers it
 * to the peer, which hands it back for reuse; a process link writes it out
 * without a copy and reuses it), and the writer returns to its slab for the
 * next record. Small records (a batch of small messages) stay in the slab.
 */
import { BYTES_TAG, LATIN1_TAG } from './cbor-limits.js';

export const SLAB_BYTES = 256 * 1024;
/** A record that reaches this size with a large string or bytes goes to a bulk buffer (when the writer has a source of them). */
export const BULK_RECORD_BYTES = 16 * 1024;
/**
 * Only a value at least this large moves a record to a bulk buffer: a batch
 * of small messages stays in the slab whatever its total (it goes through
 * the ring, whose backlog flow control sees; a bulk record bypasses it).
 */
const BULK_VALUE_BYTES = 4 * 1024;
/** Bulk buffers are taken at least this large: room for the rest of a batch (fast-batch.ts cuts at 256 KiB). */
const MIN_BULK_BYTES = 320 * 1024;
/** Strings shorter than this are written by a JS loop. */
const LOOP_MAX_CHARS = 64;
/** Latin-1 strings this long travel as Latin-1 bytes (LATIN1_TAG). */
export const LATIN1_MIN_CHARS = 1024;

const textEncoder = new TextEncoder();
/** A character a Latin-1 byte cannot hold. */
const NOT_LATIN1 = /[^\u0000-\u00ff]/;
// Buffer's Latin-1 writer, on any Uint8Array (untyped in @types/node as a method of Uint8Array).
const latin1Write = (Buffer.prototype as unknown as { latin1Write(this: Uint8Array, text: string, offset: number, length: number): number }).latin1Write;

/** Where large records are written: buffers a link can hand over whole. */
export interface BulkBuffers {
  /** A buffer of at least `bytes` bytes over an ArrayBuffer of its own, from offset 0. */
  take(bytes: number): Uint8Array;
}

/** Thrown inside a value write when the frame cannot fit the limit whatever else it holds. */
export class ValueTooLarge {
  constructor(readonly atLeast: number) {}
}

/** The bytes of a bytes-like value, or null for anything else. */
export function bytesOf(value: object): Uint8Array | null {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (value instanceof DataView) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return null;
}

export class CborWriter {
  protected slab: Uint8Array = new Uint8Array(SLAB_BYTES);
  protected view: DataView = new DataView(this.slab.buffer);
  protected pos = 0;
  /** Where the record being written starts. */
  protected start = 0;
  /** The record being written is in a bulk buffer (`small` holds the slab to return to). */
  protected bulk = false;
  private small: { slab: Uint8Array; start: number } | null = null;

  constructor(
    private readonly bulkBuffers: BulkBuffers | null,
    /** Largest record; a value longer than this alone cannot fit. */
    protected readonly maxBytes: number,
  ) {}

  /** The finished record (a view that stays valid), and the writer ready for the next. */
  protected takeRecord(): Uint8Array {
    const record = this.slab.subarray(this.start, this.pos);
    if (this.bulk) {
      const small = this.small!;
      this.small = null;
      this.bulk = false;
      this.useSlab(small.slab, small.start);
    } else {
      this.start = this.pos;
      if (this.slab.length - this.pos < SLAB_BYTES / 8) this.moveTo(new Uint8Array(SLAB_BYTES), 0);
    }
    return record;
  }

  /** Forget what was written since `at` (a position in the current record). */
  protected rewind(at: number): void {
    this.pos = at;
  }

  protected text(value: string): void {
    const n = value.length;
    if (n < LOOP_MAX_CHARS) {
      // Room for the head and one byte per character; fall back at the first non-ASCII one.
      this.ensure(n + 9);
      const at = this.pos;
      this.head(3, n);
      const slab = this.slab;
      let p = this.pos;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) {
          this.pos = at;
          return this.utf8(value);
        }
        slab[p++] = c;
      }
      this.pos = p;
      return;
    }
    if (n > this.maxBytes) throw new ValueTooLarge(n);
    if (n >= LATIN1_MIN_CHARS) {
      if (NOT_LATIN1.test(value)) return this.utf8(value);
      this.room(n + 8);
      const at = this.pos;
      // A fixed-width head (CBOR allows a longer head than needed), then the bytes in place.
      this.slab[at] = 0xd9;
      this.view.setUint16(at + 1, LATIN1_TAG);
      this.slab[at + 3] = 0x5a;
      this.view.setUint32(at + 4, n);
      latin1Write.call(this.slab, value, at + 8, n);
      this.pos = at + 8 + n;
      return;
    }
    const headBytes = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    this.room(n + headBytes);
    const into = this.pos + headBytes;
    const { read, written } = textEncoder.encodeInto(value, this.slab.subarray(into, into + n));
    if (read !== n || written !== n) return this.utf8(value);
    this.head(3, n);
    this.pos = into + n;
  }

  /** Text with characters beyond ASCII: measured, then written once. */
  private utf8(value: string): void {
    const length = value.length < LOOP_MAX_CHARS ? value.length * 3 : Buffer.byteLength(value, 'utf8');
    if (length > this.maxBytes && value.length >= LOOP_MAX_CHARS) throw new ValueTooLarge(length);
    this.room(length + 5);
    if (value.length < LOOP_MAX_CHARS) {
      // At most 189 bytes: write after the widest head it can need, then close the gap.
      const at = this.pos;
      const { written } = textEncoder.encodeInto(value, this.slab.subarray(at + 2));
      this.head(3, written);
      if (this.pos !== at + 2) this.slab.copyWithin(this.pos, at + 2, at + 2 + written);
      this.pos += written;
      return;
    }
    this.head(3, length);
    const { written } = textEncoder.encodeInto(value, this.slab.subarray(this.pos, this.pos + length));
    this.pos += written;
  }

  protected bytes(value: Uint8Array): void {
    const n = value.byteLength;
    if (n > this.maxBytes) throw new ValueTooLarge(n);
    this.room(n + 8);
    const slab = this.slab;
    slab[this.pos] = 0xd9;
    this.view.setUint16(this.pos + 1, BYTES_TAG);
    this.pos += 3;
    this.head(2, n);
    slab.set(value, this.pos);
    this.pos += n;
  }

  protected byte(value: number): void {
    this.ensure(1);
    this.slab[this.pos++] = value;
  }

  protected float64(value: number): void {
    this.ensure(9);
    this.slab[this.pos] = 0xfb;
    this.view.setFloat64(this.pos + 1, value);
    this.pos += 9;
  }

  /** A CBOR head: major type and argument (an unsigned integer below 2^32, or a length). */
  protected head(major: number, value: number): void {
    this.ensure(9);
    const slab = this.slab;
    const type = major << 5;
    if (value < 24) slab[this.pos++] = type | value;
    else if (value < 0x100) {
      slab[this.pos++] = type | 24;
      slab[this.pos++] = value;
    } else if (value < 0x10000) {
      slab[this.pos++] = type | 25;
      this.view.setUint16(this.pos, value);
      this.pos += 2;
    } else if (value < 0x100000000) {
      slab[this.pos++] = type | 26;
      this.view.setUint32(this.pos, value);
      this.pos += 4;
    } else {
      slab[this.pos++] = type | 27;
      this.view.setUint32(this.pos, Math.floor(value / 0x100000000));
      this.view.setUint32(this.pos + 4, value >>> 0);
      this.pos += 8;
    }
  }

  protected ensure(bytes: number): void {
    if (this.pos + bytes > this.slab.length) this.grow(bytes);
  }

  /** Room for a string or bytes of `bytes`: a record that gets large with it moves to a bulk buffer. */
  private room(bytes: number): void {
    if (!this.bulk && this.bulkBuffers !== null && bytes >= BULK_VALUE_BYTES && this.pos - this.start + bytes >= BULK_RECORD_BYTES) {
      this.small = { slab: this.slab, start: this.start };
      this.bulk = true;
      this.moveTo(this.bulkBuffers.take(Math.max(MIN_BULK_BYTES, this.pos - this.start + bytes + 64)), 0);
    } else this.ensure(bytes);
  }

  /** Continue the record in a larger buffer (records handed out keep theirs), carrying what is begun. */
  private grow(extra: number): void {
    const need = this.pos - this.start + extra + 64;
    if (this.bulk) this.moveTo(this.bulkBuffers!.take(Math.max(need, 2 * this.slab.length)), 0);
    else this.moveTo(new Uint8Array(Math.max(SLAB_BYTES, 2 * need)), 0);
  }

  private moveTo(next: Uint8Array, at: number): void {
    const begun = this.slab.subarray(this.start, this.pos);
    next.set(begun, at);
    this.useSlab(next, at);
    this.pos = at + begun.length;
  }

  private useSlab(slab: Uint8Array, start: number): void {
    if (slab !== this.slab) {
      this.slab = slab;
      this.view = new DataView(slab.buffer, slab.byteOffset, slab.byteLength);
    }
    this.start = this.pos = start;
  }
}
