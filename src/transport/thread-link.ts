/**
 * A link between two threads: frames encoded with the codec, moved through a
 * pair of SharedArrayBuffer rings (one per direction). Encoding is sequential
 * (cbor-x record definitions are sent once, then referenced), which is valid
 * because a ring delivers every record exactly once and in order.
 *
 * Frames sent during one turn of the microtask queue travel as one record
 * `[dest, frame, dest, frame, ...]` (dest null for the peer kernel itself):
 * per-record costs — the encoder call, the ring header, the reader's decode —
 * are paid once per batch instead of once per message, which is where
 * cross-thread speed is. A record ends after BATCH_FRAMES frames or
 * BATCH_BYTES bytes (fast-batch.ts), and never exceeds maxFrameBytes: a frame
 * that alone would is refused (`onRefused`), the rest of its batch goes on.
 *
 * Large records (16 KiB or more with strings or bytes) do not cross the ring:
 * they are written into a buffer of their own and transferred on the link's
 * port, the ring carrying a marker in their place (bulk-port.ts).
 *
 * Nothing is lost silently when the peer thread dies: each direction has an
 * acknowledgement counter the receiver bumps after handling a batch, and the
 * sender keeps the original frames of every batch not yet acknowledged (one
 * reference per batch, trimmed at each flush). `salvage()` returns them, so
 * the kernel can turn them into dead letters, failed creates and down watches.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Frame } from '../core/protocol.js';
import type { MessageTooLargeError } from '../errors.js';
import { AddressDecoder, AddressEncoder, packMessageFrame, unpackMessageFrame } from './codec/address-table.js';
import { Fifo } from '../core/queue.js';
import { BULK_RECORD_BYTES } from './codec/cbor-writer.js';
import { Codec } from './codec/codec.js';
import { FAST_BATCH, FAST_REFUSED, FastBatchWriter, fastBatchDecoder } from './codec/fast-batch.js';
import { BulkPort } from './bulk-port.js';
import { HandleScope, encodeOrUndo } from './handles.js';
import { LINK_HIGH_WATER_BYTES, type FrameHandler, type Link } from './link.js';
import { frameTooLarge, retryFailedBatch } from './message-size.js';
import { createRing, RingReader, RingWriter } from './ring/ring.js';

export const RING_BYTES = 1 << 20;
const NO_FDS: number[] = [];
const BATCH_FRAMES = 256;
/** The ring record that stands for a record sent on the port (0xfe starts no CBOR item). */
const BULK_MARK = 0xfe;
const BULK_MARKER = new Uint8Array([BULK_MARK]);
/**
 * Bulk records bypass the ring (bulk-port.ts), so its backlog does not see
 * them: senders pause while more than BULK_HIGH_WATER_BYTES of them are
 * unacknowledged, until under BULK_LOW_WATER_BYTES. High enough that two
 * 16 MiB messages are in flight at once (the receiver decodes one while the
 * next is written).
 */
const BULK_HIGH_WATER_BYTES = 32 * 1024 * 1024;
/** Atomics.waitAsync (Node 16+; not in the TypeScript lib this project targets). */
type WaitAsync = (typed: Int32Array, index: number, value: number, timeoutMs: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
const BULK_LOW_WATER_BYTES = 8 * 1024 * 1024;
/** Bytes of records decoded per turn of the event loop, at most (see handle()). */
const DECODE_BUDGET = 1 << 20;
/** Records taken from the ring per turn, at most: a marker is a byte, and 64 batches of small frames are more than a turn takes. */
const BATCH_RECORDS = 64;

/** The two rings of a link, and their acknowledgement counters, as seen from one end. */
export interface RingPair {
  out: SharedArrayBuffer;
  in: SharedArrayBuffer;
  /** Batches the peer has handled from `out`. */
  outAcks: SharedArrayBuffer;
  /** Batches this end has handled from `in`. */
  inAcks: SharedArrayBuffer;
  /** This end of the port for large records (transfer it with the pair when posting it to a thread). */
  port: MessagePort;
}

export function createRingPair(): { a: RingPair; b: RingPair } {
  const ab = createRing(RING_BYTES);
  const ba = createRing(RING_BYTES);
  const abAcks = new SharedArrayBuffer(4);
  const baAcks = new SharedArrayBuffer(4);
  const { port1, port2 } = new MessageChannel();
  return {
    a: { out: ab, in: ba, outAcks: abAcks, inAcks: baAcks, port: port1 },
    b: { out: ba, in: ab, outAcks: baAcks, inAcks: abAcks, port: port2 },
  };
}

export class ThreadLink implements Link {
  private readonly codec = new Codec({}, { sequential: true, trusted: true });
  private readonly bulk: BulkPort;
  /** Batches of the commonest frames skip the general codec (fast-batch.ts). */
  private readonly fastWriter: FastBatchWriter;
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
  /** Original frames of sent batches the peer has not acknowledged, oldest first, and their sizes. */
  private readonly unacked = new Fifo<Frame[]>();
  /** Frames in `unacked`. */
  private unackedFrames = 0;
  private readonly unackedSizes = new Fifo<number>();
  private unackedBytesCount = 0;
  private sentBatches = 0;
  /** Bulk bytes sent and not yet acknowledged. */
  private bulkInFlight = 0;
  private ringCongested = false;
  private bulkCongested = false;
  /** Over the high-water mark of bytes queued behind a full ring, or of bulk bytes in flight (flow control). */
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
    this.bulk = new BulkPort(rings.port);
    this.fastWriter = new FastBatchWriter(this.codec.limits.maxFrameBytes, { bulk: this.bulk });
    // A round trip between two pool threads takes ~20-30 µs here: a reader that
    // spins a little longer than that catches the reply before going to sleep
    // (p50 ping-pong 5-6 µs instead of 20-90). The spin only runs while traffic
    // is recent, so an idle system stays idle.
    this.reader = new RingReader(rings.in, { maxSpinUs: 50, maxBatchRecords: BATCH_RECORDS });
    this.outAcks = new Int32Array(rings.outAcks);
    this.inAcks = new Int32Array(rings.inAcks);
    this.onFrame = onFrame;
    this.reader.start((records) => {
      if (this.backlog !== null) {
        for (const record of records) this.backlog.push(record); // behind what waits
        return;
      }
      this.turnBudget = DECODE_BUDGET; // a reader callback starts a turn of its own
      this.handle(records, 0);
    });
  }

  private readonly onFrame: FrameHandler;
  /** Records read and not handled yet, oldest first (see handle()). */
  private backlog: Uint8Array[] | null = null;
  /** Bytes of records this turn of the event loop may still decode. */
  private turnBudget = DECODE_BUDGET;
  private readonly resumeBound = (): void => this.resume();
  private readonly nextTurnBound = (): void => {
    this.turnBudget = DECODE_BUDGET;
    this.resume();
  };

  private resume(): void {
    const backlog = this.backlog;
    this.backlog = null;
    if (backlog !== null && !this.closed) this.handle(backlog, 0);
  }

  /**
   * Decodes and delivers records from `from` on. What is decoded stays alive
   * until the kernel has run its actors on it, and a young-generation
   * collection copies (and soon promotes) whatever is alive: decoding every
   * large record the ring announced at once (a marker is a byte) spent a
   * quarter of a receiver's time collecting. So after a large record the
   * rest waits for a microtask, which comes after the kernel's dispatch of
   * what was delivered; and after DECODE_BUDGET bytes in one turn, for the
   * next turn, so timers and I/O get theirs.
   */
  private handle(records: Uint8Array[], from: number): void {
    for (let i = from; i < records.length; i++) {
      const bytes = this.received(records[i]!, this.onFrame);
      this.turnBudget -= bytes;
      if (i + 1 === records.length) return;
      if (this.turnBudget <= 0) {
        this.backlog = records.slice(i + 1);
        setImmediate(this.nextTurnBound);
        return;
      }
      if (bytes >= BULK_RECORD_BYTES) {
        this.backlog = records.slice(i + 1);
        queueMicrotask(this.resumeBound);
        return;
      }
    }
  }

  /** Bytes sent that the peer has not handled yet (in the ring, queued for it, or on the port). */
  get unackedBytes(): number {
    this.trimAcked();
    return this.unackedBytesCount;
  }

  /** Decodes and delivers one record; returns its size. */
  private received(ringRecord: Uint8Array, onFrame: FrameHandler): number {
    const bulk = ringRecord.length === 1 && ringRecord[0] === BULK_MARK;
    const record = bulk ? this.bulk.receive() : ringRecord;
    const size = record.length; // a record handed back is detached: its length reads 0 afterwards
    const fast = record[0] === FAST_BATCH;
    const destinations: (string | null)[] = [];
    let decoded: unknown;
    try {
      decoded = fast
        ? this.fastDecoder.decode(record, bulk, this.receivedAddresses, destinations)
        : this.handles.decoding(NO_FDS, () => this.codec.decode(record));
    } catch (error) {
      this.onBadFrame(error);
      Atomics.add(this.inAcks, 0, 1);
      return size;
    }
    // Strings are copies and bytes copies or views: unless views were handed out, the buffer can be used again.
    if (bulk && !(fast && this.fastDecoder.tookViews)) this.bulk.giveBack(record);
    const self = this.ends.self;
    if (fast) {
      // Frames whole and checked, addresses resolved (fast-batch-reader.ts).
      const frames = decoded as Frame[];
      for (let i = 0; i < frames.length; i++) onFrame(destinations[i] ?? self, frames[i]!, false);
    } else {
      const batch = decoded as unknown[];
      const withHandles = this.handles.decoded > 0;
      for (let i = 0; i < batch.length; i += 2) {
        const frame = batch[i + 1] as Frame;
        if (!unpackMessageFrame(this.receivedAddresses, frame)) {
          this.onBadFrame(new Error('message frame names an address the link never defined'));
          continue;
        }
        onFrame((batch[i] as string | null) ?? self, frame, withHandles);
      }
    }
    Atomics.add(this.inAcks, 0, 1);
    if (bulk) Atomics.notify(this.inAcks, 0); // a sender may wait for bulk acknowledgements
    return size;
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

  /** Told when frames were dropped because they could not be encoded (a function in a message, say); count > 0. */
  onDropped: ((count: number, error: unknown) => void) | undefined;
  /** Told of each frame refused because it alone encodes to more than maxFrameBytes (it was not sent). */
  onRefused: ((frame: Frame, error: MessageTooLargeError) => void) | undefined;
  private dropped = 0;

  private flush(): void {
    this.flushQueued = false;
    if (this.originals.length === 0 || this.closed) return;
    const destinations = this.destinations;
    const originals = this.originals;
    this.destinations = [];
    this.originals = [];
    const n = originals.length;
    for (let i = 0; i < n; ) {
      const taken = this.fastWriter.encode(destinations, originals, i, this.ends.peer, this.sentAddresses);
      if (taken > 0) {
        this.sent(taken === n ? originals : originals.slice(i, i + taken), this.fastWriter.record, this.fastWriter.recordIsBulk);
        i += taken;
      } else if (taken === FAST_REFUSED) {
        this.refuse(originals[i]!, this.fastWriter.refusedBytes);
        i++;
      } else {
        this.sendGeneral(destinations, originals, i, n);
        i = n;
      }
    }
    if (this.dropped > 0) {
      this.onDropped?.(this.dropped, this.lastError);
      this.dropped = 0;
    }
  }

  /**
   * Frames [from, to) through the general codec as one record, split in
   * halves while that is over the limit; a frame that cannot be encoded (or
   * alone is over the limit) is dropped (refused), so only the bad ones are lost.
   */
  private sendGeneral(destinations: string[], frames: Frame[], from: number, to: number): void {
    const refs = this.sentAddresses;
    let record: Uint8Array;
    try {
      record = encodeOrUndo(refs, this.handles, () => {
        // Addresses of message frames travel as link-local numbers
        // (address-table.ts), and the usual destination, the peer itself, as
        // null: writing its id with every frame cost ~15% of encoding.
        const peer = this.ends.peer;
        const batch: unknown[] = [];
        for (let i = from; i < to; i++) {
          const destination = destinations[i]!;
          batch.push(destination === peer ? null : destination, packMessageFrame(refs, frames[i]!));
        }
        return this.codec.encode(batch);
      });
    } catch (error) {
      retryFailedBatch(error, from, to, (a, b) => this.sendGeneral(destinations, frames, a, b), (i, size) => this.refuse(frames[i]!, size), (failure) => {
        this.lastError = failure;
        this.dropped++;
      });
      return;
    }
    let bulk = false;
    if (record.length >= BULK_RECORD_BYTES) {
      const copy = this.bulk.take(record.length);
      copy.set(record);
      record = copy.subarray(0, record.length);
      bulk = true;
    }
    this.sent(to - from === frames.length ? frames : frames.slice(from, to), record, bulk);
  }

  private refuse(frame: Frame, size: number): void {
    this.onRefused?.(frame, frameTooLarge(frame, size, this.codec.limits.maxFrameBytes, true));
  }

  private sent(frames: Frame[], record: Uint8Array, bulk: boolean): void {
    this.unacked.push(frames);
    this.unackedFrames += frames.length;
    const size = record.length; // a bulk record is transferred below: its length reads 0 afterwards
    // Bulk records are counted negative, to tell them apart when acknowledged.
    this.unackedSizes.push(bulk ? -size : size);
    this.unackedBytesCount += size;
    this.sentBatches++;
    if (bulk) {
      this.bulk.send(record);
      this.writer.writeOrQueue(BULK_MARKER);
      // Now, not at the end of the turn: the peer decodes this record while we encode the next.
      this.writer.flush();
    } else this.writer.writeOrQueue(record);
    this.trimAcked();
    if (!this.ringCongested && this.writer.queuedBytes > LINK_HIGH_WATER_BYTES) this.ringBacklog();
    if (bulk) {
      this.bulkInFlight += size;
      if (!this.bulkCongested && this.bulkInFlight > BULK_HIGH_WATER_BYTES) this.bulkBacklog();
    }
  }

  /** Forget what the peer has handled (the counter wraps at 2^32 like sentBatches | 0). */
  private trimAcked(): void {
    const acked = Atomics.load(this.outAcks, 0);
    while (this.unacked.length > ((this.sentBatches - acked) | 0)) {
      this.unackedFrames -= this.unacked.shift()!.length;
      const size = this.unackedSizes.shift()!;
      if (size < 0) this.bulkInFlight += size;
      this.unackedBytesCount -= Math.abs(size);
    }
  }

  /** The peer thread reads slower than we write: senders pause until the overflow queue is out. */
  private ringBacklog(): void {
    this.ringCongested = true;
    this.updateCongestion();
    void this.writer.drained().then(() => {
      this.ringCongested = false;
      this.updateCongestion();
    });
  }

  /** Too many bulk bytes in flight: senders pause until the peer has handled enough of them. */
  private bulkBacklog(): void {
    this.bulkCongested = true;
    this.updateCongestion();
    const check = (): void => {
      if (this.closed) return;
      this.trimAcked();
      if (this.bulkInFlight < BULK_LOW_WATER_BYTES) {
        this.bulkCongested = false;
        this.updateCongestion();
        return;
      }
      // The peer notifies after acknowledging a bulk record; the timeout only guards a lost wake-up.
      const wait = waitAsync(this.outAcks, 0, Atomics.load(this.outAcks, 0), 100);
      if (wait.async) void wait.value.then(check);
      else queueMicrotask(check);
    };
    check();
  }

  private updateCongestion(): void {
    const congested = this.ringCongested || this.bulkCongested;
    if (congested === this.congested) return;
    this.congested = congested;
    this.onCongestion?.(congested);
  }

  /** Frames sent or queued here that the peer has not handled yet. */
  pending(): number {
    this.trimAcked();
    return this.unackedFrames + this.originals.length;
  }

  /**
   * After the peer died: every frame it never handled (sent but unacknowledged,
   * or not flushed yet), in order. Call before close().
   */
  salvage(): Frame[] {
    this.trimAcked();
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
    this.bulk.close();
  }
}
