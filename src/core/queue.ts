/**
 * A growable ring buffer of message/sender pairs: the mailbox. Pairs are stored
 * interleaved in one array so a push allocates nothing once the ring has grown
 * to the actor's working size (an envelope object per message costs more than
 * the whole inline send otherwise).
 */
const EMPTY: unknown[] = [];

export class Mailbox<M, S> {
  // Starts empty: most actors sit idle most of the time, and a million idle
  // actors should not each hold a ring they are not using.
  private slots: unknown[] = EMPTY;
  private head = 0; // index of the first pair's message slot
  private count = 0;
  private mask = 0;

  get length(): number {
    return this.count;
  }

  push(message: M, sender: S): void {
    if (this.count * 2 === this.slots.length) this.grow();
    const at = (this.head + this.count * 2) & this.mask;
    this.slots[at] = message;
    this.slots[at + 1] = sender;
    this.count++;
  }

  /** Message of the oldest pair; call only when length > 0. */
  peekMessage(): M {
    return this.slots[this.head] as M;
  }

  peekSender(): S {
    return this.slots[this.head + 1] as S;
  }

  dropFirst(): void {
    this.slots[this.head] = undefined;
    this.slots[this.head + 1] = undefined;
    this.head = (this.head + 2) & this.mask;
    this.count--;
  }

  /** Removes and returns every pair, oldest first. */
  takeAll(): Array<[M, S]> {
    const out: Array<[M, S]> = [];
    while (this.count > 0) {
      out.push([this.peekMessage(), this.peekSender()]);
      this.dropFirst();
    }
    return out;
  }

  private grow(): void {
    const next = new Array<unknown>(Math.max(8, this.slots.length * 2));
    for (let i = 0; i < this.count * 2; i++) next[i] = this.slots[(this.head + i) & this.mask];
    this.slots = next;
    this.head = 0;
    this.mask = next.length - 1;
  }
}

/** A plain FIFO of items (run queue, held frames) with O(1) shift. */
export class Fifo<T> {
  private items: Array<T | undefined> = new Array(16);
  private head = 0;
  private count = 0;
  private mask = 15;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) {
      const next = new Array<T | undefined>(this.items.length * 2);
      for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) & this.mask];
      this.items = next;
      this.head = 0;
      this.mask = next.length - 1;
    }
    this.items[(this.head + this.count) & this.mask] = item;
    this.count++;
  }

  /** The items, oldest first (the queue keeps them). */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.head + i) & this.mask] as T);
    return out;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    return item;
  }
}
