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
 * Decoding is for untrusted bytes (the codec's pre-scan is on, and every
 * decoded frame's shape is checked): a channel's far end may be any process.
 */
import type { Frame } from '../core/protocol.js';
import { CodecError } from '../errors.js';
import { AddressDecoder, AddressEncoder, packMessageFrame, unpackMessageFrame } from './address-table.js';
import { Codec, type CodecLimits } from './codec.js';
import { envelopeHeader, sealEnvelope } from './envelope.js';
import { isFrame } from './frame-check.js';

const BATCH_FRAMES = 256;

export class Channel {
  private readonly codec: Codec;
  private readonly header: Uint8Array;
  private readonly sent = new AddressEncoder();
  private readonly received = new AddressDecoder();
  private batch: Frame[] = [];
  private flushQueued = false;
  private readonly flushBound = (): void => this.flush();

  constructor(
    /** The kernel at the far end. */
    readonly peer: string,
    self: string,
    /** Takes each sealed envelope, in order. */
    private readonly sink: (envelope: Uint8Array) => void,
    limits: Partial<CodecLimits> = {},
  ) {
    this.codec = new Codec(limits, { sequential: true });
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
   * The frames in one envelope payload from the peer. Throws CodecError when
   * the bytes break a limit, are not a batch, or hold a frame of the wrong
   * shape (nothing of such a batch is delivered).
   */
  receive(payload: Uint8Array): Frame[] {
    const batch = this.codec.decode(payload);
    if (!Array.isArray(batch)) throw new CodecError('an envelope payload must be a batch of frames');
    for (const frame of batch) {
      if (!Array.isArray(frame) || !unpackMessageFrame(this.received, frame) || !isFrame(frame)) {
        throw new CodecError('malformed frame in a batch');
      }
    }
    return batch as Frame[];
  }

  flush(): void {
    this.flushQueued = false;
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    const envelope = this.seal(batch);
    if (envelope !== null) {
      this.sink(envelope);
      return;
    }
    // Some frame cannot travel (a function inside a message, say): send the
    // others one by one, so only the bad ones are lost, and say so.
    let dropped = 0;
    for (const frame of batch) {
      const single = this.seal([frame]);
      if (single !== null) this.sink(single);
      else dropped++;
    }
    this.onDropped?.(dropped, this.lastError);
  }

  /** Told when frames were dropped because they could not be encoded. */
  onDropped: ((count: number, error: unknown) => void) | undefined;
  private lastError: unknown = undefined;

  /** The envelope for `frames`, or null (with every numbering undone) when they cannot be encoded. */
  private seal(frames: Frame[]): Uint8Array | null {
    const refs = this.sent;
    refs.mark();
    try {
      const payload = this.codec.encode(frames.map((frame) => packMessageFrame(refs, frame)));
      refs.commit();
      return sealEnvelope(this.header, payload);
    } catch (error) {
      refs.rollback();
      this.lastError = error;
      return null;
    }
  }
}
