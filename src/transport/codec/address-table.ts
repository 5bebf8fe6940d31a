/**
 * Per-link address interning. Each end of an ordered link numbers the
 * addresses in the order they first cross it; afterwards a frame carries the
 * number instead of the tagged address (two strings). The sender's table and
 * the receiver's list grow in step because the link delivers every record in
 * order, exactly once. The receiver hands out the same ActorAddress object
 * every time, so the kernel's per-address cell cache hits.
 */
import { ActorAddress } from '../../address.js';
import { FrameKind, type Frame } from '../../core/protocol.js';

const MAX_ENTRIES = 1 << 16;

export class AddressEncoder {
  private readonly numbers = new Map<string, number>();
  /**
   * Ids numbered since `mark()` (the first `addedCount`), while `marked`:
   * counted into one array rather than a fresh one per mark, as a writer
   * marks once per frame.
   */
  private readonly added: string[] = [];
  private addedCount = 0;
  private marked = false;

  // The last address seen in each position of a frame, and its number: an
  // actor sending a stream to one target names the same two addresses in
  // every frame, and an identity check is cheaper than a lookup by id.
  private lastTo: ActorAddress | null = null;
  private lastToNumber = 0;
  private lastFrom: ActorAddress | null = null;
  private lastFromNumber = 0;

  /** `ref` for a frame's destination, with a one-entry cache. */
  refTo(address: ActorAddress): ActorAddress | number {
    if (address === this.lastTo) return this.lastToNumber;
    const ref = this.ref(address)!;
    if (typeof ref === 'number') {
      this.lastTo = address;
      this.lastToNumber = ref;
    }
    return ref;
  }

  /** `ref` for a frame's sender, with a one-entry cache. */
  refFrom(address: ActorAddress | null): ActorAddress | number | null {
    if (address === this.lastFrom && address !== null) return this.lastFromNumber;
    const ref = this.ref(address);
    if (typeof ref === 'number') {
      this.lastFrom = address;
      this.lastFromNumber = ref;
    }
    return ref;
  }

  /** The number of an address already sent, without numbering a new one. */
  numberOf(address: ActorAddress): number | undefined {
    if (address === this.lastTo) return this.lastToNumber;
    if (address === this.lastFrom) return this.lastFromNumber;
    return this.numbers.get(address.id);
  }

  /** The number for an address already sent, or the address itself (numbered from now on). */
  ref(address: ActorAddress | null): ActorAddress | number | null {
    if (address === null) return null;
    const known = this.numbers.get(address.id);
    if (known !== undefined) return known;
    if (this.numbers.size < MAX_ENTRIES) {
      this.numbers.set(address.id, this.numbers.size);
      if (this.marked) this.added[this.addedCount++] = address.id;
    }
    return address;
  }

  /** Start remembering new numbers, so a record that then fails to encode can take them back. */
  mark(): void {
    this.marked = true;
    this.addedCount = 0;
  }

  /** The record was sent: keep the numbers given since `mark()`. */
  commit(): void {
    this.marked = false;
  }

  /** The record was not sent: forget the numbers given since `mark()` (the peer never saw them). */
  rollback(): void {
    for (let i = 0; i < this.addedCount; i++) this.numbers.delete(this.added[i]!);
    this.marked = false;
    this.addedCount = 0;
    this.lastTo = this.lastFrom = null;
  }
}

export class AddressDecoder {
  private readonly list: ActorAddress[] = [];

  /** The address numbered `n`; undefined when the peer never defined it. */
  numbered(n: number): ActorAddress | undefined {
    return this.list[n];
  }

  /** Undefined for a number the peer never defined: the frame is corrupt. */
  resolve(ref: unknown): ActorAddress | null | undefined {
    if (ref === null) return null;
    if (typeof ref === 'number') return this.numbered(ref);
    if (!(ref instanceof ActorAddress)) return undefined;
    if (this.list.length < MAX_ENTRIES) this.list.push(ref);
    return ref;
  }
}

/** A message frame with its two addresses replaced by link-local numbers where known (a new array). */
export function packMessageFrame(refs: AddressEncoder, frame: Frame): Frame {
  if (frame[0] !== FrameKind.Message) return frame;
  return [FrameKind.Message, refs.refTo(frame[1]), refs.refFrom(frame[2]), frame[3]] as unknown as Frame;
}

/** Undoes packMessageFrame on a received frame, in place; false when it names a number never defined. */
export function unpackMessageFrame(refs: AddressDecoder, frame: unknown[]): boolean {
  if (frame[0] !== FrameKind.Message) return true;
  const to = refs.resolve(frame[1]);
  const from = refs.resolve(frame[2]);
  if (to == null || from === undefined) return false;
  frame[1] = to;
  frame[2] = from;
  return true;
}
