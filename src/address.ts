/**
 * An actor's address. It is a value: it names the actor (`id`, unique in the
 * whole convention) and the kernel that hosts it (`kernel`), which is all a
 * router needs. Addresses cross threads, processes and hosts through the codec
 * and compare with `equals` (or by `id`), not with `===`.
 */
import { InvalidActorAddressError } from './errors.js';

const LOCAL = Symbol('thespis.address.local');
/** Global-name addresses (core/protocol.ts NAME_PREFIX; repeated to keep this file free of core imports). */
const NAME_PREFIX = 'name:';

/** The kernel that made an id ("<kernel>.<n>", or "<kernel>.<n>/<m>" for an ask's reply address). */
function creatorOf(id: string): string {
  const slash = id.indexOf('/');
  const base = slash < 0 ? id : id.slice(0, slash);
  const dot = base.lastIndexOf('.');
  return dot < 0 ? id : base.slice(0, dot);
}

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

  /**
   * The text form, which `ActorAddress.parse` reads back: the id, followed by
   * `@<kernel>` when the actor lives on another kernel than the one that made
   * its id; `name:<globalName>` for a global name (which means the actor of
   * that name on whichever system the text is used with).
   */
  toString(): string {
    if (this.id.startsWith(NAME_PREFIX)) return this.id;
    return this.kernel === creatorOf(this.id) ? this.id : `${this.id}@${this.kernel}`;
  }

  /** Reads the text form (`String(address)`); throws InvalidActorAddressError for anything else. */
  static parse(text: string): ActorAddress {
    if (typeof text !== 'string' || text.length === 0 || text.length > 1024 || /\s/.test(text)) {
      throw new InvalidActorAddressError(`not an actor address: ${JSON.stringify(text)}`);
    }
    if (text.startsWith(NAME_PREFIX)) {
      if (text.length === NAME_PREFIX.length) throw new InvalidActorAddressError('a global name address needs a name after "name:"');
      return new ActorAddress('', text);
    }
    const at = text.lastIndexOf('@');
    const id = at < 0 ? text : text.slice(0, at);
    const kernel = at < 0 ? creatorOf(id) : text.slice(at + 1);
    if (!kernel.includes(':') || id.length === 0 || creatorOf(id) === id) {
      throw new InvalidActorAddressError(`not an actor address: ${JSON.stringify(text)} (expected "<system>:<kernel>.<n>[@<kernel>]" or "name:<globalName>")`);
    }
    return new ActorAddress(kernel, id);
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
