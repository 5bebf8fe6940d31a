/**
 * Birth and death of actors on one kernel: creation (local or by request from
 * another kernel), the exit protocol (the actor sees ActorExitRequest, its
 * children stop, then it stops and its parent is told), transient idle exits,
 * wake-ups, and the control ops the admin sends to kernels.
 */
import { ActorAddress, localSlot } from '../../address.js';
import { InvalidActorSpecError, NoCompatibleSystemError } from '../../errors.js';
import { ActorExitRequest, ChildActorExited, WakeupMessage } from '../../messages.js';
import { satisfies, type Capabilities } from '../placement/capabilities.js';
import { Cell, CellKind, CellState, type CellExtras } from '../cell.js';
import { withConstructing } from './construct.js';
import type { FlowOp } from '../flow/backpressure.js';
import type { Holds } from './holds.js';
import type { RemoteSystems } from '../placement/remotes.js';
import type { KernelHost } from '../host.js';
import type { AdminOp } from '../admin-request.js';
import type { Frame } from '../protocol.js';
import { describeError } from '../log.js';
import { KernelShutdown } from './shutdown.js';
import { ControlDone, Created, FrameKind, NAME_PREFIX, TargetDown, type ControlOp, type CreateRequest } from '../protocol.js';
import { TroupeLeader, type TroupeKernel } from '../troupe.js';
import { requirementsOf, sourceHashOf, type ActorBehavior, type ActorClass, type CreateOptions, type ResolvedSpec } from '../spec.js';

export type { CreateOptions };


/**
 * What the lifecycle needs from its kernel. The kernel passes itself; naming
 * the members here keeps kernel.ts and this file from importing each other.
 */
export interface LifecycleKernel {
  readonly id: string;
  readonly host: KernelHost;
  readonly adminAddress: ActorAddress;
  readonly capabilities: Capabilities;
  readonly cells: Map<string, Cell>;
  readonly holds: Holds;
  readonly dispatcher: { resume(cell: Cell): void };
  nextId(): string;
  send(from: ActorAddress | null, to: ActorAddress, body: unknown): void;
  admin(op: AdminOp): void;
  deadLetter(to: ActorAddress, body: unknown, from: ActorAddress | null): void;
  receiveFrame(frame: Frame): void;
  notifyParent(cell: Cell): void;
  requalify(capabilities: Capabilities): Promise<void>;
  status(): unknown;
  kernelDown(kernelId: string): void;
  readonly remotes: RemoteSystems;
  readonly flow: { control(op: FlowOp): void; eased(cell: Cell): void };
  createEndpoint(behavior: ActorBehavior): Cell;
  removeEndpoint(cell: Cell): void;
}

export class Lifecycle {
  private readonly troupeKernel: TroupeKernel;
  readonly shutdown: KernelShutdown;

  constructor(private readonly kernel: LifecycleKernel) {
    this.shutdown = new KernelShutdown(kernel);
    this.troupeKernel = {
      send: (from, to, body) => kernel.send(from, to, body),
      createMember: (leader, spec) => this.create(leader, spec, {}, undefined, leader.address),
    };
  }

  // ---- creation ------------------------------------------------------------

  /**
   * Returns the new actor's address at once. `parent` null means the system
   * creates it (its parent is the admin). Throws NoCompatibleSystemError only
   * for the system; an actor's failed create is reported as ChildActorExited.
   */
  create(parent: Cell | null, spec: ResolvedSpec, options: CreateOptions, ack?: ActorAddress, troupeLeader?: ActorAddress): ActorAddress {
    const k = this.kernel;
    checkOptions(options);
    const cls = spec.cls;
    const requirements = requirementsOf(cls, options.requirements);
    const compatible = satisfies(k.capabilities, requirements, cls?.capabilityCheck);
    if (!compatible && options.globalName === undefined) {
      // Another system of the convention may host it (remotes.ts).
      const remote = spec.ref !== undefined ? k.remotes.choose(requirements, cls?.capabilityCheck) : undefined;
      if (remote !== undefined) return this.createElsewhere(remote, parent, spec, options, ack);
    }
    if (!compatible) {
      if (parent === null) {
        const hint = spec.ref === undefined && k.remotes.size > 0 ? ' (it has no static module, so it cannot be placed on another system)' : '';
        throw new NoCompatibleSystemError(
          `no system can host ${spec.label}: requirements ${JSON.stringify(requirements)} are not met by capabilities ${JSON.stringify(k.capabilities)}` +
            (k.remotes.size > 0 ? ' nor by any other system of the convention' : '') + hint,
        );
      }
      // An actor still gets an address at once; the failure reaches it as
      // ChildActorExited. Nothing is placed (no slot counted, no thread started).
      const address = new ActorAddress(k.id, k.nextId());
      parent.addChild(address);
      queueMicrotask(() => k.send(address, parent.address, new ChildActorExited(address)));
      return address;
    }
    const name = options.globalName;
    let address: ActorAddress;
    let target: string;
    let parentAddress: ActorAddress;
    if (name !== undefined) {
      if (typeof name !== 'string' || name === '') throw new TypeError('createActor: globalName must be a non-empty string');
      const named = new ActorAddress(k.adminAddress.kernel, NAME_PREFIX + name);
      const names = k.host.names;
      if (names === undefined) {
        // Only the admin's kernel knows the names: it creates the actor if nobody
        // has, and routes the name to it. Messages sent meanwhile follow the
        // request on the same link, so they arrive after the actor exists.
        if (spec.ref === undefined) {
          throw new InvalidActorSpecError(`${spec.label} needs a static module to be created under a global name from this thread`);
        }
        k.admin({ op: 'createNamed', name, spec: spec.ref, requirements: options.requirements });
        return named;
      }
      if (names.lookup(name) !== undefined) {
        if (ack) k.send(null, ack, new Created(named, undefined, undefined));
        return named;
      }
      // A global-name actor belongs to the system, not to whoever created it first.
      target = remoteKernelOf(options) ?? k.host.place({ spec, options, parent });
      address = named;
      parentAddress = k.adminAddress;
      names.register(name, named, target);
    } else {
      target = remoteKernelOf(options) ?? k.host.place({ spec, options, parent, spread: troupeLeader !== undefined });
      address = new ActorAddress(target, k.nextId());
      parentAddress = parent !== null ? parent.address : k.adminAddress;
      parent?.addChild(address);
    }
    const request: CreateRequest = { address, parent: parentAddress, spec: spec.ref ?? { module: '', exportName: spec.label }, globalName: name, requirements: options.requirements, ack, troupeLeader };
    if (target === k.id) this.spawn(request, cls);
    else if (!k.host.sendFrame(target, [FrameKind.Create, request])) this.reportFailed(request, new Error(`kernel ${target} is gone`));
    return address;
  }

  /**
   * Place on another system: the address names that system's main kernel,
   * which places it again inside its system (and never sends it further).
   */
  private createElsewhere(kernelId: string, parent: Cell | null, spec: ResolvedSpec, options: CreateOptions, ack: ActorAddress | undefined): ActorAddress {
    const k = this.kernel;
    const address = new ActorAddress(kernelId, k.nextId());
    parent?.addChild(address);
    const request: CreateRequest = { address, parent: parent !== null ? parent.address : k.adminAddress, spec: spec.ref!, requirements: options.requirements, ack };
    if (!k.host.sendFrame(kernelId, [FrameKind.Create, request])) this.reportFailed(request, new Error(`system ${kernelId} is gone`));
    return address;
  }

  /** A Create frame from another kernel. */
  createRequested(request: CreateRequest): void {
    const { replay, orphaned } = this.kernel.holds.created(request.address.id);
    this.spawn(request, undefined);
    for (const frame of replay) this.kernel.receiveFrame(frame);
    for (const frame of orphaned) this.kernel.receiveFrame(frame); // now dead letters
  }

  private spawn(request: CreateRequest, cls: ActorClass | undefined): void {
    const k = this.kernel;
    const cell = new Cell(k, request.address, request.parent, CellKind.Actor);
    if (request.globalName !== undefined) cell.extras().globalName = request.globalName;
    if (request.troupeLeader !== undefined) cell.extras().troupeLeader = request.troupeLeader;
    k.cells.set(request.address.id, cell);
    request.address[localSlot] = cell;
    // A class from a loaded source is created only while the source is loaded
    // (its host asks the admin, and fetches the modules if it lacks them), even
    // when the class is at hand; its children default to the same source.
    const sourceHash = request.spec.module ? sourceHashOf(request.spec) : undefined;
    if (sourceHash !== undefined) cell.extras().sourceHash = sourceHash;
    if (cls !== undefined && sourceHash === undefined) {
      this.construct(cell, cls, request);
      return;
    }
    if (!request.spec.module) {
      this.fail(cell, request, new InvalidActorSpecError(`${request.spec.exportName} has no static module, so another thread or process cannot load it: add \`static module = import.meta.url\` to the class`));
      return;
    }
    let loading: ActorClass | Promise<ActorClass>;
    try {
      if (sourceHash === undefined) loading = k.host.loadClass(request.spec);
      else if (k.host.loadSourceClass !== undefined) loading = k.host.loadSourceClass(request.spec, sourceHash, k);
      else throw new InvalidActorSpecError(`kernel ${k.id} cannot host actors from loadable sources`);
    } catch (error) {
      this.fail(cell, request, error);
      return;
    }
    if (loading instanceof Promise) {
      loading.then(
        (loaded) => this.construct(cell, loaded, request),
        (error: unknown) => this.fail(cell, request, error),
      );
    } else {
      this.construct(cell, loading, request);
    }
  }

  private construct(cell: Cell, cls: ActorClass, request: CreateRequest): void {
    if (cell.state !== CellState.Creating) return;
    const requirements = requirementsOf(cls, request.requirements);
    if (!satisfies(this.kernel.capabilities, requirements, cls.capabilityCheck)) {
      this.fail(cell, request, new NoCompatibleSystemError(`no system can host ${cls.name}: requirements ${JSON.stringify(requirements)} are not met`));
      return;
    }
    try {
      cell.instance =
        cls.troupe !== undefined && request.troupeLeader === undefined
          ? new TroupeLeader(this.troupeKernel, cell, { cls, ref: request.spec.module ? request.spec : undefined, label: cls.name }, cls.troupe)
          : withConstructing(cell, () => new cls());
    } catch (error) {
      this.fail(cell, request, error);
      return;
    }
    if (Object.keys(requirements).length > 0 || cls.capabilityCheck) {
      const extras = cell.extras();
      extras.requirements = requirements;
      extras.capabilityCheck = cls.capabilityCheck;
    }
    cell.state = CellState.Ready;
    if (this.shutdown.active) this.shutdown.gate(cell); // made while the system shuts down: it handles nothing
    const idle = cls.idleTimeoutMs;
    if (typeof idle === 'number' && idle > 0) {
      cell.extras().idleTimeoutMs = idle;
      this.touchIdle(cell);
    }
    if (request.ack) this.kernel.send(null, request.ack, new Created(cell.address, undefined, undefined));
    this.kernel.dispatcher.resume(cell);
  }

  private fail(cell: Cell, request: CreateRequest, error: unknown): void {
    this.kernel.host.log({ level: 'warn', message: `creating actor ${cell.address.id} failed`, source: cell.address.id, time: Date.now(), detail: describeError(error) });
    this.finalize(cell);
    if (request.ack) this.reportAck(request.ack, cell.address, error);
  }

  private reportFailed(request: CreateRequest, error: unknown): void {
    this.kernel.send(request.address, request.parent, new ChildActorExited(request.address));
    if (request.ack) this.reportAck(request.ack, request.address, error);
  }

  private reportAck(ack: ActorAddress, address: ActorAddress, error: unknown): void {
    const name = error instanceof Error ? error.name : 'Error';
    this.kernel.send(null, ack, new Created(address, describeError(error), name));
  }

  // ---- exit ----------------------------------------------------------------

  /** The actor sees the request; then its children stop; then it stops. */
  beginExit(cell: Cell, request: ActorExitRequest, from: ActorAddress | null): void {
    let result: void | PromiseLike<void> = undefined;
    try {
      result = cell.instance!.receiveMessage(request, from as ActorAddress);
    } catch (error) {
      this.logExitError(cell, error);
    }
    if (result != null && typeof (result as PromiseLike<void>).then === 'function') {
      cell.busy = true;
      (result as PromiseLike<void>).then(
        () => this.stopChildren(cell),
        (error: unknown) => {
          this.logExitError(cell, error);
          this.stopChildren(cell);
        },
      );
      return;
    }
    this.stopChildren(cell);
  }

  private stopChildren(cell: Cell): void {
    cell.busy = false;
    if (cell.state === CellState.Dead) return;
    cell.state = CellState.Stopping;
    this.clearTimers(cell);
    if (cell.children === null || cell.children.size === 0) {
      this.finalize(cell);
      return;
    }
    for (const child of [...cell.children.values()]) this.kernel.send(cell.address, child, new ActorExitRequest());
  }

  /** A message reached a stopping actor: children's exits count down, the rest is dead mail. */
  whileStopping(cell: Cell, body: unknown, from: ActorAddress | null): void {
    if (body instanceof ChildActorExited) {
      cell.removeChild(body.childAddress);
      if (cell.children!.size === 0) this.finalize(cell);
      return;
    }
    this.deadMail(cell, body, from);
  }

  /** Mail `cell` will not handle: a dead letter (counted as dropped by the shutdown while there is one). */
  private deadMail(cell: Cell, body: unknown, from: ActorAddress | null): void {
    if (this.shutdown.active) this.shutdown.drop(cell, body, from);
    else this.kernel.deadLetter(cell.address, body, from);
  }

  /** The cell is dead: release everything and tell whoever needs to know. */
  finalize(cell: Cell): void {
    if (cell.state === CellState.Dead) return;
    const k = this.kernel;
    cell.state = CellState.Dead;
    k.cells.delete(cell.address.id);
    cell.instance = null;
    this.clearTimers(cell);
    for (const [body, from] of cell.mailbox.takeAll()) this.deadMail(cell, body, from);
    const extra = cell.extra;
    if (extra?.inflow) k.flow.eased(cell);
    if (extra?.watchers) {
      for (const watcher of extra.watchers.values()) k.send(null, watcher, new TargetDown(cell.address));
      extra.watchers = null;
    }
    if (extra?.globalName !== undefined) k.admin({ op: 'nameReleased', name: extra.globalName, hostKernel: k.id });
    else if (cell.address.kernel !== k.id && cell.kind === CellKind.Actor) k.admin({ op: 'aliasReleased', id: cell.address.id, hostKernel: k.id });
    k.host.uncounted?.();
    k.notifyParent(cell);
    const waiters = extra?.onDead;
    if (extra) extra.onDead = null;
    if (waiters) for (const w of waiters) w();
  }

  /** Drop a cell while the kernel closes: no messages, only its timers cleared. */
  discard(cell: Cell): void {
    cell.state = CellState.Dead;
    cell.instance = null;
    this.clearTimers(cell);
    if (cell.extra?.inflow) clearInterval(cell.extra.inflow.timer);
  }

  private logExitError(cell: Cell, error: unknown): void {
    this.kernel.host.log({ level: 'warn', message: `actor ${cell.address.id} threw while handling ActorExitRequest; it exits anyway`, source: cell.address.id, time: Date.now(), detail: describeError(error) });
  }

  // ---- timers --------------------------------------------------------------

  wakeupAfter(cell: Cell, delayMs: number, payload: unknown): void {
    if (!cell.alive || cell.state === CellState.Stopping) return;
    const handle = setTimeout(() => {
      cell.extra?.timers?.delete(handle);
      this.kernel.send(cell.address, cell.address, new WakeupMessage(delayMs, payload));
    }, delayMs);
    cell.addTimer(handle);
  }

  /** Transient actors: remember activity; one timer per idle period, re-armed lazily. */
  touchIdle(cell: Cell): void {
    const extras = cell.extras();
    extras.lastActive = Date.now();
    if (extras.idleTimer === undefined) this.armIdle(cell, extras, extras.idleTimeoutMs);
  }

  private armIdle(cell: Cell, extras: CellExtras, delay: number): void {
    extras.idleTimer = setTimeout(() => {
      extras.idleTimer = undefined;
      if (cell.state !== CellState.Ready) return;
      const quiet = Date.now() - extras.lastActive;
      if (quiet >= extras.idleTimeoutMs && cell.mailbox.length === 0 && !cell.busy) {
        this.kernel.send(cell.address, cell.address, new ActorExitRequest());
      } else {
        this.armIdle(cell, extras, Math.max(1, extras.idleTimeoutMs - quiet));
      }
    }, delay);
  }

  private clearTimers(cell: Cell): void {
    const extra = cell.extra;
    if (extra === null) return;
    if (extra.timers !== null) {
      for (const t of extra.timers) clearTimeout(t);
      extra.timers = null;
    }
    if (extra.idleTimer !== undefined) {
      clearTimeout(extra.idleTimer);
      extra.idleTimer = undefined;
    }
  }

  // ---- capabilities and control ---------------------------------------------

  /** Exit every actor whose requirements no longer hold; resolves once they are dead. */
  stopUnqualified(): Promise<void> {
    const k = this.kernel;
    const gone: Array<Promise<void>> = [];
    for (const cell of [...k.cells.values()]) {
      const extra = cell.extra;
      if (cell.kind !== CellKind.Actor || extra?.requirements === undefined || !cell.alive) continue;
      if (satisfies(k.capabilities, extra.requirements, extra.capabilityCheck)) continue;
      gone.push(new Promise<void>((resolve) => cell.whenDead(resolve)));
      if (cell.state === CellState.Ready || cell.state === CellState.Creating) k.send(k.adminAddress, cell.address, new ActorExitRequest());
    }
    return Promise.all(gone).then(() => undefined);
  }

  control(op: ControlOp): void {
    const k = this.kernel;
    switch (op.op) {
      case 'capabilities':
        void k.requalify(op.capabilities).then(() => {
          if (op.ack) k.send(null, op.ack, new ControlDone(k.id));
        });
        return;
      case 'status':
        k.send(null, op.ack, new ControlDone(k.id, k.status()));
        return;
      case 'stopAll':
        // The answer carries how many queued messages were dropped (shutdown.ts).
        void this.shutdown.stopAll().then((dropped) => k.send(null, op.ack, new ControlDone(k.id, dropped)));
        return;
      case 'kernelDown':
        k.kernelDown(op.kernelId);
        return;
      case 'congested':
      case 'relieved':
        k.flow.control(op);
        return;
      case 'members':
        k.remotes.update(op.members);
        return;
      default:
        return; // host-level ops (spawnKernel) are handled by the host
    }
  }
}

/** The kernel of a remote host named in `options.host`, if one is. */
function remoteKernelOf(options: CreateOptions): string | undefined {
  const host = options.host;
  return typeof host === 'object' && host !== null ? host.kernelId : undefined;
}

function checkOptions(options: CreateOptions): void {
  const host = options.host;
  if (typeof host === 'object' && host !== null && typeof host.kernelId === 'string') return;
  if (host !== undefined && host !== 'inline' && host !== 'worker' && host !== 'process') {
    throw new InvalidActorSpecError(`createActor: host must be 'inline', 'worker' or 'process', got ${String(host)}`);
  }
  const startup = options.startup;
  if (startup !== undefined && startup !== 'spawn' && startup !== 'fork' && startup !== 'forkserver') {
    throw new InvalidActorSpecError(`createActor: startup must be 'spawn', 'fork' or 'forkserver', got ${String(startup)}`);
  }
}
