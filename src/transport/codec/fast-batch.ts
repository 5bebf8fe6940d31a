/**
 * A faster writer for the commonest batch on a link: message frames whose
 * bodies are built of primitives, strings, bytes, and plain objects and
 * arrays of those. Their addresses are numbered per link as the general codec
 * does (address-table.ts): an address new to the link is written in full once.
 *
 * Why. Encoding was half a sending thread's time in a stream of small
 * messages: cbor-x's general encoder pays, per value, for a dispatch on every
 * type it supports, and per object for a hasOwnProperty call per key; and for
 * large strings and bytes it grows its buffer by fresh allocations and copies
 * (measured here: ~215 MiB/s for a 16 MiB string). This writer handles only
 * the types above, each at memory speed (cbor-writer.ts); anything else (a
 * Date, a Map, a class instance, a socket, another kind of frame) makes
 * it stop before that frame, which then takes the general codec.
 *
 * Cuts. A record ends after BATCH_BYTES (BULK_BATCH_BYTES in a bulk buffer)
 * and before a frame that would take it past the link's limit. A frame that alone is over the limit is refused (its sender
 * is told, see thread-link.ts and channel.ts): nothing over the limit is ever
 * built, and a batch of large messages is never one record over the limit.
 *
 * What it writes is CBOR (cbor-x could decode all of it but REPEAT, below): the batch `[dest, frame, ...]`,
 * each object a cbor-x record (a definition `tag 0xdfff [id, [keys],
 * values...]` the first time a key list is seen, then `tag 0xe000+id
 * [values...]`). Record ids are per decoder, and the general codec numbers its
 * own, so fast batches are decoded by a reader of their own
 * (fast-batch-reader.ts, which takes only what is written here): a record
 * starting with FAST_BATCH (0xff, a CBOR "break", which no encoded item starts
 * with) is one of ours. Integers of up to 32 bits travel as CBOR integers,
 * other numbers (fractions, -0, NaN, wider values) as float64.
 */
import { FrameKind, type Frame } from '../../core/protocol.js';
import type { ActorAddress } from '../../address.js';
import type { AddressDecoder, AddressEncoder } from './address-table.js';
import { ADDRESS_TAG, REPEAT } from './cbor-limits.js';
import { byteViews } from './byte-views.js';
import { CborWriter, ValueTooLarge, bytesOf, type BulkBuffers } from './cbor-writer.js';
import { FastBatchReader } from './fast-batch-reader.js';

export const FAST_BATCH = 0xff;
/** `encode` refused the first frame: alone, it is over the limit (`refusedBytes` says by how much). */
export const FAST_REFUSED = -1;
/** A record is cut after the frame that takes it to this size... */
export const BATCH_BYTES = 64 * 1024;
/** ...or this size once it is in a bulk buffer (each costs a transfer and a hand-back: fewer, larger ones). */
const BULK_BATCH_BYTES = 256 * 1024;
/** Record ids 0xe000-0xe0ff, as cbor-x uses: redefined in turn once all are taken. */
const RECORD_IDS = 256;
/** Nesting of objects and arrays in a body that this writer takes (deeper: the general codec). */
const MAX_DEPTH = 16;
/** Batch head: FAST_BATCH, then an array head with a 16-bit count, patched when the record ends. */
const RECORD_HEAD_BYTES = 4;
/*
 * Repeats. REPEAT (cbor-limits.ts, CBOR simple value 19, which nothing else
 * here uses) stands for a record field holding the same short text as that
 * field of the same record id held last. Short: a text whose byte length fits
 * in its initial byte (under 24 bytes, initial byte 0x60-0x77); both ends
 * remember exactly those, per record id and field, and forget them when the
 * id is redefined.
 *
 * Why: the fields of a stream's messages repeat their short texts (a kind, a
 * status, a key), and building a string is most of what decoding a small
 * message costs the receiver, the slower end of a stream (measured: a batch
 * of the bench's 5-field message decoded in ~190 ns a frame without repeats,
 * ~105 with). A repeat costs the writer one comparison and the reader an
 * array read, and allocates nothing.
 */
/** Longest text, in UTF-16 units, that can be short (a unit takes at least a byte). */
const SHORT_TEXT_UNITS = 23;
/** Room that writing a short-candidate text can take (3 bytes a unit, the head), ensured first so it cannot move the record. */
const SHORT_TEXT_ROOM = 3 * SHORT_TEXT_UNITS + 2;

/** A node of the key-list tree: the path from the root spells an object's keys in order. */
class Shape {
  readonly next = new Map<string, Shape>();
  // The last step taken from here: a stream of objects of one shape walks
  // the same path every time, and comparing a key is cheaper than a lookup.
  lastKey: string | null = null;
  lastNext: Shape | null = null;
  id = -1;
  /** The short text each field last carried while this shape held its id (see REPEAT). */
  last: (string | undefined)[] = [];
  constructor(readonly keys: readonly string[]) {}

  step(key: string): Shape {
    if (this.lastKey === key) return this.lastNext!;
    let next = this.next.get(key);
    if (next === undefined) {
      next = new Shape([...this.keys, key]);
      this.next.set(key, next);
    }
    this.lastKey = key;
    this.lastNext = next;
    return next;
  }
}

export interface FastBatchOptions {
  /** Where records with large values go (a thread link's transfer buffers); null: the writer's slab. */
  bulk?: BulkBuffers | null;
  /** The deepest nesting the peer accepts (CodecLimits.maxDepth): frames that would nest deeper take the general codec. */
  maxDepth?: number;
}

export class FastBatchWriter extends CborWriter {
  /** The record written by the last `encode` that took frames (a view that stays valid). */
  record: Uint8Array = new Uint8Array(0);
  /** That record fills a bulk buffer of its own, from offset 0 (the link may hand the buffer over). */
  recordIsBulk = false;
  /** After FAST_REFUSED: the refused frame encodes to at least this many bytes. */
  refusedBytes = 0;

  private readonly root = new Shape([]);
  private readonly byId: (Shape | null)[] = new Array<Shape | null>(RECORD_IDS).fill(null);
  private nextId = 0;
  /** Shapes given an id in the record being written (taken back if their frame is). */
  private defined: Shape[] = [];
  /**
   * Fields whose remembered text the record being written changed (the first
   * `touched` entries): those of a frame taken back are forgotten (REPEAT).
   * Counted rather than truncated: setting an array's length is a call into
   * the runtime, and this is per frame.
   */
  private readonly touchedShapes: Shape[] = [];
  private readonly touchedFields: number[] = [];
  private touched = 0;

  /**
   * Containers in a body may open at depths below this: the batch and the
   * frame take two levels (an address written in full, a third), and the
   * peer's scan counts every array and map (cbor-limits.ts).
   */
  private readonly bodyDepth: number;
  private readonly fullAddresses: boolean;

  /** `maxBytes`: the largest record (and so frame) the link may carry. */
  constructor(maxBytes: number, options: FastBatchOptions = {}) {
    super(options.bulk ?? null, maxBytes);
    const maxDepth = options.maxDepth ?? Infinity;
    this.bodyDepth = Math.min(MAX_DEPTH, maxDepth - 2);
    this.fullAddresses = maxDepth >= 3;
  }

  /**
   * Writes frames from `first` on into one record, as many as the cuts allow;
   * returns how many it took (the record is in `record`). 0: `frames[first]`
   * needs the general codec. FAST_REFUSED: `frames[first]` alone is over the
   * limit. `peer`: the kernel at the far end, written as null.
   */
  encode(destinations: readonly string[], frames: readonly Frame[], first: number, peer: string, refs: AddressEncoder): number {
    this.defined = [];
    this.touched = 0;
    this.ensure(RECORD_HEAD_BYTES);
    this.slab[this.pos] = FAST_BATCH;
    this.slab[this.pos + 1] = 0x99; // array, 16-bit count
    this.pos += RECORD_HEAD_BYTES;
    const limit = Math.min(frames.length, first + 0x7fff);
    let taken = 0;
    let refused = false;
    for (let i = first; i < limit; i++) {
      const frameAt = this.pos - this.start; // the record may move to a larger buffer meanwhile
      const shapesAt = this.defined.length;
      const touchedAt = this.touched;
      refs.mark(); // addresses numbered by this frame are taken back with it
      let ok: boolean;
      try {
        ok = this.frame(destinations[i]!, frames[i]!, peer, refs);
      } catch (error) {
        if (!(error instanceof ValueTooLarge)) throw error;
        ok = false;
        refused = true;
        this.refusedBytes = error.atLeast;
      }
      const recordBytes = this.pos - this.start;
      if (ok && recordBytes > this.maxBytes) {
        // Over the limit with this frame: alone (a record of one) it is refused, else it starts the next record.
        ok = false;
        refused = taken === 0;
        this.refusedBytes = recordBytes - frameAt;
      }
      if (!ok) {
        refs.rollback();
        this.undoShapes(shapesAt);
        this.forgetTouched(touchedAt);
        this.rewind(this.start + frameAt);
        break;
      }
      refs.commit();
      taken++;
      if (recordBytes >= (this.bulk ? BULK_BATCH_BYTES : BATCH_BYTES)) break;
    }
    if (taken === 0) {
      if (this.bulk) this.takeRecord(); // nothing in it: dropped, back to the slab
      else this.rewind(this.start);
      return refused ? FAST_REFUSED : 0;
    }
    this.view.setUint16(this.start + 2, taken * 2);
    this.defined = [];
    this.recordIsBulk = this.bulk;
    this.record = this.takeRecord();
    return taken;
  }

  private frame(destination: string, frame: Frame, peer: string, refs: AddressEncoder): boolean {
    if (frame[0] !== FrameKind.Message) return false;
    const to = refs.refTo(frame[1]);
    const from = refs.refFrom(frame[2]);
    if (destination !== peer) this.text(destination);
    else if (typeof to === 'number' && to < 24 && typeof from === 'number' && from < 24) {
      // The commonest frame (to the peer, both addresses numbered below 24) in five bytes and one bounds check.
      this.ensure(5);
      const slab = this.slab;
      const at = this.pos;
      slab[at] = 0xf6;
      slab[at + 1] = 0x84;
      slab[at + 2] = FrameKind.Message;
      slab[at + 3] = to;
      slab[at + 4] = from;
      this.pos = at + 5;
      return this.value(frame[3], 0);
    } else this.byte(0xf6);
    this.byte(0x84);
    this.head(0, FrameKind.Message);
    return this.address(to) && this.address(from) && this.value(frame[3], 0);
  }

  /** An address as the link numbers it: its number, or (the first time) the address itself, numbered from then on. */
  private address(ref: ActorAddress | number | null): boolean {
    if (typeof ref === 'number') this.head(0, ref);
    else if (ref === null) this.byte(0xf6);
    else {
      if (!this.fullAddresses) return false;
      this.ensure(4);
      this.slab[this.pos] = 0xd9;
      this.view.setUint16(this.pos + 1, ADDRESS_TAG);
      this.slab[this.pos + 3] = 0x82;
      this.pos += 4;
      this.text(ref.kernel);
      this.text(ref.id);
    }
    return true;
  }

  /**
   * The peer never sees a frame taken back, so the texts it set must not be
   * repeated: forgetting them (rather than restoring the ones before) is
   * enough, as a forgotten field is written in full next time and both ends
   * remember it again.
   */
  private forgetTouched(from: number): void {
    for (let i = from; i < this.touched; i++) this.touchedShapes[i]!.last[this.touchedFields[i]!] = undefined;
    this.touched = from;
  }

  private undoShapes(from: number): void {
    const defined = this.defined;
    for (let i = from; i < defined.length; i++) {
      const shape = defined[i]!;
      this.byId[shape.id] = null;
      shape.id = -1;
    }
    defined.length = from;
  }

  private value(value: unknown, depth: number): boolean {
    switch (typeof value) {
      case 'string':
        this.text(value);
        return true;
      case 'number':
        // Integers with a 64-bit CBOR head decode as BigInt: wider ones travel as float64 (exact up to 2^53), as cbor-x writes them.
        if (Number.isInteger(value) && value <= 0xffffffff && value >= -0x100000000 && !Object.is(value, -0)) {
          if (value >= 0) this.head(0, value);
          else this.head(1, -1 - value);
        } else this.float64(value);
        return true;
      case 'boolean':
        this.byte(value ? 0xf5 : 0xf4);
        return true;
      case 'undefined':
        this.byte(0xf7);
        return true;
      case 'object': {
        if (value === null) {
          this.byte(0xf6);
          return true;
        }
        if (depth >= this.bodyDepth) return false;
        if (Array.isArray(value)) {
          this.head(4, value.length);
          for (let i = 0; i < value.length; i++) if (!this.value(value[i], depth + 1)) return false;
          return true;
        }
        if (Object.getPrototypeOf(value) === Object.prototype) return this.object(value as Record<string, unknown>, depth);
        const bytes = bytesOf(value);
        if (bytes === null) return false;
        this.bytes(bytes);
        return true;
      }
      default:
        return false;
    }
  }

  private object(record: Record<string, unknown>, depth: number): boolean {
    let shape = this.root;
    for (const key in record) shape = shape.step(key);
    const count = shape.keys.length;
    this.ensure(3);
    if (shape.id < 0) {
      this.define(shape);
      this.slab[this.pos++] = 0xd9;
      this.slab[this.pos++] = 0xdf;
      this.slab[this.pos++] = 0xff;
      this.head(4, count + 2);
      this.head(0, 0xe000 + shape.id);
      this.head(4, count);
      for (const key of shape.keys) this.text(key);
    } else {
      this.slab[this.pos++] = 0xd9;
      this.slab[this.pos++] = 0xe0;
      this.slab[this.pos++] = shape.id;
      this.head(4, count);
    }
    let field = 0;
    for (const key in record) {
      const value = record[key];
      if (typeof value === 'string' && value.length <= SHORT_TEXT_UNITS) this.field(shape, field, value);
      else if (!this.value(value, depth + 1)) return false;
      field++;
    }
    return true;
  }

  /** A text that may be short in field `field` of `shape`: REPEAT when the field's last short text was this one. */
  private field(shape: Shape, field: number, value: string): void {
    const last = shape.last;
    if (last[field] === value) {
      this.byte(REPEAT);
      return;
    }
    this.ensure(SHORT_TEXT_ROOM);
    const at = this.pos;
    this.text(value);
    if (this.slab[at]! <= 0x77) {
      last[field] = value;
      this.touchedShapes[this.touched] = shape;
      this.touchedFields[this.touched++] = field;
    }
  }

  private define(shape: Shape): void {
    const id = this.nextId;
    this.nextId = (id + 1) % RECORD_IDS;
    const previous = this.byId[id];
    if (previous !== null) previous.id = -1; // its id is redefined: it will be defined again when next seen
    this.byId[id] = shape;
    shape.id = id;
    shape.last = [];
    this.defined.push(shape);
  }
}

/** The decoder for one direction's fast batches (record ids of their own). */
export interface FastBatchDecoder {
  /**
   * The message frames in `record`, addresses resolved by `addresses`
   * (FastBatchReader.readFrames says how; `destinations`, when given, gets
   * each frame's destination). `owned`: the record's memory is the
   * receiver's alone (a transferred or freshly read buffer), so byte values
   * may be views of it; otherwise they are copies.
   */
  decode(record: Uint8Array, owned: boolean, addresses: AddressDecoder, destinations?: (string | null)[] | null): Frame[];
  /** The last decode returned views of its record: the record's memory must not be reused. */
  readonly tookViews: boolean;
}

export function fastBatchDecoder(maxDepth = Infinity): FastBatchDecoder {
  const reader = new FastBatchReader(maxDepth);
  let tookViews = false;
  return {
    decode(record, owned, addresses, destinations = null) {
      byteViews.allowed = owned;
      byteViews.taken = false;
      try {
        return reader.readFrames(record, 1, addresses, destinations);
      } finally {
        tookViews = byteViews.taken;
        byteViews.allowed = false;
      }
    },
    get tookViews() {
      return tookViews;
    },
  };
}
