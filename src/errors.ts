/**
 * Typed errors of the public surface. Each has a stable `name` so users can
 * match on it after it crossed a boundary (where `instanceof` may not hold).
 */
export class ThespisError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An ask or listen saw no reply in time. */
export class ActorTimeoutError extends ThespisError {}

/** The target of an ask is dead, or died before it answered. */
export class DeadActorError extends ThespisError {
  constructor(message: string, readonly address?: unknown) {
    super(message);
  }
}

/** The target threw on the message twice; `poison` is the PoisonMessage it sent back. */
export class PoisonError extends ThespisError {
  constructor(message: string, readonly poison: unknown) {
    super(message);
  }
}

/** No system in reach has the capabilities the actor requires. */
export class NoCompatibleSystemError extends ThespisError {}

/** The spec given to createActor is not an actor class or a loadable "<module>#<Export>". */
export class InvalidActorSpecError extends ThespisError {}

/** `send` / `tell` / `ask` was given something that is not an ActorAddress. */
export class InvalidActorAddressError extends ThespisError {}

/** The system was shut down (or is shutting down) when the call was made. */
export class ActorSystemShutdownError extends ThespisError {}

/** Bytes from a link broke a codec or framing limit (size, depth) or were not valid CBOR. */
export class CodecError extends ThespisError {}

/**
 * A message encodes to more than a link carries (`maxFrameBytes`, 64 MiB by
 * default): it was not sent. `size` is its encoded size in bytes (or a lower
 * bound, when that alone settles it); `limit` the limit it broke.
 */
export class MessageTooLargeError extends CodecError {
  constructor(message: string, readonly size: number, readonly limit: number) {
    super(message);
  }
}

/** The native addon is needed for this feature and is not built. */
export class NativeAddonMissingError extends ThespisError {}

/**
 * A client could not reach the system it was given (refused, closed, a wrong
 * or missing secret, no answer in time), or lost its connection to it.
 */
export class SystemConnectionError extends ThespisError {}

/** The actor's constructor (or its module) failed; `message` carries the original error. */
export class ActorCreationError extends ThespisError {}

/** The typed error for a failed create, from the name and message that travelled back in its answer. */
export function creationError(name: string | undefined, message: string): Error {
  if (name === 'NoCompatibleSystemError') return new NoCompatibleSystemError(message);
  if (name === 'InvalidActorSpecError') return new InvalidActorSpecError(message);
  return new ActorCreationError(`actor creation failed: ${message}`);
}
