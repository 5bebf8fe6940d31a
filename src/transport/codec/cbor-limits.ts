/**
 * A structural pre-scan of CBOR bytes from an untrusted peer. It walks the item
 * headers in one flat loop (no recursion, no allocation beyond a reused stack
 * of counters) and rejects, before cbor-x sees a byte:
 *
 * - nesting deeper than `maxDepth` (arrays and maps count one level each; a tag
 *   counts none, but a tag may not directly wrap another tag, so tags cannot
 *   stack up recursion either);
 * - declared lengths larger than the bytes left: a string or byte string longer
 *   than the rest of the input, an array with more elements than bytes left, a
 *   map with more entries than half the bytes left. After a successful scan every
 *   declared element really exists, so cbor-x's preallocations are bounded by
 *   the input size;
 * - truncated input, trailing bytes, reserved header values, indefinite-length
 *   strings, stray "break" codes, simple values other than false / true / null /
 *   undefined;
 * - any tag outside an allow-list of the tags our encoder emits, each with the
 *   kind of content it must wrap. That shuts out cbor-x decoders we never use
 *   and that are unsafe on hostile input: value sharing (28/29, which can re-read
 *   input exponentially), packed values (6/51), string bundles (0xdff9),
 *   shared-structure blocks (0xdffe, which read past their own item).
 *
 * cbor-x record tags are checked closely because its record reader trusts
 * their shape: a definition (0xdfff) must be a definite array
 * [id 0xe000..0xe0ff, [text keys...], values...] and a reference
 * (0xe000..0xe0ff) must wrap a definite array. With that, every item cbor-x reads
 * is one this scan counted, at the same or a shallower depth.
 */
import { CodecError } from '../../errors.js';

/** Our tags (documented in codec.ts, registered there with cbor-x). */
export const ADDRESS_TAG = 47390;
export const MESSAGE_TAG = 47391;
export const HANDLE_TAG = 47392;
export const LATIN1_TAG = 47393;
/** In a fast batch only: a record field repeating its last short text (fast-batch.ts says when). */
export const REPEAT = 0xf3;
export const BYTES_TAG = 47394;

const RECORD_DEFINITION_TAG = 0xdfff;
const RECORD_REFERENCE_FIRST = 0xe000;
const RECORD_REFERENCE_LAST = 0xe0ff; // cbor-x cycles through 256 record ids

// What a tag's content may be: one bit per CBOR major type, plus a flag for
// "definite length, at most a 32-bit length field" (what cbor-x's record reader parses).
const UINT = 1 << 0;
const NINT = 1 << 1;
const BYTES = 1 << 2;
const ARRAY = 1 << 4;
const MAP = 1 << 5;
const FLOAT = 1 << 7;
const DEFINITE = 1 << 8;

/** The content rule for a tag, or 0 when the tag is not accepted. */
function tagRule(tag: number): number {
  switch (tag) {
    case 1: // Date, epoch seconds
      return UINT | NINT | FLOAT;
    case 2: // bigint >= 2^64
    case 3: // bigint < -2^64
    case LATIN1_TAG:
    case BYTES_TAG:
      return BYTES;
    case 27: // Error [name, message] / RegExp ['RegExp', source, flags]
    case 258: // Set
      return ARRAY;
    case 259: // Map
      return MAP;
    case ADDRESS_TAG:
    case MESSAGE_TAG:
    case HANDLE_TAG:
      return ARRAY | DEFINITE;
    // Typed arrays: cbor-x's little-endian tags and, for elements wider than a
    // byte, their big-endian twins (tag - 4).
    case 64: case 68: case 72: // 1-byte elements
    case 69: case 65: case 77: case 73: // 2-byte
    case 70: case 66: case 78: case 74: case 85: case 81: // 4-byte
    case 71: case 67: case 79: case 75: case 86: case 82: // 8-byte
      return BYTES;
    default:
      return tag >= RECORD_REFERENCE_FIRST && tag <= RECORD_REFERENCE_LAST ? ARRAY | DEFINITE : 0;
  }
}

// One counter per open container: elements still due, or -1 for indefinite
// length (closed by a break). Shared by every scan: scans never interleave.
let pending = new Float64Array(130);

/**
 * Checks that `bytes` holds exactly one well-formed item within the limits.
 * Throws CodecError naming the broken limit and the offending value.
 */
export function scanCbor(bytes: Uint8Array, maxDepth: number): void {
  if (pending.length < maxDepth + 2) pending = new Float64Array(maxDepth + 2);
  const stack = pending;
  const end = bytes.length;
  let pos = 0;
  let depth = 0;
  let items = 0;
  let expect = 0; // content rule of a tag just read, 0 when none

  for (;;) {
    if (depth === 0 && expect === 0) {
      if (pos >= end) break;
      if (items !== 0) {
        throw invalid(`${end - pos} trailing byte(s) after the item ending at offset ${pos}`);
      }
    } else if (pos >= end) throw truncated(pos, end);

    const initial = bytes[pos++];
    const major = initial >> 5;
    const info = initial & 31;
    let arg = info;
    if (info >= 24) {
      if (info === 24) {
        if (pos + 1 > end) throw truncated(pos, end);
        arg = bytes[pos++];
      } else if (info === 25) {
        if (pos + 2 > end) throw truncated(pos, end);
        arg = (bytes[pos] << 8) | bytes[pos + 1];
        pos += 2;
      } else if (info === 26) {
        if (pos + 4 > end) throw truncated(pos, end);
        arg = bytes[pos] * 0x1000000 + ((bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3]);
        pos += 4;
      } else if (info === 27) {
        if (pos + 8 > end) throw truncated(pos, end);
        const high = bytes[pos] * 0x1000000 + ((bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3]);
        const low = bytes[pos + 4] * 0x1000000 + ((bytes[pos + 5] << 16) | (bytes[pos + 6] << 8) | bytes[pos + 7]);
        arg = high * 0x100000000 + low; // inexact above 2^53, still far beyond any remaining length
        pos += 8;
      } else if (info === 31) arg = -1;
      else throw invalid(`reserved additional info ${info} at offset ${pos - 1}`);
    }

    if (expect !== 0) {
      if ((expect & (1 << major)) === 0 || (major === 7 && (info < 25 || info > 27)) || (expect & DEFINITE && info > 26)) {
        throw invalid(`unexpected content (major type ${major}) for the tag before offset ${pos - 1}`);
      }
      expect = 0;
    }

    if (major === 3 || major === 2) {
      if (arg < 0) throw invalid(`indefinite-length ${major === 2 ? 'byte' : 'text'} strings are not accepted (offset ${pos - 1})`);
      if (arg > end - pos) throw tooLong(major, arg, pos, end);
      pos += arg;
    } else if (major === 4 || major === 5) {
      if (depth >= maxDepth) throw tooDeep(maxDepth, pos);
      if (arg !== 0) {
        if (major === 5 && arg > 0) arg *= 2;
        if (arg > end - pos) throw tooLong(major, arg, pos, end);
        stack[++depth] = arg;
        continue;
      }
    } else if (major === 6) {
      if (arg === RECORD_DEFINITION_TAG) {
        if (depth >= maxDepth) throw tooDeep(maxDepth, pos);
        pos = scanRecordDefinition(bytes, pos, end);
        if (recordValues !== 0) {
          stack[++depth] = recordValues;
          continue;
        }
      } else {
        expect = tagRule(arg);
        if (expect === 0) throw invalid(`tag ${arg} (at offset ${pos - 1}) is not accepted`);
        continue;
      }
    } else if (major === 7) {
      if (arg === -1) {
        if (depth === 0 || stack[depth] !== -1) throw invalid(`unexpected break at offset ${pos - 1}`);
        depth--;
      } else if (info < 20 || info === 24) {
        throw invalid(`unassigned simple value at offset ${pos - 1}`);
      }
    } else if (arg < 0) {
      throw invalid(`indefinite length on an integer at offset ${pos - 1}`);
    }

    // A complete item: count it against the open containers, closing every one it fills.
    for (;;) {
      if (depth === 0) {
        items++;
        break;
      }
      const due = stack[depth];
      if (due < 0) break;
      if (due > 1) {
        stack[depth] = due - 1;
        break;
      }
      depth--;
    }
  }
  if (items === 0) throw invalid('empty input');
}

// Result slots of readDefiniteHeader (returned position, parsed value), kept
// out of objects so the scan allocates nothing.
let headerValue = 0;
let recordValues = 0;

/**
 * Checks the head of a record definition, `[id, [keys...], values...]`, sets
 * `recordValues` to the number of values and returns where they start.
 */
function scanRecordDefinition(bytes: Uint8Array, start: number, end: number): number {
  let pos = readDefiniteHeader(bytes, start, end, 4, 'record definition');
  const length = headerValue;
  if (length < 2 || length > end - pos) {
    throw new CodecError(`invalid CBOR: record definition of ${length} elements at offset ${start} with ${end - pos} byte(s) left`);
  }
  const idAt = pos;
  pos = readDefiniteHeader(bytes, pos, end, 0, 'record id');
  if (headerValue < RECORD_REFERENCE_FIRST || headerValue > RECORD_REFERENCE_LAST) {
    throw new CodecError(`invalid CBOR: record id ${headerValue} out of range at offset ${idAt}`);
  }
  pos = readDefiniteHeader(bytes, pos, end, 4, 'record keys');
  const keyCount = headerValue;
  if (keyCount > end - pos) {
    throw new CodecError(`declared length too large: ${keyCount} record keys at offset ${pos} with only ${end - pos} byte(s) left`);
  }
  for (let i = 0; i < keyCount; i++) {
    pos = readDefiniteHeader(bytes, pos, end, 3, 'record key');
    if (headerValue > end - pos) {
      throw new CodecError(`declared length too large: a record key of ${headerValue} bytes at offset ${pos} with only ${end - pos} byte(s) left`);
    }
    pos += headerValue;
  }
  recordValues = length - 2;
  return pos;
}

/**
 * Reads a header of the given major type with a definite argument of at most
 * 32 bits into `headerValue`; returns the position after it.
 */
function readDefiniteHeader(bytes: Uint8Array, start: number, end: number, major: number, what: string): number {
  let pos = start;
  if (pos >= end) throw truncated(pos, end);
  const initial = bytes[pos++];
  const info = initial & 31;
  if (initial >> 5 !== major || info > 26) {
    throw new CodecError(`invalid CBOR: malformed ${what} at offset ${start}`);
  }
  const width = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0;
  if (pos + width > end) throw truncated(pos, end);
  let value = width === 0 ? info : 0;
  for (let i = 0; i < width; i++) value = value * 256 + bytes[pos++];
  headerValue = value;
  return pos;
}

// Error builders, kept out of the scan loop so it stays small.
function invalid(what: string): CodecError {
  return new CodecError(`invalid CBOR: ${what}`);
}

function tooDeep(maxDepth: number, pos: number): CodecError {
  return new CodecError(`nesting too deep: more than maxDepth ${maxDepth} levels of arrays and maps (offset ${pos})`);
}

function tooLong(major: number, length: number, pos: number, end: number): CodecError {
  const what =
    major === 2 ? `a byte string of ${length} bytes`
    : major === 3 ? `a text string of ${length} bytes`
    : major === 4 ? `an array of ${length} elements`
    : `a map of ${length / 2} entries`;
  return new CodecError(`declared length too large: ${what} at offset ${pos} with only ${end - pos} byte(s) left`);
}

function truncated(pos: number, end: number): CodecError {
  return new CodecError(`invalid CBOR: input ends early (needed more than the ${end} byte(s) available, at offset ${pos})`);
}
