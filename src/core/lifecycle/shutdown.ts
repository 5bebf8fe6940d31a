/**
 * How a kernel's actors stop when the system shuts down (ControlOp 'stopAll').
 *
 * Shutdown does not drain mailboxes. Each actor finishes the handler it is
 * running, then stops by the usual exit protocol (it sees ActorExitRequest,
 * its children stop, then it does, and its parent is told); mail still
 * queued, or arriving meanwhile, is dropped and counted as dead letters,
 * never handled. A backlog of slow messages therefore costs a shutdown
 * nothing (it used to wait for the whole backlog, up to the 10 s cap).
 *
 * How: every actor here becomes a gate (as Akka's `become`): the dispatcher
 * hands the gate whatever reaches the actor, and the gate drops it, except
 * ActorExitRequest, which it passes to the actor. What is queued is taken
 * out at once. Top-level actors are then sent ActorExitRequest, which finds
 * an empty mailbox; their children get theirs from their parents, as in any
 * exit, so a tree still stops children first. A user's own ActorExitRequest
 * before the shutdown kept its place in the mailbox like any message; it is
 * not special here.
 */
import type { ActorAddress } from '../../address.js';
import { ActorExitRequest, ChildActorExited } from '../../messages.js';
import { CellKind, CellState, type Cell } from '../cell.js';
import { systemOf } from '../flow/flow.js';
import type { ActorBehavior } from '../spec.js';
import { TroupeIdle, TroupeLeader } from '../troupe.js';

/** What the shutdown needs from its kernel. */
export interface ShutdownKernel {
  readonly id: string;
  readonly cells: Map<string, Cell>;
  readonly adminAddress: ActorAddress;
  readonly dispatcher: { resume(cell: Cell): void };
  send(from: ActorAddress | null, to: ActorAddress, body: unknown): void;
  deadLetter(to: ActorAddress, body: unknown, from: ActorAddress | null): void;
}

/** What an actor becomes once the system shuts down: only its exit request reaches it. */
class Gate implements ActorBehavior {
  constructor(
    readonly actor: ActorBehavior,
    private readonly drop: (body: unknown, from: ActorAddress | null) => void,
  ) {}

  receiveMessage(message: unknown, sender: ActorAddress): void | PromiseLike<void> {
    if (message instanceof ActorExitRequest) return this.actor.receiveMessage(message, sender);
    this.drop(message, sender);
  }
}

export class KernelShutdown {
  /** The system shuts down: no actor here handles anything but its exit request. */
  active = false;
  /** Messages this kernel dropped unhandled since the shutdown began. */
  dropped = 0;

  constructor(private readonly kernel: ShutdownKernel) {}

  /** Stop every actor here; resolves with the count of dropped messages once all are dead. */
  stopAll(): Promise<number> {
    const k = this.kernel;
    this.active = true;
    const actors = [...k.cells.values()].filter((cell) => cell.kind === CellKind.Actor && cell.alive);
    const dead = actors.map((cell) => new Promise<void>((resolve) => cell.whenDead(resolve)));
    const exiting = new Set<Cell>();
    for (const cell of actors) {
      if (this.dropQueued(cell)) exiting.add(cell);
      // A cell still being created is gated once its instance exists (Lifecycle.construct).
      if (cell.instance !== null) this.gate(cell);
    }
    const system = systemOf(k.id);
    for (const cell of actors) {
      // One already stopping, or with an exit request kept, is on its way; a second request would only be dropped.
      const waiting = (cell.state === CellState.Ready || cell.state === CellState.Creating) && !exiting.has(cell);
      // Top level here: the system's own, and those whose parent is on another
      // system (placed here by a convention member), whose exit request would never come.
      const parent = cell.parent;
      const topLevel = parent !== null && (parent.equals(k.adminAddress) || systemOf(parent.kernel) !== system);
      if (waiting && topLevel) k.send(k.adminAddress, cell.address, new ActorExitRequest());
    }
    return Promise.all(dead).then(() => this.dropped);
  }

  gate(cell: Cell): void {
    if (cell.instance === null || cell.instance instanceof Gate) return;
    cell.instance = new Gate(cell.instance, (body, from) => this.drop(cell, body, from));
  }

  /** A message `cell` will never handle: counted, and a dead letter. */
  drop(cell: Cell, body: unknown, from: ActorAddress | null): void {
    if (body instanceof TroupeIdle) return; // runtime bookkeeping, not mail
    this.dropped++;
    this.kernel.deadLetter(cell.address, body, from);
  }

  /**
   * Drops what `cell` has queued, except its first ActorExitRequest, which
   * stays to be handled next; true when there was one. It may be its
   * parent's, which can overtake this kernel's stopAll (they come on
   * different links): dropped, the parent would wait for its child forever.
   */
  private dropQueued(cell: Cell): boolean {
    let exit: [ActorExitRequest, ActorAddress | null] | null = null;
    for (const [body, from] of cell.mailbox.takeAll()) {
      if (body instanceof ActorExitRequest && exit === null) {
        exit = [body, from];
        continue;
      }
      // The child is gone either way: a parent that still counted it would
      // wait for it forever. A report about a non-child is not news (dispatch.ts).
      if (body instanceof ChildActorExited && !cell.removeChild(body.childAddress)) continue;
      this.drop(cell, body, from);
    }
    if (cell.instance instanceof TroupeLeader) {
      for (const [body, from] of cell.instance.takeWaiting()) this.drop(cell, body, from);
    }
    if (exit === null) return false;
    cell.mailbox.push(exit[0], exit[1]);
    this.kernel.dispatcher.resume(cell);
    return true;
  }
}
