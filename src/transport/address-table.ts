/**
 * Per-link address interning. Each end of an ordered link numbers the
 * addresses in the order they first cross it; afterwards a frame carries the
 * number instead of the tagged address (two strings). The sender's table and
 * the receiver's list grow in step because the link delivers every record in
 * order, exactly once. The receiver hands out the same ActorAddress object
 * every time, so the kernel's per-address cell cache hits.
 */
import { ActorAddress } from '../address.js';

const MAX_ENTRIES = 1 << 16;

export class AddressEncoder {
  private readonly numbers = new Map<string, number>();

  /** The number for an address already sent, or the address itself (numbered from now on). */
  ref(address: ActorAddress | null): ActorAddress | number | null {
    if (address === null) return null;
    const known = this.numbers.get(address.id);
    if (known !== undefined) return known;
    if (this.numbers.size < MAX_ENTRIES) this.numbers.set(address.id, this.numbers.size);
    return address;
  }
}

export class AddressDecoder {
  private readonly list: ActorAddress[] = [];

  /** Undefined for a number the peer never defined: the frame is corrupt. */
  resolve(ref: unknown): ActorAddress | null | undefined {
    if (ref === null) return null;
    if (typeof ref === 'number') return this.list[ref];
    if (!(ref instanceof ActorAddress)) return undefined;
    if (this.list.length < MAX_ENTRIES) this.list.push(ref);
    return ref;
  }
}
