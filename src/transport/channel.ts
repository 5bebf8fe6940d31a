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
 * batch, not per message.
 *
 * A socket or server inside a message travels as a descriptor beside the
 * envelope (handles.ts): the sink gets the envelope with its descriptors.
 *
 * Decoding is for untrusted bytes (the codec's pre-scan is on, and every
 * decoded frame's shape is checked): a channel's far end may be any process.
 *
 * A batch of message frames with flat bodies between addresses the channel
 * has numbered (the steady state of a stream) is written by a writer of its
 * own (fast-batch.ts: a third of the general encoder's cost per message) and
 * starts with FAST_BATCH; its record definitions have a decoder of their own
 * at the far end, still behind the same pre-scan and checks.
 */
import { FrameKind, type Frame } from '../core/protocol.js';
import { CodecError } from '../errors.js';
import { AddressDecoder, AddressEncoder, packMessageFrame, unpackMessageFrame } from './codec/address-table.js';
import { Codec, type CodecLimits } from './codec/codec.js';
import { FAST_BATCH, FastBatchWriter } from './codec/fast-batch.js';
import { envelopeHeader, sealEnvelope } from './envelope.js';
import { isFrame } from './codec/frame-check.js';
import { HandleScope, encodeOrUndo, openHandles } from './handles.js';

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

export class Channel {
  private readonly codec: Codec;
  private readonly fastWriter: FastBatchWriter;
  /** Decodes the peer's fast batches (record ids of their own); made on the first one. */
  private fastCodec: Codec | null = null;
  private readonly header: Uint8Array;
  private readonly sent = new AddressEncoder();
  private readonly received = new AddressDecoder();
  private readonly handles: HandleScope;
  private batch: Frame[] = [];
  private flushQueued = false;
  private readonly flushBound = (): void => this.flush();

  constructor(
    /** The kernel at the far end. */
    readonly peer: string,
    self: string,
    /**
     * Takes each sealed envelope, in order, with the descriptors that travel
     * with it (now the sink's) and the frames it carries.
     */
    private readonly sink: (envelope: Uint8Array, fds: readonly number[], frames: Frame[]) => void,
    limits: Partial<CodecLimits> = {},
    /** Set for a channel to another host: sockets cannot travel there, and encoding one fails with this. */
    handlesRefused?: string,
  ) {
    this.codec = new Codec(limits, { sequential: true });
    this.fastWriter = new FastBatchWriter(this.codec.limits.maxFrameBytes);
    this.handles = new HandleScope(true, handlesRefused);
    this.header = envelopeHeader(peer, self);
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
  receive(payload: Uint8Array, fds: readonly number[] = [], deliver = true): Frame[] {
    const batch = this.handles.decoding(fds, () => (payload[0] === FAST_BATCH ? this.decodeFast(payload) : this.codec.decode(payload)));
    if (!Array.isArray(batch)) throw new CodecError('an envelope payload must be a batch of frames');
    for (const frame of batch) {
      if (!Array.isArray(frame) || !unpackMessageFrame(this.received, frame) || !isFrame(frame)) {
        throw new CodecError(`malformed frame in a batch: ${describeFrame(frame)}`);
      }
    }
    if (deliver && this.handles.decoded > 0) for (const frame of batch as Frame[]) openHandles(frame);
    return batch as Frame[];
  }

  private decodeFast(payload: Uint8Array): unknown {
    this.fastCodec ??= new Codec(this.codec.limits, { sequential: true });
    return this.fastCodec.decode(payload.subarray(1));
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
    if (this.seal(batch)) return;
    // Some frame cannot travel (a function inside a message, say): send the
    // others one by one, so only the bad ones are lost, and say so.
    let dropped = 0;
    for (const frame of batch) if (!this.seal([frame])) dropped++;
    this.onDropped?.(dropped, this.lastError);
  }

  /** Told when frames were dropped because they could not be encoded. */
  onDropped: ((count: number, error: unknown) => void) | undefined;
  private lastError: unknown = undefined;

  /** Sends the envelope for `frames`; false (with every numbering and hand-off undone) when they cannot be encoded. */
  private seal(frames: Frame[]): boolean {
    const refs = this.sent;
    const handles = this.handles;
    const fast = this.fastWriter.encodeFrames(frames, refs);
    if (fast !== null) {
      this.sink(sealEnvelope(this.header, fast, 0), NO_FDS, frames);
      return true;
    }
    let envelope: Uint8Array;
    try {
      envelope = encodeOrUndo(refs, handles, () => {
        let shallow = true;
        const packed = frames.map((frame) => {
          if (shallow && (frame[0] !== FrameKind.Message || !shallowBody(frame[3]))) shallow = false;
          return packMessageFrame(refs, frame);
        });
        const payload = this.codec.encode(packed, shallow ? SHALLOW_BATCH_DEPTH : Infinity);
        return sealEnvelope(this.header, payload, handles.outgoing.length);
      });
    } catch (error) {
      this.lastError = error;
      return false;
    }
    this.sink(envelope, handles.outgoing, frames);
    return true;
  }
}

/** A malformed frame, briefly, for the error (its kind and what its slots hold). */
function describeFrame(frame: unknown): string {
  if (!Array.isArray(frame)) return `not an array (${typeof frame})`;
  const slots = frame.map((slot) => (slot === null ? 'null' : Array.isArray(slot) ? 'array' : typeof slot === 'object' ? (slot as object).constructor?.name ?? 'object' : typeof slot));
  return `kind ${String(frame[0])}, slots [${slots.join(', ')}]`;
}
