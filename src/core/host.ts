/**
 * What a kernel needs from the place it lives in (main thread, worker, child
 * process, remote host): the hosts implement this, the kernel only calls it.
 */
import type { ActorAddress } from '../address.js';
import type { AdminOp } from './admin-request.js';
import type { Cell } from './cell.js';
import type { LogRecord } from './log.js';
import type { ControlOp, Frame } from './protocol.js';
import type { ActorBehavior, ActorClass, CreateOptions, ResolvedSpec, SpecRef } from './spec.js';

export interface PlacementRequest {
  spec: ResolvedSpec;
  options: CreateOptions;
  /** The creating actor's cell, or null for the system. */
  parent: Cell | null;
  /** Prefer the least loaded kernel over the creator's own (troupe members). */
  spread?: boolean;
}

/** What a kernel needs from the place it lives in. */
export interface KernelHost {
  /** Hand a frame to another kernel; false when that kernel does not exist (any more). */
  sendFrame(kernelId: string, frame: Frame): boolean;
  /** The kernel a new actor goes to (this kernel's id for local). Synchronous. */
  place(request: PlacementRequest): string;
  /** Import an actor class by reference (synchronously when it is already loaded). */
  loadClass(ref: SpecRef): ActorClass | Promise<ActorClass>;
  /**
   * Import an actor class from a loaded source (src/sources), once the
   * system's admin, asked through `kernel`, says the source may be used;
   * rejects with InvalidActorSpecError saying why not. A host without it
   * hosts no actors from sources.
   */
  loadSourceClass?(ref: SpecRef, hash: string, kernel: SourceRequester): Promise<ActorClass>;
  /** Run `fn` after letting the event loop breathe (I/O, timers). */
  yieldThen(fn: () => void): void;
  /** A runtime log record (the kernel's own warnings). */
  log(record: LogRecord): void;
  /** Global names, where this kernel can resolve them synchronously (the admin's kernel). */
  readonly names?: NameRegistry;
  /** An actor placed here died (placement counts actors per kernel; the placer counted it in). */
  uncounted?(): void;
  /** A control op reached this kernel; the host may act on it before the kernel does. */
  onControl?(op: ControlOp): void;
  /** A main kernel's host: send `frame` to every other kernel of the system (flow notices). */
  broadcast?(frame: Frame): void;
  /** Whether this kernel has a link of its own to `kernelId`, rather than through its default route. */
  routesDirect?(kernelId: string): boolean;
  /** Frames waiting in this host's links to other kernels (status().pendingMessages). */
  pendingInLinks?(): number;
}

/** What loading from a source needs of the kernel: a word with its admin, answered at an endpoint of its own. */
export interface SourceRequester {
  readonly id: string;
  admin(op: AdminOp): void;
  createEndpoint(behavior: ActorBehavior): Cell;
  removeEndpoint(cell: Cell): void;
}

export interface NameRegistry {
  lookup(name: string): ActorAddress | undefined;
  /** The kernel that hosts the actor registered under `name`. */
  hostOf(name: string): string | undefined;
  register(name: string, address: ActorAddress, hostKernel: string): void;
  /** The kernel hosting an actor that another system created here under an id routed by this kernel. */
  aliasHost(id: string): string | undefined;
}
