/**
 * What kernels say to each other. Frames are short tuples (cheap to encode,
 * and the codec keeps ActorAddress and system messages typed inside them).
 * A link moves frames in order; nothing here knows how.
 */
import type { ActorAddress } from '../address.js';
import { registerMessage } from '../messages.js';
import type { Capabilities } from './capabilities.js';
import type { SpecRef } from './spec.js';

/** Global-name actors have the address "name:<name>" on the admin's kernel, which routes to them. */
export const NAME_PREFIX = 'name:';

export const enum FrameKind {
  Message = 0,
  Create = 1,
  Watch = 2,
  Unwatch = 3,
  Control = 4,
}

export interface CreateRequest {
  address: ActorAddress;
  parent: ActorAddress;
  spec: SpecRef;
  globalName?: string;
  requirements?: Capabilities;
  /** Endpoint told with `Created` once the actor can receive (or failed). */
  ack?: ActorAddress;
  /** Set when the actor is a member of the troupe led by this address. */
  troupeLeader?: ActorAddress;
}

export type Frame =
  | [FrameKind.Message, ActorAddress, ActorAddress | null, unknown]
  | [FrameKind.Create, CreateRequest]
  | [FrameKind.Watch, ActorAddress, ActorAddress] // target, watcher
  | [FrameKind.Unwatch, ActorAddress, ActorAddress] // target, watcher
  | [FrameKind.Control, ControlOp];

/** Admin ↔ kernel housekeeping that is not addressed to an actor. */
export type ControlOp =
  | { op: 'capabilities'; capabilities: Capabilities; ack?: ActorAddress }
  | { op: 'status'; ack: ActorAddress }
  | { op: 'stopAll'; ack: ActorAddress }
  /**
   * To the main thread: start a kernel under this id (frames for it are held
   * meanwhile): a child process started that way when `startup` is set (with
   * the actor's module for `fork` to preload), else a dedicated thread.
   */
  | { op: 'spawnKernel'; kernelId: string; startup?: 'spawn' | 'fork' | 'forkserver'; preload?: string }
  /** Another kernel is gone (its thread or process died): report its actors as exited. */
  | { op: 'kernelDown'; kernelId: string }
  /**
   * To the main thread from a process kernel whose actors are all gone: close
   * my link. The process answers whatever still arrives, and leaves when the
   * link ends, so nothing sent to it before then is lost.
   */
  | { op: 'retire'; kernelId: string };

/** Reply to a create request's `ack`. */
export class Created {
  constructor(
    readonly address: ActorAddress,
    readonly error: string | undefined,
    readonly errorName: string | undefined,
  ) {}
}

/** Reply to a `capabilities` / `stopAll` control op once its effect is complete. */
export class ControlDone {
  constructor(
    readonly kernel: string,
    readonly detail: unknown = undefined,
  ) {}
}

/** To a watcher: the watched actor is dead (or never existed). */
export class TargetDown {
  constructor(readonly target: ActorAddress) {}
}

registerMessage(TargetDown, 'thespis.internal.TargetDown');
registerMessage(Created, 'thespis.internal.Created');
registerMessage(ControlDone, 'thespis.internal.ControlDone');
