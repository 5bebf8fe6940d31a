/**
 * A faster writer for the commonest batch on a thread link or a channel
 * (channel.ts: process and network links): message frames
 * whose addresses the link has numbered already and whose bodies are
 * primitives, or plain objects or arrays of primitives.
 *
 * Why. Encoding was half a sending thread's time in a stream of small
 * messages: cbor-x's general encoder pays, per value, for a dispatch on every
 * type it supports, and per object for a hasOwnProperty call per key. This
 * writer handles only the types above, so it does less per value; anything
 * else (a Date, a Map, a class instance, a nested object, an address not yet
 * numbered, a socket) makes it give up on the batch, which then takes the
 * general codec as before (and that is rare on a hot path).
 *
 * What it writes is CBOR that cbor-x decodes: the same batch
 * `[dest, frame, ...]`, with each object body a cbor-x record (a definition
 * `tag 0xdfff [id, [keys], values...]` the first time a key list is seen,
 * then `tag 0xe000+id [values...]`). Record ids are per decoder, and the
 * general codec numbers its own, so fast batches are decoded by a decoder of
 * their own: a record starting with FAST_BATCH (0xff, a CBOR "break", which
 * no encoded item starts with) is one of ours.
 *
 * Values keep their type through either path: integers of up to 32 bits
 * travel as CBOR integers, other numbers (fractions, -0, NaN, wider values)
 * as float64, strings as UTF-8 text.
 */
import { Decoder } from 'cbor-x';
import { FrameKind, type Frame } from '../../core/protocol.js';
import type { AddressEncoder } from './address-table.js';

export const FAST_BATCH = 0xff;

const SLAB_BYTES = 256 * 1024;
/** Record ids 0xe000-0xe0ff, as cbor-x uses: redefined in turn once all are taken. */
const RECORD_IDS = 256;
const textEncoder = new TextEncoder();

/** A node of the key-list tree: the path from the root spells an object's keys in order. */
class Shape {
  readonly next = new Map<string, Shape>();
  // The last step taken from here: a stream of objects of one shape walks
  // the same path every time, and comparing a key is cheaper than a lookup.
  lastKey: string | null = null;
  lastNext: Shape | null = null;
  id = -1;
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

export class FastBatchWriter {
  private slab = new Uint8Array(SLAB_BYTES);
  private view = new DataView(this.slab.buffer);
  private pos = 0;
  private start = 0;
  private readonly root = new Shape([]);
  private readonly byId: (Shape | null)[] = new Array<Shape | null>(RECORD_IDS).fill(null);
  private nextId = 0;
  /** Shapes given an id in the batch being written (taken back if it is abandoned). */
  private defined: Shape[] = [];

  constructor(private readonly maxBytes: number) {}

  /**
   * The record for this batch (a view that stays valid), or null when a frame
   * needs the general codec. `peer`: the kernel at the far end, written as null.
   */
  encode(destinations: readonly string[], frames: readonly Frame[], peer: string, refs: AddressEncoder): Uint8Array | null {
    this.start = this.pos;
    this.defined = [];
    this.ensure(6);
    this.slab[this.pos++] = FAST_BATCH;
    this.header(4, frames.length * 2);
    for (let i = 0; i < frames.length; i++) {
      const destination = destinations[i]!;
      if (destination === peer) this.byte(0xf6);
      else this.text(destination);
      if (!this.messageFrame(frames[i]!, refs)) return this.abandon();
    }
    return this.finish();
  }

  /**
   * A channel's batch (channel.ts): FAST_BATCH, then `[frame, ...]` with each
   * message frame packed as packMessageFrame would, `[kind, to, from, body]`
   * with both addresses as the channel's numbers. Null when a frame needs the
   * general codec.
   */
  encodeFrames(frames: readonly Frame[], refs: AddressEncoder): Uint8Array | null {
    this.start = this.pos;
    this.defined = [];
    this.ensure(6);
    this.slab[this.pos++] = FAST_BATCH;
    this.header(4, frames.length);
    for (let i = 0; i < frames.length; i++) if (!this.messageFrame(frames[i]!, refs)) return this.abandon();
    return this.finish();
  }

  /** `[kind, to, from, body]` for a message frame whose addresses are numbered; false otherwise. */
  private messageFrame(frame: Frame, refs: AddressEncoder): boolean {
    if (frame[0] !== FrameKind.Message) return false;
    const to = refs.numberOf(frame[1]);
    const from = frame[2] === null ? null : refs.numberOf(frame[2]);
    if (to === undefined || from === undefined) return false;
    this.byte(0x84);
    this.header(0, FrameKind.Message);
    this.header(0, to);
    if (from === null) this.byte(0xf6);
    else this.header(0, from);
    return this.body(frame[3]);
  }

  private finish(): Uint8Array | null {
    if (this.pos - this.start > this.maxBytes) return this.abandon();
    const record = this.slab.subarray(this.start, this.pos);
    if (this.slab.length - this.pos < SLAB_BYTES / 8) this.newSlab(0);
    return record;
  }

  private abandon(): null {
    for (const shape of this.defined) {
      this.byId[shape.id] = null;
      shape.id = -1;
    }
    this.defined = [];
    this.pos = this.start;
    return null;
  }

  private body(body: unknown): boolean {
    if (typeof body !== 'object' || body === null) return this.primitive(body);
    if (Array.isArray(body)) {
      this.header(4, body.length);
      for (let i = 0; i < body.length; i++) if (!this.primitive(body[i])) return false;
      return true;
    }
    if (Object.getPrototypeOf(body) !== Object.prototype) return false;
    const record = body as Record<string, unknown>;
    let shape = this.root;
    for (const key in record) shape = shape.step(key);
    const count = shape.keys.length;
    if (shape.id < 0) {
      this.define(shape);
      this.ensure(3);
      this.slab[this.pos++] = 0xd9;
      this.slab[this.pos++] = 0xdf;
      this.slab[this.pos++] = 0xff;
      this.header(4, count + 2);
      this.header(0, 0xe000 + shape.id);
      this.header(4, count);
      for (const key of shape.keys) this.text(key);
    } else {
      this.ensure(3);
      this.slab[this.pos++] = 0xd9;
      this.slab[this.pos++] = 0xe0;
      this.slab[this.pos++] = shape.id;
      this.header(4, count);
    }
    for (const key in record) if (!this.primitive(record[key])) return false;
    return true;
  }

  private define(shape: Shape): void {
    const id = this.nextId;
    this.nextId = (id + 1) % RECORD_IDS;
    const previous = this.byId[id];
    if (previous !== null) previous.id = -1; // its id is redefined: it will be defined again when next seen
    this.byId[id] = shape;
    shape.id = id;
    this.defined.push(shape);
  }

  private primitive(value: unknown): boolean {
    switch (typeof value) {
      case 'string':
        this.text(value);
        return true;
      case 'number':
        // Integers with a 64-bit CBOR head decode as BigInt: wider ones travel as float64 (exact up to 2^53), as cbor-x writes them.
        if (Number.isInteger(value) && value <= 0xffffffff && value >= -0x100000000 && !Object.is(value, -0)) {
          if (value >= 0) this.header(0, value);
          else this.header(1, -1 - value);
        } else {
          this.ensure(9);
          this.slab[this.pos] = 0xfb;
          this.view.setFloat64(this.pos + 1, value);
          this.pos += 9;
        }
        return true;
      case 'boolean':
        this.byte(value ? 0xf5 : 0xf4);
        return true;
      case 'undefined':
        this.byte(0xf7);
        return true;
      default:
        if (value !== null) return false;
        this.byte(0xf6);
        return true;
    }
  }

  private text(value: string): void {
    const n = value.length;
    // ASCII is the common case: one byte per character, written directly.
    this.ensure(n + 9);
    const at = this.pos;
    this.header(3, n);
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
  }

  private utf8(value: string): void {
    this.ensure(value.length * 3 + 9);
    // The header's width depends on the byte count: leave room for the widest, then move the bytes if needed.
    const at = this.pos;
    const { written } = textEncoder.encodeInto(value, this.slab.subarray(at + 9));
    this.header(3, written);
    this.slab.copyWithin(this.pos, at + 9, at + 9 + written);
    this.pos += written;
  }

  private byte(value: number): void {
    this.ensure(1);
    this.slab[this.pos++] = value;
  }

  /** A CBOR head: major type and argument (an unsigned integer below 2^32, or a length). */
  private header(major: number, value: number): void {
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

  private ensure(bytes: number): void {
    if (this.pos + bytes > this.slab.length) this.newSlab(bytes);
  }

  /** Continue in a fresh slab (records handed out keep the old one), carrying the batch begun. */
  private newSlab(extra: number): void {
    const begun = this.slab.subarray(this.start, this.pos);
    this.slab = new Uint8Array(Math.max(SLAB_BYTES, 2 * (begun.length + extra)));
    this.view = new DataView(this.slab.buffer);
    this.slab.set(begun);
    this.start = 0;
    this.pos = begun.length;
  }
}

/** The decoder for one direction's fast batches (record ids of their own). */
export function fastBatchDecoder(): { decode(record: Uint8Array): unknown } {
  const decoder = new Decoder({ mapsAsObjects: true, structures: [] } as ConstructorParameters<typeof Decoder>[0]);
  return { decode: (record) => decoder.decode(record.subarray(1)) };
}
