/**
 * What kernels say to each other. Frames are short tuples (cheap to encode,
 * and the codec keeps ActorAddress and system messages typed inside them).
 * A link moves frames in order; nothing here knows how.
 */
import type { ActorAddress } from '../address.js';
import { registerMessage } from '../messages.js';
import type { Capabilities } from './placement/capabilities.js';
import type { RemoteSystem } from './placement/remotes.js';
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
  /**
   * Another kernel is gone (its thread or process died): report its actors as
   * exited. `drain` (to a process, about a process that retires): answer
   * `downSeen` once nothing more of yours for it is on the way.
   */
  | { op: 'kernelDown'; kernelId: string; drain?: boolean }
  /**
   * Retiring a process kernel whose actors are all gone, without losing what
   * other processes sent it (their envelopes are encoded for it alone, so
   * only it can turn them into dead letters):
   * 1. `retire`, process → main thread: I am idle;
   * 2. `kernelDown` with `drain` to every process that has sent it mail, which
   *    stops sending, ends its direct link to it, and answers `downSeen`;
   * 3. `drained`, main thread → the process, once all have answered: all
   *    that was sent to you is ahead of this (or on direct links, now ending);
   * 4. `retired`, the process → main thread, once its direct links have
   *    ended: I have handled everything; close my link.
   */
  | { op: 'retire'; kernelId: string }
  | { op: 'downSeen'; kernelId: string }
  | { op: 'drained' }
  | { op: 'retired'; kernelId: string }
  /**
   * Flow control (flow/flow.ts): `scope` (an actor id, a kernel id, a system id or
   * '*') is congested, so senders to it pause between messages, for `leaseMs`
   * unless renewed (0 or absent: until relieved). `kernel`: the kernel in
   * the actor's address, when `scope` is an actor (its id may have been
   * given by a creator on another system, so only `kernel` says whose it is). `fanOut`: to a main
   * kernel, which passes it on to every kernel of its system.
   */
  | { op: 'congested'; scope: string; kernel?: string; leaseMs?: number; fanOut?: boolean }
  | { op: 'relieved'; scope: string; kernel?: string; fanOut?: boolean }
  /** The other systems of the convention, for placement (main kernel → its kernels). */
  | { op: 'members'; members: RemoteSystem[] }
  /**
   * A process, to the main thread: the process `kernelId` sent it bytes that
   * break the protocol (on their direct link, or through the hub, which
   * forwards without decoding): `reason` says how. The main thread kills it.
   */
  | { op: 'peerBroke'; kernelId: string; reason: string };

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

/**
 * To the endpoint (an ask's reply address) whose message a link refused: it
 * encodes to more than the link carries. Delivered on the endpoint's own
 * kernel only; an ask waiting on it rejects with `error`.
 */
export class Refused {
  constructor(readonly error: Error) {}
}

/** To a watcher: the watched actor is dead (or never existed). */
export class TargetDown {
  constructor(readonly target: ActorAddress) {}
}

registerMessage(TargetDown, 'thespis.internal.TargetDown');
registerMessage(Created, 'thespis.internal.Created');
registerMessage(ControlDone, 'thespis.internal.ControlDone');
