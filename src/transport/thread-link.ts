/**
 * A link between two threads: frames encoded with the codec, moved through a
 * pair of SharedArrayBuffer rings (one per direction). Encoding is sequential
 * (cbor-x record definitions are sent once, then referenced), which is valid
 * because a ring delivers every record exactly once and in order.
 *
 * Frames sent during one turn of the microtask queue travel as one record
 * `[dest, frame, dest, frame, ...]` (at most BATCH_FRAMES; dest null for the
 * peer kernel itself): per-record costs —
 * the encoder call, the ring header, the reader's decode — are paid once per
 * batch instead of once per message, which is where cross-thread speed is.
 *
 * Nothing is lost silently when the peer thread dies: each direction has an
 * acknowledgement counter the receiver bumps after handling a batch, and the
 * sender keeps the original frames of every batch not yet acknowledged (one
 * reference per batch, trimmed at each flush). `salvage()` returns them, so
 * the kernel can turn them into dead letters, failed creates and down watches.
 */
import type { Frame } from '../core/protocol.js';
import { AddressDecoder, AddressEncoder, packMessageFrame, unpackMessageFrame } from './codec/address-table.js';
import { Fifo } from '../core/queue.js';
import { Codec } from './codec/codec.js';
import { FAST_BATCH, FastBatchWriter, fastBatchDecoder } from './codec/fast-batch.js';
import { HandleScope, encodeOrUndo } from './handles.js';
import { LINK_HIGH_WATER_BYTES, type FrameHandler, type Link } from './link.js';
import { createRing, RingReader, RingWriter } from './ring/ring.js';

export const RING_BYTES = 1 << 20;
const NO_FDS: number[] = [];
const BATCH_FRAMES = 256;

/** The two rings of a link, and their acknowledgement counters, as seen from one end. */
export interface RingPair {
  out: SharedArrayBuffer;
  in: SharedArrayBuffer;
  /** Batches the peer has handled from `out`. */
  outAcks: SharedArrayBuffer;
  /** Batches this end has handled from `in`. */
  inAcks: SharedArrayBuffer;
}

export function createRingPair(): { a: RingPair; b: RingPair } {
  const ab = createRing(RING_BYTES);
  const ba = createRing(RING_BYTES);
  const abAcks = new SharedArrayBuffer(4);
  const baAcks = new SharedArrayBuffer(4);
  return {
    a: { out: ab, in: ba, outAcks: abAcks, inAcks: baAcks },
    b: { out: ba, in: ab, outAcks: baAcks, inAcks: abAcks },
  };
}

export class ThreadLink implements Link {
  private readonly codec = new Codec({}, { sequential: true, trusted: true });
  /** Batches of the commonest frames skip the general codec (fast-batch.ts). */
  private readonly fastWriter = new FastBatchWriter(this.codec.limits.maxFrameBytes);
  private readonly fastDecoder = fastBatchDecoder();
  private readonly sentAddresses = new AddressEncoder();
  private readonly receivedAddresses = new AddressDecoder();
  /** Sockets handed off between threads travel as descriptor numbers (handles.ts). */
  private readonly handles = new HandleScope(false);
  private readonly writer: RingWriter;
  private readonly reader: RingReader;
  private closed = false;
  /** Frames waiting for the end of this microtask turn, and where each goes. */
  private originals: Frame[] = [];
  private destinations: string[] = [];
  private lastError: unknown = undefined;
  /** Original frames of sent batches the peer has not acknowledged, oldest first. */
  private readonly unacked = new Fifo<Frame[]>();
  /** Frames in `unacked`. */
  private unackedFrames = 0;
  private sentBatches = 0;
  /** Over the high-water mark of bytes queued behind a full ring (flow control). */
  congested = false;
  onCongestion: ((congested: boolean) => void) | undefined = undefined;
  private readonly outAcks: Int32Array;
  private readonly inAcks: Int32Array;
  private flushQueued = false;
  private readonly flushBound = (): void => this.flush();

  constructor(
    rings: RingPair,
    /** The kernels at this end and the far end. */
    private readonly ends: { self: string; peer: string },
    onFrame: FrameHandler,
    private readonly onBadFrame: (error: unknown) => void,
  ) {
    this.writer = new RingWriter(rings.out);
    // A round trip between two pool threads takes ~20-30 µs here: a reader that
    // spins a little longer than that catches the reply before going to sleep
    // (p50 ping-pong 5-6 µs instead of 20-90). The spin only runs while traffic
    // is recent, so an idle system stays idle.
    this.reader = new RingReader(rings.in, { maxSpinUs: 50 });
    this.outAcks = new Int32Array(rings.outAcks);
    this.inAcks = new Int32Array(rings.inAcks);
    this.reader.start((records) => {
      for (const record of records) {
        let decoded: unknown;
        try {
          decoded = record[0] === FAST_BATCH ? this.fastDecoder.decode(record) : this.handles.decoding(NO_FDS, () => this.codec.decode(record));
        } catch (error) {
          this.onBadFrame(error);
          continue;
        }
        const batch = decoded as unknown[];
        const withHandles = record[0] !== FAST_BATCH && this.handles.decoded > 0;
        for (let i = 0; i < batch.length; i += 2) {
          const frame = batch[i + 1] as Frame;
          if (!unpackMessageFrame(this.receivedAddresses, frame)) {
            this.onBadFrame(new Error('message frame names an address the link never defined'));
            continue;
          }
          onFrame((batch[i] as string | null) ?? ends.self, frame, withHandles);
        }
        Atomics.add(this.inAcks, 0, 1);
      }
    });
  }

  send(destination: string, frame: Frame): void {
    if (this.closed) return;
    this.destinations.push(destination);
    this.originals.push(frame);
    if (this.originals.length >= BATCH_FRAMES) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushBound);
    }
  }

  /** Told when frames were dropped because they could not be encoded (a function in a message, say). */
  onDropped: ((count: number, error: unknown) => void) | undefined;

  private flush(): void {
    this.flushQueued = false;
    if (this.originals.length === 0 || this.closed) return;
    const destinations = this.destinations;
    const originals = this.originals;
    this.destinations = [];
    this.originals = [];
    if (this.sendBatch(destinations, originals)) return;
    // Some frame cannot travel: send the others one by one, so only the bad ones are lost.
    let dropped = 0;
    for (let i = 0; i < originals.length; i++) if (!this.sendBatch([destinations[i]!], [originals[i]!])) dropped++;
    this.onDropped?.(dropped, this.lastError);
  }

  /** Encodes and writes one record; false (with every numbering and hand-off undone) when it cannot be encoded. */
  private sendBatch(destinations: string[], frames: Frame[]): boolean {
    const refs = this.sentAddresses;
    let record: Uint8Array | null = this.fastWriter.encode(destinations, frames, this.ends.peer, refs);
    if (record !== null) return this.sent(frames, record);
    try {
      record = encodeOrUndo(refs, this.handles, () => {
        // Addresses of message frames travel as link-local numbers
        // (address-table.ts), and the usual destination, the peer itself, as
        // null: writing its id with every frame cost ~15% of encoding.
        const peer = this.ends.peer;
        const batch: unknown[] = [];
        for (let i = 0; i < frames.length; i++) {
          const destination = destinations[i]!;
          batch.push(destination === peer ? null : destination, packMessageFrame(refs, frames[i]!));
        }
        return this.codec.encode(batch);
      });
    } catch (error) {
      this.lastError = error;
      return false;
    }
    return this.sent(frames, record);
  }

  private sent(frames: Frame[], record: Uint8Array): true {
    this.unacked.push(frames);
    this.unackedFrames += frames.length;
    this.sentBatches++;
    this.writer.writeOrQueue(record);
    this.forgetAcked();
    if (!this.congested && this.writer.queuedBytes > LINK_HIGH_WATER_BYTES) this.becomeCongested();
    return true;
  }

  /** Forget what the peer has handled (the counter wraps at 2^32 like sentBatches | 0). */
  private forgetAcked(): void {
    const acked = Atomics.load(this.outAcks, 0);
    while (this.unacked.length > ((this.sentBatches - acked) | 0)) this.unackedFrames -= this.unacked.shift()!.length;
  }

  /** The peer thread reads slower than we write: senders pause until the overflow queue is out. */
  private becomeCongested(): void {
    this.congested = true;
    this.onCongestion?.(true);
    void this.writer.drained().then(() => {
      if (!this.congested) return;
      this.congested = false;
      this.onCongestion?.(false);
    });
  }

  /** Frames sent or queued here that the peer has not handled yet. */
  pending(): number {
    this.forgetAcked();
    return this.unackedFrames + this.originals.length;
  }

  /**
   * After the peer died: every frame it never handled (sent but unacknowledged,
   * or not flushed yet), in order. Call before close().
   */
  salvage(): Frame[] {
    this.forgetAcked();
    this.unackedFrames = 0;
    const frames: Frame[] = [];
    let batch: Frame[] | undefined;
    while ((batch = this.unacked.shift()) !== undefined) frames.push(...batch);
    frames.push(...this.originals);
    this.originals = [];
    this.destinations = [];
    return frames;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.stop();
    this.writer.close();
  }
}
