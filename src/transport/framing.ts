/**
 * Length-prefixed frames on a byte stream (Unix socket, TCP, stdio pipe).
 *
 * Wire format: a 4-byte unsigned length in big-endian (network) order, then
 * that many payload bytes. Two implementations give identical results: a
 * pure-TS one and one backed by the native addon (native/framing.cc); the
 * TS one is the default because it measured faster (PREFER_NATIVE_FRAMING).
 *
 * Copies are kept to one at most: a frame that lies wholly inside a pushed
 * chunk is returned as a view of that chunk, so the caller must not reuse or
 * overwrite a chunk once pushed (socket 'data' chunks are never reused). Such
 * views keep the chunk's memory alive while they live. A frame that straddles
 * chunks is copied once into a buffer of exactly its size.
 */
import { CodecError } from '../errors.js';
import { native, requireNative, type AddonFramer } from '../native.js';

export const FRAME_HEADER_BYTES = 4;
/** The largest length a 4-byte header can declare. */
export const MAX_FRAME_BYTES_LIMIT = 0xffff_ffff;

export interface Framer {
  readonly kind: 'ts' | 'native';
  readonly maxFrameBytes: number;
  /** Stream bytes taken in that belong to a frame not yet complete (header included). */
  readonly bufferedBytes: number;
  /**
   * The frames completed by `chunk`, in order. Throws CodecError as soon as a
   * header declares more than `maxFrameBytes`, before any of that frame is
   * buffered; frames completed earlier in the same chunk are dropped with it,
   * and every later push throws too (the stream has lost its frame boundary:
   * close the link).
   */
  push(chunk: Uint8Array): Uint8Array[];
}

export interface FramingOptions {
  /** true: the addon or NativeAddonMissingError; false: pure TS; absent: see PREFER_NATIVE_FRAMING. */
  native?: boolean;
}

/**
 * Whether createFramer / encodeFrames use the addon when not told. Measured
 * here (64-byte frames, 64 KiB chunks, Node 20): TS parses ~23 M frames/s,
 * the addon ~7.7 M (each frame costs an N-API typed-array creation and array
 * store, more than V8 spends on a view made in JS); batch encoding of 64
 * frames: TS ~16 M, addon ~12 M frames/s. So the pure-TS path is the default;
 * flip this if a later measurement says otherwise.
 */
export const PREFER_NATIVE_FRAMING = false;

function useNative(options: FramingOptions): boolean {
  return options.native ?? (PREFER_NATIVE_FRAMING && native !== null);
}

function tooLargeMessage(declared: number, max: number): string {
  return `frame of ${declared} bytes exceeds the limit of ${max} bytes`;
}

function checkMaxFrameBytes(max: number): void {
  if (!Number.isInteger(max) || max < 0 || max > MAX_FRAME_BYTES_LIMIT) {
    throw new RangeError('maxFrameBytes must be an integer from 0 to 4294967295');
  }
}

/** Where a TsFramer puts a frame that straddles chunks (a buffer of exactly `bytes`). */
export type FrameAllocator = (bytes: number) => Uint8Array;

const allocate: FrameAllocator = (bytes) => new Uint8Array(bytes);

/**
 * Pure-TS frame parser. Beyond `Framer`: a frame that straddles chunks is
 * assembled in a buffer from `alloc` (a link passes its pool of large
 * buffers), and the part of it still to come can be filled directly
 * (`pendingSpace` / `filled`), so a link reads a large frame from its socket
 * straight into place instead of through chunks.
 */
export class TsFramer implements Framer {
  readonly kind = 'ts' as const;
  readonly maxFrameBytes: number;
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerHave = 0;
  private pending: Uint8Array | null = null;
  private pendingHave = 0;
  private failure: string | null = null;

  constructor(
    maxFrameBytes: number,
    private readonly alloc: FrameAllocator = allocate,
  ) {
    checkMaxFrameBytes(maxFrameBytes);
    this.maxFrameBytes = maxFrameBytes;
  }

  /** The part of a frame begun and not complete that is still to come, or null. */
  pendingSpace(): Uint8Array | null {
    const pending = this.pending;
    return pending === null ? null : pending.subarray(this.pendingHave);
  }

  /** `bytes` more of the pending frame were written into `pendingSpace()`; the frame once complete. */
  filled(bytes: number): Uint8Array | null {
    const pending = this.pending!;
    this.pendingHave += bytes;
    if (this.pendingHave < pending.byteLength) return null;
    this.pending = null;
    return pending;
  }

  get bufferedBytes(): number {
    return this.pending !== null ? FRAME_HEADER_BYTES + this.pendingHave : this.headerHave;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('push expects a Uint8Array');
    if (this.failure !== null) throw new CodecError(this.failure);
    const frames: Uint8Array[] = [];
    const n = chunk.byteLength;
    let pos = 0;
    for (;;) {
      const pending = this.pending;
      if (pending !== null) {
        const take = Math.min(n - pos, pending.byteLength - this.pendingHave);
        pending.set(chunk.subarray(pos, pos + take), this.pendingHave);
        pos += take;
        this.pendingHave += take;
        if (this.pendingHave < pending.byteLength) break;
        frames.push(pending);
        this.pending = null;
      }

      let length: number;
      if (this.headerHave === 0 && n - pos >= FRAME_HEADER_BYTES) {
        length = ((chunk[pos]! << 24) | (chunk[pos + 1]! << 16) | (chunk[pos + 2]! << 8) | chunk[pos + 3]!) >>> 0;
        pos += FRAME_HEADER_BYTES;
      } else {
        const header = this.header;
        while (this.headerHave < FRAME_HEADER_BYTES && pos < n) header[this.headerHave++] = chunk[pos++]!;
        if (this.headerHave < FRAME_HEADER_BYTES) break;
        this.headerHave = 0;
        length = ((header[0]! << 24) | (header[1]! << 16) | (header[2]! << 8) | header[3]!) >>> 0;
      }

      if (length > this.maxFrameBytes) {
        this.failure = tooLargeMessage(length, this.maxFrameBytes);
        throw new CodecError(this.failure);
      }
      if (n - pos >= length) {
        frames.push(new Uint8Array(chunk.buffer, chunk.byteOffset + pos, length));
        pos += length;
        continue;
      }
      this.pending = this.alloc(length);
      this.pendingHave = 0;
    }
    return frames;
  }

  static encode(frames: readonly Uint8Array[]): Uint8Array {
    return encodeFramesTs(frames);
  }
}

/** Frame parser backed by the addon's Framer; same results as TsFramer. */
export class NativeFramer implements Framer {
  readonly kind = 'native' as const;
  private readonly handle: AddonFramer;

  constructor(maxFrameBytes: number) {
    checkMaxFrameBytes(maxFrameBytes);
    this.handle = new (requireNative('framing').Framer)(maxFrameBytes);
  }

  get maxFrameBytes(): number {
    return this.handle.maxFrameBytes;
  }

  get bufferedBytes(): number {
    return this.handle.bufferedBytes;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    try {
      return this.handle.push(chunk);
    } catch (error) {
      if (error instanceof Error && (error as { code?: unknown }).code === 'ERR_FRAME_TOO_LARGE') {
        throw new CodecError(error.message, { cause: error });
      }
      throw error;
    }
  }

  static encode(frames: readonly Uint8Array[]): Uint8Array {
    return requireNative('framing').encodeFrames(frames);
  }
}

/** Writes the 4-byte header of a frame of `length` bytes at `at`. */
export function writeFrameHeader(out: Uint8Array, at: number, length: number): void {
  out[at] = length >>> 24;
  out[at + 1] = length >>> 16;
  out[at + 2] = length >>> 8;
  out[at + 3] = length;
}

/** All frames, each behind its header, in one new buffer (pure TS). */
export function encodeFramesTs(frames: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const frame of frames) {
    if (frame.byteLength > MAX_FRAME_BYTES_LIMIT) throw new RangeError('a frame is longer than 4294967295 bytes');
    total += FRAME_HEADER_BYTES + frame.byteLength;
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const frame of frames) {
    const length = frame.byteLength;
    writeFrameHeader(out, pos, length);
    out.set(frame, pos + FRAME_HEADER_BYTES);
    pos += FRAME_HEADER_BYTES + length;
  }
  return out;
}

/**
 * All frames, each behind its header, in one new buffer, so a link writes
 * once per batch. Picks the implementation as createFramer does.
 */
export function encodeFrames(frames: readonly Uint8Array[], options: FramingOptions = {}): Uint8Array {
  return useNative(options) ? NativeFramer.encode(frames) : encodeFramesTs(frames);
}

/** A framer refusing frames over `maxFrameBytes`; which one: `options.native`, else PREFER_NATIVE_FRAMING. */
export function createFramer(maxFrameBytes: number, options: FramingOptions = {}): Framer {
  return useNative(options) ? new NativeFramer(maxFrameBytes) : new TsFramer(maxFrameBytes);
}
