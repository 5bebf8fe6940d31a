/**
 * One actor's (or endpoint's) place in a kernel: its mailbox, its state and the
 * bookkeeping the runtime needs. Rarely used fields are created on demand so an
 * idle actor stays small.
 */
import type { ActorAddress } from '../address.js';
import type { Capabilities, CapabilityCheck } from './capabilities.js';
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
class CellExtras {
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
  private rare: CellExtras | null = null;

  constructor(
    readonly owner: CellOwner,
    readonly address: ActorAddress,
    readonly parent: ActorAddress | null,
    readonly kind: CellKind,
  ) {}

  get watchers(): Map<string, ActorAddress> | null {
    return this.rare === null ? null : this.rare.watchers;
  }
  set watchers(value: Map<string, ActorAddress> | null) {
    (this.rare ??= new CellExtras()).watchers = value;
  }

  get timers(): Set<TimerHandle> | null {
    return this.rare === null ? null : this.rare.timers;
  }
  set timers(value: Set<TimerHandle> | null) {
    (this.rare ??= new CellExtras()).timers = value;
  }

  get globalName(): string | undefined {
    return this.rare === null ? undefined : this.rare.globalName;
  }
  set globalName(value: string | undefined) {
    (this.rare ??= new CellExtras()).globalName = value;
  }

  get requirements(): Capabilities | undefined {
    return this.rare === null ? undefined : this.rare.requirements;
  }
  set requirements(value: Capabilities | undefined) {
    (this.rare ??= new CellExtras()).requirements = value;
  }

  get capabilityCheck(): CapabilityCheck | undefined {
    return this.rare === null ? undefined : this.rare.capabilityCheck;
  }
  set capabilityCheck(value: CapabilityCheck | undefined) {
    (this.rare ??= new CellExtras()).capabilityCheck = value;
  }

  get idleTimeoutMs(): number {
    return this.rare === null ? 0 : this.rare.idleTimeoutMs;
  }
  set idleTimeoutMs(value: number) {
    (this.rare ??= new CellExtras()).idleTimeoutMs = value;
  }

  get idleTimer(): TimerHandle | undefined {
    return this.rare === null ? undefined : this.rare.idleTimer;
  }
  set idleTimer(value: TimerHandle | undefined) {
    (this.rare ??= new CellExtras()).idleTimer = value;
  }

  get lastActive(): number {
    return this.rare === null ? 0 : this.rare.lastActive;
  }
  set lastActive(value: number) {
    (this.rare ??= new CellExtras()).lastActive = value;
  }

  get onDead(): Array<() => void> | null {
    return this.rare === null ? null : this.rare.onDead;
  }
  set onDead(value: Array<() => void> | null) {
    (this.rare ??= new CellExtras()).onDead = value;
  }

  get troupeLeader(): ActorAddress | null {
    return this.rare === null ? null : this.rare.troupeLeader;
  }
  set troupeLeader(value: ActorAddress | null) {
    (this.rare ??= new CellExtras()).troupeLeader = value;
  }

  get alive(): boolean {
    return this.state !== CellState.Dead;
  }

  addChild(child: ActorAddress): void {
    (this.children ??= new Map()).set(child.id, child);
  }

  removeChild(child: ActorAddress): boolean {
    return this.children?.delete(child.id) ?? false;
  }

  addTimer(handle: TimerHandle): void {
    const extras = (this.rare ??= new CellExtras());
    (extras.timers ??= new Set()).add(handle);
  }
}
