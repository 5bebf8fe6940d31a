/**
 * An actor's address. It is a value: it names the actor (`id`, unique in the
 * whole convention) and the kernel that hosts it (`kernel`), which is all a
 * router needs. Addresses cross threads, processes and hosts through the codec
 * and compare with `equals` (or by `id`), not with `===`.
 */
const LOCAL = Symbol('thespis.address.local');

export class ActorAddress {
  /** Cached local actor record, set by the kernel that hosts it; never serialised. */
  [LOCAL]: unknown = undefined;

  constructor(
    /** The kernel that hosts (or will host) the actor. */
    readonly kernel: string,
    /** Unique across the convention; stable for the actor's whole life. */
    readonly id: string,
  ) {}

  equals(other: unknown): boolean {
    return other instanceof ActorAddress && other.id === this.id;
  }

  toString(): string {
    return `ActorAddress(${this.id})`;
  }

  toJSON(): { kernel: string; id: string } {
    return { kernel: this.kernel, id: this.id };
  }
}

/** @internal Kernel-side access to the cached local record. */
export const localSlot: typeof LOCAL = LOCAL;

export function isActorAddress(value: unknown): value is ActorAddress {
  return value instanceof ActorAddress;
}
