/**
 * A channel: the frames one kernel sends another across processes, end to
 * end. A hub between them forwards the channel's envelopes without decoding,
 * so all codec state lives at the two ends: record structures (cbor-x
 * sequential mode) and address numbers (address-table.ts) are defined once
 * per channel and referenced afterwards. That is valid because a channel's
 * envelopes take one path and arrive in order, exactly once.
 *
 * Frames sent during one turn of the microtask queue leave as one envelope
 * (at most BATCH_FRAMES), like the thread links: per-record costs are paid per
 * batch, not per message. Most batches are written by the fast writer
 * (fast-batch.ts: strings and bytes at memory speed, cut by bytes, large ones
 * in pooled buffers the link gives back once written); the rest by the
 * general codec. No envelope exceeds maxFrameBytes: a frame that alone would
 * is refused (`onRefused`) and the rest of its batch goes on.
 *
 * An envelope leaves as two parts, its head and its payload, which the link
 * writes without joining them (record-writes.ts).
 *
 * A socket or server inside a message travels as a descriptor beside the
 * envelope (handles.ts): the sink gets the envelope with its descriptors.
 *
 * Decoding is for untrusted bytes (the codec's pre-scan is on, the fast
 * reader checks as it reads, and every decoded frame's shape is checked): a
 * channel's far end may be any process.
 */
import { FrameKind, type Frame } from '../core/protocol.js';
import { CodecError, MessageTooLargeError } from '../errors.js';
import { largeBuffers } from './buffer-pool.js';
import { AddressDecoder, AddressEncoder, packMessageFrame, unpackMessageFrame } from './codec/address-table.js';
import { Codec, DEFAULT_LIMITS, type CodecLimits } from './codec/codec.js';
import { FAST_BATCH, FAST_REFUSED, FastBatchWriter, fastBatchDecoder, type FastBatchDecoder } from './codec/fast-batch.js';
import { ENVELOPE_ROOM, envelopeHead, envelopeHeader } from './envelope.js';
import { isFrame } from './codec/frame-check.js';
import { HandleScope, encodeOrUndo, openHandles } from './handles.js';
import { frameTooLarge, retryFailedBatch } from './message-size.js';
import type { RecordBytes } from './record-writes.js';

const BATCH_FRAMES = 256;
const NO_FDS: readonly number[] = [];
/**
 * How deep a batch of message frames with shallow bodies nests: batch, frame,
 * then an address (a tag on an array) or the body. A body's values add none
 * (a tagged value such as a Date or a bignum is not a container).
 */
const SHALLOW_BATCH_DEPTH = 3;

/**
 * A body that is a primitive, or a plain object or array of primitives. The
 * codec must refuse a batch that nests deeper than the peer accepts, which
 * costs a scan of the encoded bytes (~12% of a sender's time in a stream of
 * small messages); a batch of shallow bodies cannot, and skips it.
 */
function shallowBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return true;
  if (Array.isArray(body)) {
    for (let i = 0; i < body.length; i++) if (typeof body[i] === 'object' && body[i] !== null) return false;
    return true;
  }
  if (Object.getPrototypeOf(body) !== Object.prototype) return false;
  const record = body as Record<string, unknown>;
  for (const key in record) {
    const value = record[key];
    if (typeof value === 'object' && value !== null) return false;
  }
  return true;
}

/**
 * Takes each sealed envelope, in order, with the descriptors that travel with
 * it (now the sink's); for an envelope written in a pooled buffer, that
 * buffer, to give back to `largeBuffers` once written (RecordLink.write does;
 * a sink that keeps envelopes to send again must not); and the frames it
 * carries (to dead-letter them if it is lost).
 */
export type EnvelopeSink = (envelope: RecordBytes, fds: readonly number[], recycle: ArrayBuffer | undefined, frames: Frame[]) => void;

export class Channel {
  private readonly codec: Codec;
  private readonly header: Uint8Array;
  /** The head of an envelope with no descriptors. */
  private readonly head: Uint8Array;
  private readonly sent = new AddressEncoder();
  private readonly received = new AddressDecoder();
  private readonly handles: HandleScope;
  private readonly fast: FastBatchWriter;
  private readonly fastDecoder: FastBatchDecoder;
  /** The fast writer's destinations: every frame goes to the peer. */
  private readonly toPeer: string[];
  private batch: Frame[] = [];
  private flushQueued = false;
  private readonly flushBound = (): void => this.flush();
  /** The last `receive` handed out views of its payload (the payload's memory must not be reused). */
  tookViews = false;

  constructor(
    /** The kernel at the far end. */
    readonly peer: string,
    self: string,
    private readonly sink: EnvelopeSink,
    limits: Partial<CodecLimits> = {},
    /** Set for a channel to another host: sockets cannot travel there, and encoding one fails with this. */
    handlesRefused?: string,
  ) {
    this.handles = new HandleScope(true, handlesRefused);
    // A payload leaves room for the envelope's head within the link's frame limit.
    const maxFrameBytes = limits.maxFrameBytes ?? DEFAULT_LIMITS.maxFrameBytes;
    this.codec = new Codec({ ...limits, maxFrameBytes: maxFrameBytes - ENVELOPE_ROOM }, { sequential: true });
    this.fastDecoder = fastBatchDecoder(this.codec.limits.maxDepth);
    this.header = envelopeHeader(peer, self);
    this.head = envelopeHead(this.header, 0);
    this.fast = new FastBatchWriter(maxFrameBytes - ENVELOPE_ROOM, { bulk: largeBuffers, maxDepth: this.codec.limits.maxDepth });
    this.toPeer = new Array<string>(BATCH_FRAMES).fill(peer);
  }

  send(frame: Frame): void {
    const batch = this.batch;
    batch.push(frame);
    if (batch.length >= BATCH_FRAMES) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushBound);
    }
  }

  /**
   * The frames in one envelope payload from the peer, and the descriptors
   * that came with it (taken over: what the frames do not claim is closed).
   * `deliver`: the frames are for this kernel, so handed-off sockets are
   * opened; otherwise they stay PassedHandles for the next link. Throws
   * CodecError when the bytes break a limit, are not a batch, or hold a frame
   * of the wrong shape (nothing of such a batch is delivered).
   */
  receive(payload: Uint8Array, fds: readonly number[] = [], deliver = true, owned = false): Frame[] {
    if (payload.length > 0 && payload[0] === FAST_BATCH) {
      const frames = this.receiveFast(payload, fds, owned);
      this.tookViews = this.fastDecoder.tookViews;
      return frames;
    }
    this.tookViews = false;
    const batch = this.handles.decoding(fds, () => this.codec.decode(payload));
    if (!Array.isArray(batch)) throw new CodecError('an envelope payload must be a batch of frames');
    for (const frame of batch) {
      if (!Array.isArray(frame) || !unpackMessageFrame(this.received, frame) || !isFrame(frame)) {
        throw new CodecError(`malformed frame in a batch: ${describeFrame(frame)}`);
      }
    }
    if (deliver && this.handles.decoded > 0) for (const frame of batch as Frame[]) openHandles(frame);
    return batch as Frame[];
  }

  /**
   * The frames of a fast batch (`[null, frame, null, frame, ...]`: message
   * frames only, none carrying a socket), checked as the general codec checks
   * its input. Descriptors that came with it are closed.
   */
  private receiveFast(payload: Uint8Array, fds: readonly number[], owned: boolean): Frame[] {
    const limits = this.codec.limits;
    if (payload.length > limits.maxFrameBytes) throw new CodecError(`frame too large: ${payload.length} bytes, over maxFrameBytes ${limits.maxFrameBytes}`);
    // The fast reader checks depth and lengths as it decodes (no scan first: fast-batch-reader.ts).
    return this.handles.decoding(fds, () => {
      try {
        return this.fastDecoder.decode(payload, owned, this.received);
      } catch (error) {
        if (error instanceof CodecError) throw error;
        throw new CodecError(`invalid CBOR: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    });
  }

  /** Frames queued and not yet sealed. */
  get queued(): number {
    return this.batch.length;
  }

  /** The frames queued and not yet sent, taken out (the peer is gone: the caller dead-letters them). */
  takeQueued(): Frame[] {
    const batch = this.batch;
    this.batch = [];
    return batch;
  }

  flush(): void {
    this.flushQueued = false;
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    const fast = this.fast;
    for (let i = 0; i < batch.length; ) {
      const taken = fast.encode(this.toPeer, batch, i, this.peer, this.sent);
      if (taken > 0) {
        const frames = i === 0 && taken === batch.length ? batch : batch.slice(i, i + taken);
        this.sink([this.head, fast.record], NO_FDS, fast.recordIsBulk ? (fast.record.buffer as ArrayBuffer) : undefined, frames);
        i += taken;
      } else if (taken === FAST_REFUSED) {
        this.refuse(batch[i]!, fast.refusedBytes);
        i++;
      } else {
        this.seal(batch, i, batch.length);
        i = batch.length;
      }
    }
    if (this.dropped > 0) {
      this.onDropped?.(this.dropped, this.lastError);
      this.dropped = 0;
    }
  }

  /** Told when frames were dropped because they could not be encoded (count > 0). */
  onDropped: ((count: number, error: unknown) => void) | undefined;
  /** Told of each frame refused because it alone encodes to more than the link carries (it was not sent). */
  onRefused: ((frame: Frame, error: MessageTooLargeError) => void) | undefined;
  private lastError: unknown = undefined;
  private dropped = 0;

  private refuse(frame: Frame, size: number): void {
    this.onRefused?.(frame, frameTooLarge(frame, size, this.codec.limits.maxFrameBytes + ENVELOPE_ROOM, true));
  }

  /**
   * Sends frames [from, to) as one envelope through the general codec, split
   * in halves while it is over the limit; a frame that cannot be encoded is
   * dropped (with every numbering and hand-off undone), one that alone is over
   * the limit refused, so only the bad ones are lost.
   */
  private seal(frames: Frame[], from: number, to: number): void {
    const refs = this.sent;
    const handles = this.handles;
    let payload: Uint8Array;
    try {
      payload = encodeOrUndo(refs, handles, () => {
        let shallow = true;
        const packed: Frame[] = [];
        for (let i = from; i < to; i++) {
          const frame = frames[i]!;
          if (shallow && (frame[0] !== FrameKind.Message || !shallowBody(frame[3]))) shallow = false;
          packed.push(packMessageFrame(refs, frame));
        }
        return this.codec.encode(packed, shallow ? SHALLOW_BATCH_DEPTH : Infinity);
      });
    } catch (error) {
      retryFailedBatch(error, from, to, (a, b) => this.seal(frames, a, b), (i, size) => this.refuse(frames[i]!, size), (failure) => {
        this.lastError = failure;
        this.dropped++;
      });
      return;
    }
    const fds = handles.outgoing;
    this.sink([fds.length === 0 ? this.head : envelopeHead(this.header, fds.length), payload], fds, undefined, from === 0 && to === frames.length ? frames : frames.slice(from, to));
  }
}

/** A malformed frame, briefly, for the error (its kind and what its slots hold). */
function describeFrame(frame: unknown): string {
  if (!Array.isArray(frame)) return `not an array (${typeof frame})`;
  const slots = frame.map((slot) => (slot === null ? 'null' : Array.isArray(slot) ? 'array' : typeof slot === 'object' ? (slot as object).constructor?.name ?? 'object' : typeof slot));
  return `kind ${String(frame[0])}, slots [${slots.join(', ')}]`;
}
