/**
 * One kernel's part in flow control (see flow.ts for the design): it pauses
 * this kernel's senders to congested destinations, tells senders' systems
 * when one of its own mailboxes is congested, and handles the notices other
 * kernels send it.
 */
import { localSlot, type ActorAddress } from '../../address.js';
import { CellState, type Cell } from '../cell.js';
import { CONGESTION_LEASE_MS, Congestion, systemOf, type FlowGate } from './flow.js';
import { FrameKind, type ControlOp, type Frame } from '../protocol.js';

/** The main kernel of a system: it passes flow notices on to the system's other kernels. */
export function mainKernelOf(systemId: string): string {
  return `${systemId}:main`;
}

/** What flow control needs from its kernel. */
export interface FlowKernel {
  readonly id: string;
  readonly dispatcher: { pause(cell: Cell, gate: FlowGate): void };
  readonly host: {
    sendFrame(kernelId: string, frame: Frame): boolean;
    /** To every other kernel of the system (main kernels only). */
    broadcast?(frame: Frame): void;
    /** Whether this kernel has a link of its own to `kernelId` (else it is behind the default route). */
    routesDirect?(kernelId: string): boolean;
  };
}

export type FlowOp = Extract<ControlOp, { op: 'congested' } | { op: 'relieved' }>;

export class Backpressure {
  /** What this kernel has been told is congested. */
  readonly congestion = new Congestion();
  private readonly direct = (kernelId: string): boolean => this.kernel.host.routesDirect?.(kernelId) ?? false;

  constructor(private readonly kernel: FlowKernel) {}

  /** Called for every send when `congestion.active`: pause the sender if `to` is congested. */
  checkSend(from: ActorAddress | null, to: ActorAddress): void {
    if (from === null) return;
    const cell = from[localSlot] as Cell | undefined;
    // Only an actor of this kernel can be paused, and only once.
    if (cell === undefined || cell.owner !== this.kernel || (cell.extra !== null && cell.extra.paused)) return;
    const gate = this.congestion.gateFor(to, this.direct);
    if (gate !== undefined) this.kernel.dispatcher.pause(cell, gate);
  }

  /**
   * A message was queued for `cell`, whose mailbox is at MAILBOX_HIGH or more:
   * make sure the sender's system has been told.
   */
  full(cell: Cell, from: ActorAddress | null): void {
    const extras = cell.extras();
    let inflow = extras.inflow;
    if (inflow === null) {
      inflow = extras.inflow = { systems: new Set(), timer: undefined, lastKernel: '' };
      // Senders on this kernel see it at once; others hear of it below.
      this.congestion.congested(cell.address.id, 0, cell.address.kernel);
      inflow.timer = setInterval(() => this.renew(cell), CONGESTION_LEASE_MS / 2);
    }
    if (from === null || from.kernel === this.kernel.id || from.kernel === inflow.lastKernel) return;
    inflow.lastKernel = from.kernel;
    const system = systemOf(from.kernel);
    if (inflow.systems.has(system)) return;
    inflow.systems.add(system);
    this.tell(system, { op: 'congested', scope: cell.address.id, kernel: cell.address.kernel, leaseMs: CONGESTION_LEASE_MS, fanOut: true });
  }

  /** The congested mailbox of `cell` was worked down (or the cell died): everyone told may send again. */
  eased(cell: Cell): void {
    const inflow = cell.extra?.inflow;
    if (inflow == null) return;
    cell.extras().inflow = null;
    clearInterval(inflow.timer);
    this.congestion.relieved(cell.address.id);
    for (const system of inflow.systems) this.tell(system, { op: 'relieved', scope: cell.address.id, kernel: cell.address.kernel, fanOut: true });
  }

  /** A flow notice from another kernel. */
  control(op: FlowOp): void {
    if (op.fanOut === true && this.kernel.host.broadcast !== undefined) {
      this.kernel.host.broadcast([FrameKind.Control, { ...op, fanOut: false }]);
    }
    if (op.op === 'congested') this.congestion.congested(op.scope, op.leaseMs ?? 0, op.kernel);
    else this.congestion.relieved(op.scope);
  }

  /** A kernel or system is gone: stop waiting on anything behind it. */
  gone(kernelOrSystem: string): void {
    this.congestion.gone(kernelOrSystem);
  }

  close(): void {
    this.congestion.clear();
  }

  private renew(cell: Cell): void {
    const inflow = cell.extra?.inflow;
    if (inflow == null) return;
    if (cell.state === CellState.Dead) {
      this.eased(cell);
      return;
    }
    for (const system of inflow.systems) {
      this.tell(system, { op: 'congested', scope: cell.address.id, kernel: cell.address.kernel, leaseMs: CONGESTION_LEASE_MS, fanOut: true });
    }
  }

  /** To a system's main kernel, which passes it on; to our own main when it is our system (unless we are it). */
  private tell(system: string, op: FlowOp): void {
    const main = mainKernelOf(system);
    if (main === this.kernel.id) this.control(op);
    else this.kernel.host.sendFrame(main, [FrameKind.Control, op]);
  }
}
