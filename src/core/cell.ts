/**
 * One actor's (or endpoint's) place in a kernel: its mailbox, its state and the
 * bookkeeping the runtime needs. Rarely used fields are created on demand so an
 * idle actor stays small.
 */
import type { ActorAddress } from '../address.js';
import type { Capabilities, CapabilityCheck } from './placement/capabilities.js';
import { Mailbox } from './queue.js';
import type { ActorBehavior } from './spec.js';

export const enum CellState {
  /** Address handed out, instance not built yet: messages are held. */
  Creating = 0,
  Ready = 1,
  /** Saw ActorExitRequest: waiting for its children to stop. */
  Stopping = 2,
  Dead = 3,
}

export const enum CellKind {
  Actor = 0,
  /** A system endpoint (tell / ask / listen): no retry, no children, no parent. */
  Endpoint = 1,
}

/** Types used only to type the kernel back-reference without importing it. */
export interface CellOwner {
  readonly id: string;
}

export type TimerHandle = ReturnType<typeof setTimeout>;

/** Fields most actors never use, kept apart so an idle actor stays small. */
export class CellExtras {
  watchers: Map<string, ActorAddress> | null = null;
  timers: Set<TimerHandle> | null = null;
  globalName: string | undefined = undefined;
  requirements: Capabilities | undefined = undefined;
  capabilityCheck: CapabilityCheck | undefined = undefined;
  idleTimeoutMs = 0;
  idleTimer: TimerHandle | undefined = undefined;
  lastActive = 0;
  onDead: Array<() => void> | null = null;
  troupeLeader: ActorAddress | null = null;
  /** The loaded source its class came from: its children's default (src/sources). */
  sourceHash: string | undefined = undefined;
  /** Paused by flow control until a destination it sent to drains (flow/flow.ts). */
  paused = false;
  /** Its mailbox is congested: who has been told (flow/flow.ts). */
  inflow: Inflow | null = null;
}

/** A congested mailbox's bookkeeping (flow/flow.ts): the sender systems told, and the lease renewal. */
export interface Inflow {
  readonly systems: Set<string>;
  timer: ReturnType<typeof setInterval> | undefined;
  /** The sender kernel last seen (most messages come from the same one). */
  lastKernel: string;
}

export class Cell {
  state: CellState = CellState.Creating;
  instance: ActorBehavior | null = null;
  readonly mailbox = new Mailbox<unknown, ActorAddress | null>();
  /** In the kernel's run queue. */
  queued = false;
  /** An async receiveMessage is in flight. */
  busy = false;
  children: Map<string, ActorAddress> | null = null;
  /** Rarely used state; null for most actors. Read `cell.extra?.x`, write `cell.extras().x`. */
  extra: CellExtras | null = null;

  constructor(
    readonly owner: CellOwner,
    readonly address: ActorAddress,
    readonly parent: ActorAddress | null,
    readonly kind: CellKind,
  ) {}

  get alive(): boolean {
    return this.state !== CellState.Dead;
  }

  addChild(child: ActorAddress): void {
    (this.children ??= new Map()).set(child.id, child);
  }

  removeChild(child: ActorAddress): boolean {
    return this.children?.delete(child.id) ?? false;
  }

  extras(): CellExtras {
    return (this.extra ??= new CellExtras());
  }

  addTimer(handle: TimerHandle): void {
    const extras = this.extras();
    (extras.timers ??= new Set()).add(handle);
  }

  /** Run `fn` once the cell is dead. */
  whenDead(fn: () => void): void {
    (this.extras().onDead ??= []).push(fn);
  }
}
