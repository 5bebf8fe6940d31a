/**
 * The reader of fast batches (fast-batch.ts writes them), in one pass that
 * both checks and decodes.
 *
 * Why not cbor-x behind the pre-scan (cbor-limits.ts), as before: a process
 * receiving a stream of small messages spent 19% of its time scanning each
 * batch and 25% more in cbor-x decoding it, with the receiver the slower end
 * of the stream (profiled: bench/suites/process.js). A batch holds only what
 * the fast writer emits, so this reader accepts exactly that and refuses
 * everything else with a CodecError, as the scan would:
 *
 * - definite arrays; cbor-x records (a definition `tag 0xdfff [id, [keys],
 *   values...]` with as many values as keys, or a reference `tag
 *   0xe000+id [values...]` to a defined id with as many values as its keys);
 * - text; LATIN1_TAG and BYTES_TAG over a byte string; ADDRESS_TAG over
 *   two texts; integers with heads of up to 32 bits; float64; false, true,
 *   null, undefined; in a record's field, REPEAT for the field's last short
 *   text (fast-batch.ts).
 *
 * Limits hold before anything is allocated: arrays, records and addresses
 * count one level each against `maxDepth` (as the scan counts them), and no
 * declared length may exceed the bytes left (so an array of n elements is
 * at most as long as the input). Bytes left after the batch are refused.
 *
 * Objects are built by an object literal per key list, compiled once the key
 * list is used a few times (as cbor-x does): the literal gives every object of
 * one shape the same hidden class at once. Keys are quoted with
 * JSON.stringify, and `__proto__` becomes `__proto_` (as cbor-x renames it),
 * so no key can reach the prototype.
 */
import { ActorAddress } from '../../address.js';
import { FrameKind, type Frame } from '../../core/protocol.js';
import { CodecError } from '../../errors.js';
import { ADDRESS_TAG, BYTES_TAG, LATIN1_TAG, REPEAT } from './cbor-limits.js';
import type { AddressDecoder } from './address-table.js';
import { decodeBytes, decodeLatin1 } from './codec.js';

const RECORD_DEFINITION_TAG = 0xdfff;
const RECORD_FIRST = 0xe000;
const RECORD_IDS = 256;
/** Uses of a key list before its object literal is compiled (most shapes of a stream repeat at once). */
const COMPILE_AFTER = 2;
/**
 * Texts shorter than this, when ASCII, are built by String.fromCharCode with
 * one argument a character: cheaper than a call into the runtime (a batch of
 * 5-field messages decoded in ~175 ns a message, ~235 with latin1Slice,
 * ~300 appending a character at a time).
 */
const SHORT_TEXT = 16;

const EMPTY = new Uint8Array(0);
const NULL = 0xf6;
/** A frame is an array of four: kind, destination, sender, body. */
const MESSAGE_FRAME_HEAD = 0x84;
// Node's UTF-8 decoding into a string (invalid sequences become U+FFFD, as with TextDecoder), untyped in @types/node.
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice(this: Uint8Array, start: number, end: number): string }).utf8Slice;

type Build = (read: (field: number) => unknown) => Record<string, unknown>;

interface Shape {
  readonly keys: readonly string[];
  /** The short text each field last carried (REPEAT in fast-batch.ts). */
  readonly last: (string | undefined)[];
  uses: number;
  build: Build | null;
  /** Every key is a plain identifier (PLAIN_KEY): only then is an object literal compiled. */
  readonly compilable: boolean;
}

export class FastBatchReader {
  private bytes: Uint8Array = EMPTY;
  private view: DataView<ArrayBufferLike> = new DataView(EMPTY.buffer);
  private pos = 0;
  private end = 0;
  /** Depth of the container whose values are being read (for compiled readers, which call `readField`). */
  private depth = 0;
  /** The record whose values are being read (for compiled readers). */
  private shape: Shape | null = null;
  private readonly shapes: (Shape | null)[] = new Array<Shape | null>(RECORD_IDS).fill(null);
  private readonly readField = (field: number): unknown => this.field(this.shape!, field, this.depth + 1);

  constructor(private readonly maxDepth = Infinity) {}

  /**
   * The batch in `bytes` from `start` on (an array, to the last byte) as
   * plain values, frames unchecked; throws CodecError when it is not one.
   * Links read frames with `readFrames`; this reads any value the writer
   * emits (its tests use it).
   */
  read(bytes: Uint8Array, start: number): unknown[] {
    return this.reading(bytes, start, () => {
      if (this.pos >= this.end || this.bytes[this.pos]! >> 5 !== 4) throw invalid('an envelope payload must be a batch of frames');
      return this.item(0) as unknown[];
    });
  }

  /**
   * The message frames of the batch in `bytes` from `start` on, `[dest,
   * frame, dest, frame...]` as the writer writes it, each frame's addresses
   * resolved by `addresses` as they are read. Each destination goes to
   * `destinations` (null: the peer itself); with no list, every destination
   * must be null. Throws CodecError for anything else, including a frame of
   * another kind (the writer writes message frames only) or an address
   * number never defined.
   *
   * Why not `read` and then unpack and check each frame: the frames come out
   * whole, as literal arrays, and are checked as they are built; a receiver
   * of small messages spent about a sixth of its decoding on the second pass.
   */
  readFrames(bytes: Uint8Array, start: number, addresses: AddressDecoder, destinations: (string | null)[] | null): Frame[] {
    return this.reading(bytes, start, () => {
      if (this.pos >= this.end || this.bytes[this.pos]! >> 5 !== 4) throw invalid('an envelope payload must be a batch of frames');
      const n = this.length(this.bytes[this.pos++]! & 31);
      if ((n & 1) !== 0) throw invalid('a batch of frames has a destination before each frame');
      this.opens(0);
      const frames: Frame[] = [];
      for (let i = 0; i < n; i += 2) {
        if (this.pos < this.end && this.bytes[this.pos] === NULL) {
          this.pos++;
          destinations?.push(null);
        } else {
          const destination = this.item(1);
          if (destinations === null || typeof destination !== 'string') throw invalid(`a destination other than the peer (offset ${this.pos})`);
          destinations.push(destination);
        }
        if (this.pos + 2 > this.end || this.bytes[this.pos] !== MESSAGE_FRAME_HEAD || this.bytes[this.pos + 1] !== FrameKind.Message) {
          throw invalid(`a message frame expected at offset ${this.pos}`);
        }
        this.pos += 2;
        this.opens(1);
        const to = this.address(addresses);
        if (to == null) throw invalid(`a message frame's destination is not an address the link defined (offset ${this.pos})`);
        const from = this.address(addresses);
        if (from === undefined) throw invalid(`a message frame's sender is not an address the link defined (offset ${this.pos})`);
        frames.push([FrameKind.Message, to, from, this.item(2)]);
      }
      return frames;
    });
  }

  /** A frame's address: a number below 24 (the commonest, one byte) looked up at once, anything else read and resolved. */
  private address(addresses: AddressDecoder): ActorAddress | null | undefined {
    if (this.pos < this.end) {
      const initial = this.bytes[this.pos]!;
      if (initial < 24) {
        this.pos++;
        return addresses.numbered(initial);
      }
    }
    return addresses.resolve(this.item(2));
  }

  /** Runs `body` over `bytes` from `start`, which must consume them all. */
  private reading<T>(bytes: Uint8Array, start: number, body: () => T): T {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = bytes.length;
    this.depth = 0;
    this.shape = null;
    try {
      const result = body();
      if (this.pos !== this.end) throw invalid(`${this.end - this.pos} trailing byte(s) after the batch`);
      return result;
    } finally {
      this.bytes = EMPTY;
      this.view = new DataView(EMPTY.buffer);
    }
  }

  private item(depth: number): unknown {
    if (this.pos >= this.end) throw truncated(this.pos, this.end);
    const initial = this.bytes[this.pos++]!;
    const info = initial & 31;
    switch (initial >> 5) {
      case 0:
        return this.argument(info);
      case 1:
        return -1 - this.argument(info);
      case 3:
        return this.text(this.argument(info));
      case 4:
        return this.array(this.length(info), depth);
      case 6: {
        // The commonest tag, a reference to a record of under 24 keys (`d9 e0 id 8n`), without the general path.
        const at = this.pos;
        if (initial === 0xd9 && at + 2 < this.end && this.bytes[at] === RECORD_FIRST >> 8) {
          const shape = this.shapes[this.bytes[at + 1]!];
          if (shape != null && shape.keys.length < 24 && this.bytes[at + 2] === (0x80 | shape.keys.length)) {
            this.pos = at + 3;
            return this.object(shape, depth);
          }
        }
        return this.tagged(this.argument(info), depth);
      }
      case 7:
        return this.simple(initial);
      default:
        throw invalid(`major type ${initial >> 5} at offset ${this.pos - 1} (a fast batch has no maps or bare byte strings)`);
    }
  }

  /** The argument of a head whose initial byte was just read: definite, at most 32 bits. */
  private argument(info: number): number {
    if (info < 24) return info;
    const at = this.pos;
    const width = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0;
    if (width === 0) throw invalid(`additional info ${info} at offset ${at - 1} (a fast batch has definite heads of at most 32 bits)`);
    if (at + width > this.end) throw truncated(at, this.end);
    this.pos = at + width;
    return width === 1 ? this.bytes[at]! : width === 2 ? this.view.getUint16(at) : this.view.getUint32(at);
  }

  /** A declared length, refused when its items (a byte each at least) cannot all be in the bytes left. */
  private length(info: number): number {
    const n = this.argument(info);
    if (n > this.end - this.pos) throw tooLong(n, this.pos, this.end);
    return n;
  }

  /** The head of the next item, which must be of `major` type; returns its length (checked against the bytes left). */
  private expect(major: number, what: string): number {
    if (this.pos >= this.end) throw truncated(this.pos, this.end);
    const initial = this.bytes[this.pos++]!;
    if (initial >> 5 !== major) throw invalid(`${what} expected at offset ${this.pos - 1}`);
    return this.length(initial & 31);
  }

  private opens(depth: number): void {
    if (depth >= this.maxDepth) throw new CodecError(`nesting too deep: more than maxDepth ${this.maxDepth} levels of arrays and maps (offset ${this.pos})`);
  }

  private array(n: number, depth: number): unknown[] {
    this.opens(depth);
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.item(depth + 1);
    return out;
  }

  private text(n: number): string {
    const start = this.pos;
    if (n > this.end - start) throw tooLong(n, start, this.end);
    this.pos = start + n;
    const bytes = this.bytes;
    if (n < SHORT_TEXT) {
      for (let i = start; i < start + n; i++) if (bytes[i]! >= 0x80) return utf8Slice.call(bytes, start, start + n);
      return ascii(bytes, start, n);
    }
    return utf8Slice.call(bytes, start, start + n);
  }

  private simple(initial: number): unknown {
    switch (initial) {
      case 0xf4:
        return false;
      case 0xf5:
        return true;
      case 0xf6:
        return null;
      case 0xf7:
        return undefined;
      case 0xfb: {
        const at = this.pos;
        if (at + 8 > this.end) throw truncated(at, this.end);
        this.pos = at + 8;
        return this.view.getFloat64(at);
      }
      default:
        throw invalid(`simple value 0x${initial.toString(16)} at offset ${this.pos - 1}`);
    }
  }

  private tagged(tag: number, depth: number): unknown {
    if (tag >= RECORD_FIRST && tag < RECORD_FIRST + RECORD_IDS) {
      const shape = this.shapes[tag - RECORD_FIRST];
      if (shape == null) throw invalid(`record ${tag} was never defined (offset ${this.pos})`);
      if (this.expect(4, 'the values of a record') !== shape.keys.length) throw invalid(`a record with other than its ${shape.keys.length} values (offset ${this.pos})`);
      return this.object(shape, depth);
    }
    switch (tag) {
      case RECORD_DEFINITION_TAG:
        return this.object(this.define(), depth);
      case ADDRESS_TAG: {
        if (this.expect(4, `an address (tag ${ADDRESS_TAG})`) !== 2) throw new CodecError(`malformed ActorAddress (tag ${ADDRESS_TAG}): expected [kernel, id] strings`);
        this.opens(depth);
        const kernel = this.text(this.expect(3, 'the kernel of an address'));
        return new ActorAddress(kernel, this.text(this.expect(3, 'the id of an address')));
      }
      case LATIN1_TAG:
        return decodeLatin1(this.byteString());
      case BYTES_TAG:
        return decodeBytes(this.byteString());
      default:
        throw invalid(`tag ${tag} (at offset ${this.pos}) is not accepted in a fast batch`);
    }
  }

  private byteString(): Uint8Array {
    const n = this.expect(2, 'a byte string');
    const start = this.pos;
    this.pos = start + n;
    return this.bytes.subarray(start, start + n);
  }

  /** A record definition's head, `[id, [keys...]`; the shape it defines (its values follow). */
  private define(): Shape {
    const at = this.pos;
    const length = this.expect(4, 'a record definition');
    if (this.pos >= this.end || this.bytes[this.pos]! >> 5 !== 0) throw invalid(`a record id expected at offset ${this.pos}`);
    const id = this.argument(this.bytes[this.pos++]! & 31) - RECORD_FIRST;
    if (id < 0 || id >= RECORD_IDS) throw invalid(`record id ${id + RECORD_FIRST} out of range at offset ${at}`);
    const count = this.expect(4, 'the keys of a record');
    if (length !== count + 2) throw invalid(`a record definition of ${length} elements for ${count} keys (offset ${at})`);
    const keys = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      const key = this.text(this.expect(3, 'a record key'));
      keys[i] = key === '__proto__' ? '__proto_' : key;
    }
    const shape: Shape = { keys, last: [], uses: 0, build: null, compilable: keys.every((key) => PLAIN_KEY.test(key)) };
    this.shapes[id] = shape;
    return shape;
  }

  /** The object of a record: its values, as many as its keys (the head is read). */
  private object(shape: Shape, depth: number): Record<string, unknown> {
    this.opens(depth);
    let build = shape.build;
    if (build === null && ++shape.uses > COMPILE_AFTER && shape.compilable) build = shape.build = compile(shape.keys);
    if (build !== null) {
      // A value that throws abandons the whole batch, and `read` starts afresh: no finally needed.
      const outer = this.depth;
      const outerShape = this.shape;
      this.depth = depth;
      this.shape = shape;
      const object = build(this.readField);
      this.depth = outer;
      this.shape = outerShape;
      return object;
    }
    const object: Record<string, unknown> = {};
    const keys = shape.keys;
    for (let i = 0; i < keys.length; i++) object[keys[i]!] = this.field(shape, i, depth + 1);
    return object;
  }

  /** Field `field` of a record of `shape`: a short text is remembered, and REPEAT is the one remembered. */
  private field(shape: Shape, field: number, depth: number): unknown {
    if (this.pos < this.end) {
      const initial = this.bytes[this.pos]!;
      if (initial === REPEAT) {
        this.pos++;
        const text = shape.last[field];
        if (text === undefined) throw invalid(`a repeat of a text field ${field} never held (offset ${this.pos - 1})`);
        return text;
      }
      if (initial >= 0x60 && initial <= 0x77) {
        this.pos++;
        return (shape.last[field] = this.text(initial & 31));
      }
    }
    return this.item(depth);
  }
}

const fromCharCode = String.fromCharCode;

/** `n` ASCII bytes from `at` as a string, eight characters a call. */
function ascii(b: Uint8Array, at: number, n: number): string {
  switch (n) {
    case 0: return '';
    case 1: return fromCharCode(b[at]!);
    case 2: return fromCharCode(b[at]!, b[at + 1]!);
    case 3: return fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!);
    case 4: return fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
    case 5: return fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!, b[at + 4]!);
    case 6: return fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!, b[at + 4]!, b[at + 5]!);
    case 7: return fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!, b[at + 4]!, b[at + 5]!, b[at + 6]!);
    default: {
      const head = fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!, b[at + 4]!, b[at + 5]!, b[at + 6]!, b[at + 7]!);
      return n === 8 ? head : head + ascii(b, at + 8, n - 8);
    }
  }
}

/**
 * Keys that may go into a compiled object literal: identifiers of ASCII
 * letters, digits, `_` and `$` (what messages' keys almost always are).
 * JSON.stringify would quote any text safely, but bytes from another process
 * are never made into code beyond this: other key lists take the loop.
 */
const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/;

/** An object literal of `keys` (each matches PLAIN_KEY; `__proto__` was renamed), each value read in order. */
function compile(keys: readonly string[]): Build {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('r', `return {${keys.map((key, i) => `${JSON.stringify(key)}:r(${i})`).join(',')}}`) as Build;
}

function invalid(what: string): CodecError {
  return new CodecError(`invalid CBOR: ${what}`);
}

function tooLong(length: number, pos: number, end: number): CodecError {
  return new CodecError(`declared length too large: ${length} at offset ${pos} with only ${end - pos} byte(s) left`);
}

function truncated(pos: number, end: number): CodecError {
  return new CodecError(`invalid CBOR: input ends early (needed more than the ${end} byte(s) available, at offset ${pos})`);
}
