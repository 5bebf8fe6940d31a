/**
 * A link session between two systems: what makes a dropped TCP connection
 * lose and duplicate nothing.
 *
 * Numbered records (envelopes and membership records, see wire.ts) are
 * counted in each direction. The receiver acknowledges the count it has
 * handled; the sender keeps every record (and, for salvage, the frames it
 * carries) until it is acknowledged. When a connection is replaced (a redial,
 * or a second connection that won a simultaneous dial), the two hellos carry
 * each side's count: the sender resends from the first record the other side
 * lacks, and a receiver that sees a record it already has (it was still
 * reading the old connection when it wrote its hello) drops it, because it
 * counts each connection's records from the number it announced.
 *
 * Generations. A side that declares its peer gone (deadAfterMs of silence)
 * forgets what it had sent and received and bumps the pair's generation.
 * Hellos carry it: the side with the lower generation learns that its peer
 * started over, so it does the same (its unacknowledged records become dead
 * letters and the peer counts as gone and back), and counts start from zero
 * on both sides. Without that, a peer that forgot could be sent old records
 * again, which it would take as new: a duplicate. Generations outlive the
 * session (the `Generations` table), for the same reason.
 */
import type { Frame } from '../core/protocol.js';
import { Fifo } from '../core/queue.js';
import { recordLength, type RecordBytes } from '../transport/record-writes.js';

/** A record as sent: its bytes, and the frames it carries (for dead letters if it is lost). */
export interface SentRecord {
  readonly bytes: RecordBytes;
  readonly frames: readonly Frame[] | null;
}

/** Acknowledge after this many records, or this long after the first unacknowledged one. */
export const ACK_EVERY_RECORDS = 32;
export const ACK_AFTER_MS = 20;

export class Session {
  /** Numbered records sent (the last one's number). */
  sent = 0;
  /** Of those, acknowledged by the peer. */
  acked = 0;
  /** Numbered records received and handled. */
  received = 0;
  /** `received` as last acknowledged to the peer. */
  ackedToPeer = 0;
  private readonly unacked = new Fifo<SentRecord>();
  unackedBytes = 0;
  unackedFrames = 0;

  constructor(public generation: number) {}

  /** Keep `record` until acknowledged; returns its number. */
  add(record: SentRecord): number {
    this.unacked.push(record);
    this.unackedBytes += recordLength(record.bytes);
    if (record.frames !== null) this.unackedFrames += record.frames.length;
    return ++this.sent;
  }

  /** The peer has handled `count` records: forget them. False when `count` is impossible. */
  ack(count: number): boolean {
    if (count > this.sent) return false;
    while (this.acked < count) {
      const record = this.unacked.shift()!;
      this.unackedBytes -= recordLength(record.bytes);
      if (record.frames !== null) this.unackedFrames -= record.frames.length;
      this.acked++;
    }
    return true;
  }

  /** Records the peer lacks, in order, after it said it has `count` (false when impossible). */
  resendAfter(count: number): SentRecord[] | false {
    if (!this.ack(Math.max(count, this.acked))) return false;
    return this.unacked.toArray();
  }

  /** Forget everything (the peer is gone, or started over): the records never acknowledged. */
  reset(generation: number): SentRecord[] {
    const lost = this.unacked.toArray();
    while (this.unacked.shift() !== undefined);
    this.generation = generation;
    this.sent = this.acked = this.received = this.ackedToPeer = 0;
    this.unackedBytes = this.unackedFrames = 0;
    return lost;
  }
}

/** The generation last used with each system ever met, so a forgotten peer cannot resume a stale session. */
export class Generations {
  private readonly bySystem = new Map<string, number>();

  get(systemId: string): number {
    return this.bySystem.get(systemId) ?? 0;
  }

  set(systemId: string, generation: number): void {
    this.bySystem.set(systemId, generation);
  }
}

/**
 * Where each direction's stream starts on a new connection, from the two
 * hellos (see the file comment). Both sides compute the same numbers.
 */
export function streamStarts(
  mine: { generation: number; received: number },
  theirs: { generation: number; received: number },
): { generation: number; inboundFrom: number; outboundFrom: number } {
  const generation = Math.max(mine.generation, theirs.generation);
  return {
    generation,
    /** The count of the peer's records this side has, as the peer will assume. */
    inboundFrom: mine.generation === generation ? mine.received : 0,
    /** The count of this side's records the peer has. */
    outboundFrom: theirs.generation === generation ? theirs.received : 0,
  };
}
