/**
 * The codec: messages as CBOR (cbor-x) for every link that leaves a thread,
 * with hard limits on what a peer can make us decode.
 *
 * Types that survive a round trip: everything JSON has, plus undefined, BigInt,
 * Date, Map, Set, typed arrays (Uint8Array, Float64Array, ...), Error (name and
 * message; it arrives as an `Error` whose `name` is the original one) and
 * RegExp. `ActorAddress` and classes registered with `registerMessage` arrive
 * as instances; any other class instance arrives as a plain object of its own
 * enumerable fields (an iterable one as an array). Buffer, DataView and
 * ArrayBuffer arrive as Uint8Array. Functions and symbols cannot be encoded.
 *
 * Our CBOR tags. CBOR has no private-use range; these sit in the first-come
 * space above the 40500 floor cbor-x leaves to applications, clear of cbor-x's
 * own tags (records 0xdff9-0xffff), and mean something only between thespis peers:
 * - 47390 ActorAddress: [kernel, id]. The kernel-local cache slot never travels.
 * - 47392 handed-off socket or server: [kind, slot, buffered bytes]; only
 *   inside a link's HandleScope (handles.ts).
 * - 47393 Latin-1 text: a byte string of one byte per character (fast batches
 *   write long ASCII strings so: the reader copies them into a string instead of
 *   decoding UTF-8). Any byte string is valid Latin-1.
 * - 47394 bytes: a byte string that arrives as a Uint8Array (fast batches write
 *   Uint8Array, Buffer, ArrayBuffer and DataView so), a copy unless the record
 *   is the receiver's own (byte-views.ts).
 * - 47391 registered message: [name, {own enumerable fields}]. The receiver
 *   gives the decoded fields object the registered class's prototype: no
 *   constructor, setter or other code of the class runs. A name
 *   the receiver has not registered arrives as the plain fields object, so a
 *   peer with a newer message vocabulary cannot break the link.
 */
import { Decoder, Encoder, Tag, addExtension } from 'cbor-x';
import { ActorAddress } from '../../address.js';
import { CodecError, MessageTooLargeError } from '../../errors.js';
import { messageRegistry } from '../../messages.js';
import { ADDRESS_TAG, BYTES_TAG, HANDLE_TAG, LATIN1_TAG, MESSAGE_TAG, scanCbor } from './cbor-limits.js';
import { byteViews } from './byte-views.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../message-size.js';
import { HandleClass, decodeHandle, encodeHandle } from '../handles.js';

export { ADDRESS_TAG, BYTES_TAG, HANDLE_TAG, LATIN1_TAG, MESSAGE_TAG } from './cbor-limits.js';

export interface CodecLimits {
  /** Largest frame, in bytes, that encode produces or decode accepts. */
  maxFrameBytes: number;
  /** Deepest nesting of arrays and maps (objects, Maps, Sets, records) accepted. */
  maxDepth: number;
}

/**
 * 64 MiB frames (message-size.ts says why). Depth 128: real messages rarely nest past 20; cbor-x decodes recursively
 * (two or three stack frames per level) and so does most user code that walks
 * a message, so this keeps both far from the stack limit.
 */
export const DEFAULT_LIMITS: Readonly<CodecLimits> = Object.freeze({
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxDepth: 128,
});

export interface CodecOptions {
  /**
   * Record structures (an object's key list) are sent once per link and
   * referenced by id afterwards. Only for an ordered link on which one Codec
   * encodes every frame and the peer's Codec decodes every frame, in order.
   * Decoding needs no option: any Codec decodes both kinds of frame.
   */
  sequential?: boolean;
  /**
   * Both ends are threads of this process, running our own encoder: skip the
   * pre-scan for hostile input (a cost of ~15% per frame). Never for bytes
   * from a socket or a child process.
   */
  trusted?: boolean;
}

type CborEncode = (value: unknown) => void;
interface RawExtension {
  Class?: unknown;
  tag: number | undefined;
  getTag?(this: object, value: never): number;
  encode?(value: never, encode: CborEncode): void;
  decode?(data: never): unknown;
}
const addRawExtension = addExtension as unknown as (extension: RawExtension) => void;

/** Matches instances of classes registered with `registerMessage` (cbor-x tests extensions with instanceof). */
const RegisteredMessage = {
  [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && messageRegistry.nameOf(value) !== undefined;
  },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function decodeAddress(data: unknown): ActorAddress {
  if (!Array.isArray(data) || data.length !== 2 || typeof data[0] !== 'string' || typeof data[1] !== 'string') {
    throw new CodecError(`malformed ActorAddress (tag ${ADDRESS_TAG}): expected [kernel, id] strings`);
  }
  return new ActorAddress(data[0], data[1]);
}

function decodeMessage(data: unknown): object {
  if (!Array.isArray(data) || data.length !== 2 || typeof data[0] !== 'string' || !isPlainObject(data[1])) {
    throw new CodecError(`malformed registered message (tag ${MESSAGE_TAG}): expected [name, fields]`);
  }
  const fields = data[1];
  const cls = messageRegistry.classOf(data[0]);
  if (cls === undefined) return fields;
  // The fields object is fresh from the decoder and already holds the fields
  // as own data properties; giving it the class prototype runs no constructor
  // and no setter. Measured 1.7x faster than Object.create + defineProperty
  // per field, and V8 keeps the result in fast-properties mode.
  return Object.setPrototypeOf(fields, cls.prototype) as object;
}

// Node's Latin-1 copy into a string (one byte per character), untyped in @types/node.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

export function decodeLatin1(data: unknown): string {
  if (!(data instanceof Uint8Array)) throw new CodecError(`malformed Latin-1 text (tag ${LATIN1_TAG}): expected a byte string`);
  return latin1Slice.call(data, 0, data.length);
}

/** Byte values at least this large may arrive as views of their record (byte-views.ts); smaller ones are copied, so they do not pin it. */
const VIEW_MIN_BYTES = 16 * 1024;

export function decodeBytes(data: unknown): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new CodecError(`malformed bytes (tag ${BYTES_TAG}): expected a byte string`);
  // new Uint8Array(view) copies, and is a Uint8Array even when the input is a Buffer (slice would not be).
  if (!byteViews.allowed || data.byteLength < VIEW_MIN_BYTES) return new Uint8Array(data);
  byteViews.taken = true;
  return data.constructor === Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

// cbor-x's own decoders for these tags are replaced: its bignum decoder is
// quadratic in the byte length (a CPU bomb inside a 64 MiB frame), and its
// tag-27 decoder calls whatever callable the bytes name on a lookup object.
function decodeBigUint(data: unknown): bigint {
  if (!(data instanceof Uint8Array)) throw new CodecError('malformed bignum: expected a byte string');
  if (data.length === 0) return 0n;
  return BigInt('0x' + Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex'));
}

function decodeErrorOrRegExp(data: unknown): Error | RegExp {
  if (!Array.isArray(data) || typeof data[0] !== 'string' || (data[1] !== undefined && typeof data[1] !== 'string')) {
    throw new CodecError('malformed tag 27: expected [name, message]');
  }
  const [name, text = ''] = data as [string, string | undefined];
  if (name === 'RegExp') {
    if (data[2] !== undefined && typeof data[2] !== 'string') throw new CodecError('malformed RegExp: flags must be a string');
    return new RegExp(text, data[2] as string | undefined);
  }
  const error = new Error(text);
  if (name !== 'Error') error.name = name;
  error.stack = `${name}: ${text}`; // the sender's stack does not travel; the decoder's would mislead
  return error;
}

// Extensions are global to cbor-x (every Encoder and Decoder in the process):
// ours add two tags and replace three unsafe decoders. Refusing Tag values is
// for our own encoders only, so they are kept here.
const ownEncoders = new WeakSet<object>();

// cbor-x's Tag class lets a value carry any tag number, which our peers refuse:
// our encoders refuse it first; others keep cbor-x's behaviour.
addRawExtension({
  Class: Tag,
  tag: undefined,
  getTag(this: object, tag: Tag): number {
    if (ownEncoders.has(this)) throw new CodecError(`a cbor-x Tag (${String(tag.tag)}) cannot be sent`);
    return tag.tag as number;
  },
  encode(tag: Tag, encode: CborEncode) {
    encode(tag.value);
  },
});
addRawExtension({ tag: 2, decode: decodeBigUint as (data: never) => bigint });
addRawExtension({ tag: 3, decode: ((data: unknown) => -1n - decodeBigUint(data)) as (data: never) => bigint });
addRawExtension({ tag: 27, decode: decodeErrorOrRegExp as (data: never) => Error | RegExp });
addRawExtension({ tag: LATIN1_TAG, decode: decodeLatin1 as (data: never) => string });
addRawExtension({ tag: BYTES_TAG, decode: decodeBytes as (data: never) => Uint8Array });
// Before the other classes (cbor-x checks the last added first): messages rarely hold sockets.
addRawExtension({
  Class: HandleClass,
  tag: HANDLE_TAG,
  encode: encodeHandle as (value: never, encode: CborEncode) => void,
  decode: decodeHandle as (data: never) => unknown,
});
addRawExtension({
  Class: RegisteredMessage,
  tag: MESSAGE_TAG,
  encode(value: object, encode: CborEncode) {
    // A plain copy: encoding the instance itself would match this extension again.
    encode([messageRegistry.nameOf(value), Object.assign({}, value)]);
  },
  decode: decodeMessage as (data: never) => object,
});
// Added last so cbor-x checks it first (an address class is never registered as a message).
addRawExtension({
  Class: ActorAddress,
  tag: ADDRESS_TAG,
  encode(address: ActorAddress, encode: CborEncode) {
    encode([address.kernel, address.id]);
  },
  decode: decodeAddress as (data: never) => ActorAddress,
});

// Plain mode writes objects as CBOR maps; sequential mode as cbor-x records
// (key lists sent once per link). Records are slower than maps when every frame
// must define its own (measured with the same checks: 0.55 M vs 0.69 M round
// trips/s), so plain mode does not use them.
function encoderFor(sequential: boolean): Encoder {
  const encoder = new Encoder({
    useRecords: sequential,
    sequential,
    // Maps travel under tag 259, so a decoder reads untagged CBOR maps as plain objects in both modes.
    mapsAsObjects: true,
    useTag259ForMaps: true,
    tagUint8Array: true,
  } as ConstructorParameters<typeof Encoder>[0]);
  ownEncoders.add(encoder);
  return encoder;
}

function checkLimits(limits: CodecLimits): void {
  const { maxFrameBytes, maxDepth } = limits;
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1 || maxFrameBytes > 0xffffffff) {
    throw new RangeError(`maxFrameBytes must be an integer from 1 to 2^32-1, not ${maxFrameBytes}`);
  }
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 10_000) {
    throw new RangeError(`maxDepth must be an integer from 1 to 10000, not ${maxDepth}`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One end of a link's serialisation: give each end of each link its own Codec.
 * Its encoder state pairs with the peer Codec's decoder state and the other way
 * round, so one Codec per end serves both directions. Synchronous; cbor-x
 * keeps per-thread state, so a Codec is used from the thread that made it.
 */
export class Codec {
  readonly limits: Readonly<CodecLimits>;
  readonly sequential: boolean;
  #encoder: Encoder;
  // Separate from the encoder: in sequential mode each holds its own side's
  // record table, and sharing one would let the peer's definitions overwrite ours.
  readonly #decoder: Decoder;
  readonly #trusted: boolean;

  constructor(limits: Partial<CodecLimits> = {}, options: CodecOptions = {}) {
    this.limits = Object.freeze({ ...DEFAULT_LIMITS, ...limits });
    checkLimits(this.limits);
    this.sequential = options.sequential ?? false;
    this.#trusted = options.trusted ?? false;
    this.#encoder = encoderFor(this.sequential);
    this.#decoder = new Decoder({ mapsAsObjects: true, structures: [], copyBuffers: true });
  }

  /**
   * Encodes one frame. The result is a view into a slab cbor-x shares between
   * frames: it stays valid, but copy it before transferring its ArrayBuffer.
   * Throws CodecError when the value cannot be encoded or the frame would break
   * a limit (so the peer would refuse it): MessageTooLargeError for the size. `depthAtMost`: the caller knows
   * the value nests no deeper, so depth need not be checked when the limit
   * allows that much (see channel.ts, shallowBody).
   */
  encode(value: unknown, depthAtMost = Infinity): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = this.#encoder.encode(value);
    } catch (error) {
      this.#forgetSentStructures();
      throw new CodecError(`cannot encode the message: ${describe(error)}`, { cause: error });
    }
    if (bytes.length > this.limits.maxFrameBytes) {
      this.#forgetSentStructures();
      throw new MessageTooLargeError(`frame too large: the message encodes to ${bytes.length} bytes, over maxFrameBytes ${this.limits.maxFrameBytes}`, bytes.length, this.limits.maxFrameBytes);
    }
    // Refuse here what the peer would refuse, so a too-deep message fails its
    // sender instead of closing the link. Only depth can be wrong (this encoder
    // emits no tag the scan rejects), and a frame no longer than maxDepth bytes
    // cannot nest deeper than maxDepth, so small frames skip the scan.
    if (bytes.length > this.limits.maxDepth && !this.#trusted && depthAtMost > this.limits.maxDepth) {
      try {
        scanCbor(bytes, this.limits.maxDepth);
      } catch (error) {
        this.#forgetSentStructures();
        throw new CodecError(`cannot send the message: ${describe(error)}`, { cause: error });
      }
    }
    return bytes;
  }

  /** Decodes one frame. Throws CodecError on a broken limit or invalid CBOR. */
  decode(bytes: Uint8Array): unknown {
    if (!(bytes instanceof Uint8Array)) throw new CodecError('decode needs a Uint8Array');
    if (bytes.length > this.limits.maxFrameBytes) {
      throw new CodecError(`frame too large: ${bytes.length} bytes, over maxFrameBytes ${this.limits.maxFrameBytes}`);
    }
    if (!this.#trusted) scanCbor(bytes, this.limits.maxDepth);
    // Untagged byte strings decode as slices of the input's class; a plain view
    // makes Buffer senders and receivers alike see Uint8Array.
    const input = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      return this.#decoder.decode(input);
    } catch (error) {
      if (error instanceof CodecError) throw error;
      throw new CodecError(`invalid CBOR: ${describe(error)}`, { cause: error });
    }
  }

  /**
   * A frame that failed after cbor-x may have assigned record ids to new
   * structures the peer will never see. A fresh encoder defines every
   * structure again before its first reference, overwriting the peer's stale ids.
   */
  #forgetSentStructures(): void {
    if (this.sequential) this.#encoder = encoderFor(true);
  }
}
