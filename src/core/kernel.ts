/**
 * The kernel: hosts actors in one thread. It owns the actor table, delivers
 * messages (locally without copying, or as frames through its host), and runs
 * the dispatch loop. Where it lives (main thread, worker, child process) is the
 * host's business; the kernel only sees the KernelHost interface.
 *
 * Where a message goes: `send()` → a local cell's mailbox (fast path through
 * the address's cached cell) or `host.sendFrame()` to the kernel named in the
 * address → that kernel's `receiveFrame()` → `deliverLocal()` → mailbox →
 * `Dispatcher` (dispatch.ts) calls `receiveMessage`.
 */
import { ActorAddress, localSlot } from '../address.js';
import { ActorExitRequest, ChildActorExited } from '../messages.js';
import { AdminRequest, type AdminOp } from './admin-request.js';
import { Backpressure } from './flow/backpressure.js';
import type { Capabilities } from './placement/capabilities.js';
import { Cell, CellKind, CellState } from './cell.js';
import { Dispatcher } from './dispatch.js';
import { MAILBOX_HIGH, systemOf } from './flow/flow.js';
import { Holds } from './lifecycle/holds.js';
import { Lifecycle } from './lifecycle/lifecycle.js';
import { ControlDone, Created, FrameKind, NAME_PREFIX, TargetDown, type Frame } from './protocol.js';
import type { KernelHost } from './host.js';
import { RemoteSystems } from './placement/remotes.js';
import type { ActorBehavior } from './spec.js';

export type { KernelHost, NameRegistry, PlacementRequest } from './host.js';

export class Kernel {
  readonly cells = new Map<string, Cell>();
  readonly holds: Holds;
  /** Watches this kernel placed on actors elsewhere: watcher id → [watcher, target, kernel routed to]. */
  private readonly remoteWatches = new Map<string, [ActorAddress, ActorAddress, string?]>();
  readonly dispatcher: Dispatcher;
  readonly lifecycle: Lifecycle;
  readonly flow: Backpressure;
  /** Other systems of the convention, for placement (remotes.ts). */
  readonly remotes = new RemoteSystems();
  capabilities: Capabilities;
  /** Told after this kernel has handled another kernel's death (kernelDown). */
  readonly downListeners = new Set<(kernelId: string) => void>();
  private seq = 0;
  private closed = false;

  constructor(
    /** Unique among all kernels that can ever exchange messages. */
    readonly id: string,
    readonly host: KernelHost,
    /** The system's admin endpoint: parent of top-level actors, target of AdminRequests. */
    readonly adminAddress: ActorAddress,
    capabilities: Capabilities,
  ) {
    this.capabilities = { ...capabilities };
    this.holds = new Holds(id);
    this.dispatcher = new Dispatcher(this);
    this.lifecycle = new Lifecycle(this);
    this.flow = new Backpressure(this);
  }

  /** A fresh id for something this kernel creates: "<kernel>.<seq>". */
  nextId(): string {
    return `${this.id}.${++this.seq}`;
  }

  // ---- sending -------------------------------------------------------------

  send(from: ActorAddress | null, to: ActorAddress, body: unknown): void {
    const cached = to[localSlot] as Cell | undefined;
    if (cached !== undefined && cached.owner === this && cached.state === CellState.Ready) {
      this.dispatcher.enqueue(cached, body, from);
      if (cached.mailbox.length >= MAILBOX_HIGH) this.flow.full(cached, from);
    } else {
      // A global name read from text has no kernel: it means this system's.
      const kernel = to.kernel === '' ? this.adminAddress.kernel : to.kernel;
      if (kernel === this.id) this.deliverLocal(to, body, from, null);
      else if (!this.host.sendFrame(kernel, [FrameKind.Message, to, from, body])) {
        this.deadLetter(to, body, from);
        return;
      }
    }
    if (this.flow.congestion.active) this.flow.checkSend(from, to);
  }

  admin(op: AdminOp): void {
    if (this.closed) return;
    this.send(null, this.adminAddress, new AdminRequest(op));
  }

  // ---- receiving -----------------------------------------------------------

  receiveFrame(frame: Frame): void {
    switch (frame[0]) {
      case FrameKind.Message:
        this.deliverLocal(frame[1], frame[3], frame[2], frame);
        return;
      case FrameKind.Create:
        this.lifecycle.createRequested(frame[1]);
        return;
      case FrameKind.Watch:
        this.watch(frame[1], frame[2], frame);
        return;
      case FrameKind.Unwatch:
        this.cellFor(frame[1])?.extra?.watchers?.delete(frame[2].id);
        return;
      case FrameKind.Control:
        this.host.onControl?.(frame[1]);
        this.lifecycle.control(frame[1]);
        return;
    }
  }

  private deliverLocal(to: ActorAddress, body: unknown, from: ActorAddress | null, frame: Frame | null): void {
    const cached = to[localSlot] as Cell | undefined;
    if (cached !== undefined && cached.owner === this && cached.state === CellState.Ready) {
      this.dispatcher.enqueue(cached, body, from);
      if (cached.mailbox.length >= MAILBOX_HIGH) this.flow.full(cached, from);
      return;
    }
    const cell = this.cells.get(to.id);
    if (cell !== undefined) {
      to[localSlot] = cell;
      if (cell.state === CellState.Stopping) this.lifecycle.whileStopping(cell, body, from);
      else {
        this.dispatcher.enqueue(cell, body, from);
        if (cell.mailbox.length >= MAILBOX_HIGH && cell.kind === CellKind.Actor) this.flow.full(cell, from);
      }
      return;
    }
    const nameHost = this.nameHost(to);
    if (nameHost !== undefined && this.host.sendFrame(nameHost, [FrameKind.Message, to, from, body])) return;
    // "<endpoint>/<n>": an ask's reply address; once the ask is answered its
    // later messages go to the endpoint that asked.
    const slash = to.id.lastIndexOf('/');
    if (slash > 0) {
      const owner = this.cells.get(to.id.slice(0, slash));
      if (owner !== undefined && owner.kind === CellKind.Endpoint && owner.alive) {
        this.dispatcher.enqueue(owner, body, from);
        return;
      }
    }
    if (this.holds.holdIfPending(to.id, frame ?? [FrameKind.Message, to, from, body])) return;
    this.deadLetter(to, body, from);
  }

  /**
   * A frame that reached no kernel (its kernel is gone): each kind fails the
   * way its sender expects — dead letter, failed child, or a down watch.
   */
  undeliverable(frame: Frame): void {
    switch (frame[0]) {
      case FrameKind.Message:
        this.deadLetter(frame[1], frame[3], frame[2]);
        return;
      case FrameKind.Create:
        this.send(frame[1].address, frame[1].parent, new ChildActorExited(frame[1].address));
        if (frame[1].ack) this.send(null, frame[1].ack, new Created(frame[1].address, 'its thread or process is gone', 'Error'));
        return;
      case FrameKind.Watch:
        this.send(null, frame[2], new TargetDown(frame[1]));
        return;
      default:
        return;
    }
  }

  /**
   * On the admin's kernel: the other kernel hosting the actor behind an
   * address routed here (a global name, or an actor another system created
   * here and this system placed on one of its kernels).
   */
  private nameHost(address: ActorAddress): string | undefined {
    const names = this.host.names;
    if (names === undefined) return undefined;
    const hostKernel = address.id.startsWith(NAME_PREFIX) ? names.hostOf(address.id.slice(NAME_PREFIX.length)) : names.aliasHost(address.id);
    return hostKernel === this.id ? undefined : hostKernel;
  }

  cellFor(address: ActorAddress): Cell | undefined {
    const cell = this.cells.get(address.id);
    return cell !== undefined && cell.alive ? cell : undefined;
  }

  // ---- dead letters and watches -------------------------------------------

  deadLetter(to: ActorAddress, body: unknown, from: ActorAddress | null): void {
    // A watch on a dead actor answers at once, so an ask never hangs on it.
    // A control answer that comes after its asker stopped waiting (a kernel
    // asked for its status just as it retired) is the runtime's, not a user's.
    if (body instanceof TargetDown || body instanceof ControlDone || to.equals(this.adminAddress) || this.closed) return;
    this.admin({ op: 'deadLetter', to, body, from });
  }

  watch(target: ActorAddress, watcher: ActorAddress, frame: Frame | null): void {
    const cell = this.cellFor(target);
    if (cell !== undefined) {
      (cell.extras().watchers ??= new Map()).set(watcher.id, watcher);
      return;
    }
    const kernel = target.kernel === '' ? this.adminAddress.kernel : target.kernel;
    // Names and aliases resolve only on the admin's kernel.
    const nameHost = kernel === this.id || target.id.startsWith(NAME_PREFIX) ? this.nameHost(target) : undefined;
    if (nameHost !== undefined) {
      if (this.host.sendFrame(nameHost, [FrameKind.Watch, target, watcher])) {
        this.remoteWatches.set(watcher.id, [watcher, target, nameHost]);
        return;
      }
    } else if (kernel !== this.id) {
      if (this.host.sendFrame(kernel, frame ?? [FrameKind.Watch, target, watcher])) {
        if (frame === null) this.remoteWatches.set(watcher.id, [watcher, target, kernel]);
        return;
      }
    } else if (this.holds.holdIfPending(target.id, frame ?? [FrameKind.Watch, target, watcher])) {
      return;
    }
    this.send(null, watcher, new TargetDown(target));
  }

  unwatch(target: ActorAddress, watcher: ActorAddress): void {
    const remote = this.remoteWatches.get(watcher.id);
    if (remote !== undefined) {
      this.remoteWatches.delete(watcher.id);
      this.host.sendFrame(remote[2] ?? target.kernel, [FrameKind.Unwatch, target, watcher]);
    } else {
      this.cellFor(target)?.extra?.watchers?.delete(watcher.id);
    }
  }

  /**
   * Another kernel died (its thread or process is gone), or, given a system
   * id, every kernel of another system (it left the convention or is gone).
   * Its actors cannot report their own exits, so this kernel does it for
   * those it knows about: children of local actors get ChildActorExited sent
   * to their parents, and local watchers of its actors get TargetDown.
   */
  kernelDown(kernelId: string): void {
    const gone = kernelId.includes(':') ? (kernel: string) => kernel === kernelId : (kernel: string) => systemOf(kernel) === kernelId;
    for (const cell of [...this.cells.values()]) {
      if (cell.children === null) continue;
      for (const child of [...cell.children.values()]) {
        if (gone(child.kernel)) this.deliverLocal(cell.address, new ChildActorExited(child), child, null);
      }
    }
    for (const [watcherId, [watcher, target, via]] of [...this.remoteWatches]) {
      if (gone(via ?? target.kernel)) {
        this.remoteWatches.delete(watcherId);
        this.send(null, watcher, new TargetDown(target));
      }
    }
    for (const frame of this.holds.creatorGone(gone)) this.receiveFrame(frame);
    this.flow.gone(kernelId);
    for (const listener of this.downListeners) listener(kernelId);
  }

  // ---- endpoints, status, teardown ----------------------------------------

  /** A system endpoint (tell / ask / listen) living on this kernel. */
  createEndpoint(behavior: ActorBehavior, id: string = this.nextId()): Cell {
    const address = new ActorAddress(this.id, id);
    const cell = new Cell(this, address, null, CellKind.Endpoint);
    cell.instance = behavior;
    cell.state = CellState.Ready;
    this.cells.set(id, cell);
    address[localSlot] = cell;
    return cell;
  }

  /** Retire an endpoint; mail it had not read yet goes to `heir` (an ask's owner) or is dropped. */
  removeEndpoint(cell: Cell, heir?: Cell): void {
    if (cell.state === CellState.Dead) return;
    cell.state = CellState.Dead;
    this.cells.delete(cell.address.id);
    cell.instance = null;
    for (const [body, from] of cell.mailbox.takeAll()) {
      if (heir !== undefined && heir.alive) this.dispatcher.enqueue(heir, body, from);
    }
  }

  /** Ask every actor on this kernel whose requirements no longer hold to exit; resolves when they are gone. */
  requalify(capabilities: Capabilities): Promise<void> {
    this.capabilities = { ...capabilities };
    return this.lifecycle.stopUnqualified();
  }

  status(): KernelStatus {
    let actors = 0;
    let endpoints = 0;
    let pending = this.holds.size + (this.host.pendingInLinks?.() ?? 0);
    for (const cell of this.cells.values()) {
      if (cell.kind === CellKind.Endpoint) endpoints++;
      else actors++;
      pending += cell.mailbox.length;
    }
    return { kernel: this.id, actors, endpoints, pendingMessages: pending, pausedActors: this.dispatcher.pausedCount };
  }

  /** Drop everything without ceremony (the host is going away). */
  close(): void {
    this.closed = true;
    this.flow.close();
    for (const cell of this.cells.values()) this.lifecycle.discard(cell);
    this.cells.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  notifyParent(cell: Cell): void {
    if (cell.parent !== null) this.send(cell.address, cell.parent, new ChildActorExited(cell.address));
  }
}

export interface KernelStatus {
  kernel: string;
  actors: number;
  endpoints: number;
  /** Messages in mailboxes, held for actors being created, and waiting in this kernel's links. */
  pendingMessages: number;
  /** Actors paused by flow control (they sent to a congested destination). */
  pausedActors: number;
}
