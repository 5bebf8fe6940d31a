/**
 * The dispatch loop: one message at a time per actor, many actors per thread.
 *
 * Cells with mail wait in a run queue. A drain takes each in turn and runs up
 * to CELL_BUDGET of its messages (so one chatty actor cannot starve the rest),
 * and after DRAIN_BUDGET_MS of work yields to the event loop so timers and I/O
 * keep flowing (a shutdown among them: it must be seen while a backlog of slow
 * handlers is still queued, see CLOCK_EVERY). The first drain after quiet is
 * a microtask: a reply to an ask or a message between two actors does not
 * wait for a turn of the event loop.
 *
 * A handler that returns a promise makes its cell `busy`: the cell leaves the
 * run queue until the promise settles, then resumes with its next message.
 * A handler that throws is run once more on the same message; a second throw
 * sends PoisonMessage to the sender. The actor (and its state) carries on.
 */
import type { ActorAddress } from '../address.js';
import { ActorExitRequest, ChildActorExited, PoisonMessage } from '../messages.js';
import { Cell, CellKind, CellState } from './cell.js';
import { MAILBOX_LOW, type FlowGate } from './flow/flow.js';
import { describeError, type LogRecord } from './log.js';
import { Fifo } from './queue.js';
import { TroupeIdle } from './troupe.js';

const CELL_BUDGET = 256;
const TROUPE_IDLE = new TroupeIdle();
const DRAIN_BUDGET_MS = 8;
/**
 * Messages handled between looks at the clock (performance.now() costs about
 * as much as four fast messages). Counted per message, not per cell turn: with
 * handlers of a millisecond, a count of cell turns let one drain run for
 * seconds (16 turns of 256), and a shutdown sent meanwhile waited that long.
 */
const CLOCK_EVERY = 64;

/** What the dispatcher needs from its kernel. */
export interface DispatchContext {
  readonly id: string;
  readonly host: { yieldThen(fn: () => void): void; log(record: LogRecord): void };
  readonly lifecycle: { beginExit(cell: Cell, request: ActorExitRequest, from: ActorAddress | null): void; touchIdle(cell: Cell): void };
  send(from: ActorAddress | null, to: ActorAddress, body: unknown): void;
  /** A congested mailbox was worked down to MAILBOX_LOW (flow/flow.ts). */
  readonly flow: { eased(cell: Cell): void };
}

export class Dispatcher {
  private readonly runQueue = new Fifo<Cell>();
  private scheduled = false;
  private readonly drainBound = (): void => this.drain();
  /** Messages handled since the clock was last read, and when the running drain must yield. */
  private sinceClock = 0;
  private yieldAt = 0;
  private overBudget = false;

  constructor(private readonly kernel: DispatchContext) {}

  /** Put a message in a cell's mailbox and make sure the cell will run. */
  enqueue(cell: Cell, body: unknown, from: ActorAddress | null): void {
    cell.mailbox.push(body, from);
    if (!cell.queued && !cell.busy && cell.state === CellState.Ready && (cell.extra === null || !cell.extra.paused)) this.makeRunnable(cell);
  }

  /** The cell may have mail it could not process before (created, a promise settled, or it was paused). */
  resume(cell: Cell): void {
    if (cell.mailbox.length > 0 && !cell.queued && runnable(cell)) this.makeRunnable(cell);
  }

  /**
   * Flow control (flow/flow.ts): the actor in `cell` sent to a congested
   * destination, so once the handler it is in returns it takes no further
   * message until `gate` opens. An actor that others wait on is never paused
   * (that is what keeps waiting actors from deadlocking).
   */
  pause(cell: Cell, gate: FlowGate): void {
    if (cell.kind !== CellKind.Actor || cell.state !== CellState.Ready) return;
    const extras = cell.extras();
    if (extras.paused || extras.inflow !== null) return;
    extras.paused = true;
    this.pausedCount++;
    gate.wait(() => {
      extras.paused = false;
      this.pausedCount--;
      this.resume(cell);
    });
  }

  /** Actors paused by flow control right now (status). */
  pausedCount = 0;

  /**
   * Cells waiting to run. While a handler runs: those that were waiting when
   * it began. What the handler makes runnable itself (the first mail of the
   * children it creates, say) is its own burst, not a sign the thread is
   * backed up: counted live, an actor creating a thousand children would see
   * its thread "busy" after 64 and send the rest to other threads.
   */
  get backlog(): number {
    return this.backlogAtTurn >= 0 ? this.backlogAtTurn : this.runQueue.length;
  }

  private backlogAtTurn = -1;

  private makeRunnable(cell: Cell): void {
    cell.queued = true;
    this.runQueue.push(cell);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.drainBound);
    }
  }

  private drain(): void {
    this.yieldAt = performance.now() + DRAIN_BUDGET_MS;
    this.sinceClock = 0;
    let cell: Cell | undefined;
    while ((cell = this.runQueue.shift()) !== undefined) {
      cell.queued = false;
      this.backlogAtTurn = this.runQueue.length;
      this.runCell(cell);
      this.backlogAtTurn = -1;
      if (cell.extra !== null && cell.extra.inflow !== null && cell.mailbox.length <= MAILBOX_LOW) this.kernel.flow.eased(cell);
      if (cell.mailbox.length > 0 && !cell.queued && runnable(cell)) {
        cell.queued = true;
        this.runQueue.push(cell);
      }
      if (this.overBudget) {
        this.overBudget = false;
        this.kernel.host.yieldThen(this.drainBound);
        return;
      }
    }
    this.scheduled = false;
  }

  private runCell(cell: Cell): void {
    const mailbox = cell.mailbox;
    let n = 0;
    while (n < CELL_BUDGET && mailbox.length > 0 && runnable(cell)) {
      const body = mailbox.peekMessage();
      const from = mailbox.peekSender();
      mailbox.dropFirst();
      n++;
      this.invoke(cell, body, from, false);
      if (cell.extra !== null && cell.extra.troupeLeader !== null) this.memberDone(cell);
      if (++this.sinceClock === CLOCK_EVERY) {
        this.sinceClock = 0;
        if (performance.now() > this.yieldAt) {
          this.overBudget = true;
          return;
        }
      }
    }
  }

  private invoke(cell: Cell, body: unknown, from: ActorAddress | null, retry: boolean): void {
    if (cell.kind === CellKind.Actor) {
      if (body instanceof ActorExitRequest) {
        this.kernel.lifecycle.beginExit(cell, body, from);
        return;
      }
      // A child is reported once: a process or thread that ended after its
      // actors had already reported their own exits is not news.
      if (body instanceof ChildActorExited && !cell.removeChild(body.childAddress)) return;
      if (cell.extra !== null && cell.extra.idleTimeoutMs > 0) this.kernel.lifecycle.touchIdle(cell);
    }
    let result: void | PromiseLike<void>;
    try {
      result = cell.instance!.receiveMessage(body, from as ActorAddress);
    } catch (error) {
      this.failed(cell, body, from, error, retry);
      return;
    }
    if (result != null && typeof (result as PromiseLike<void>).then === 'function') {
      cell.busy = true;
      (result as PromiseLike<void>).then(
        () => this.settled(cell),
        (error: unknown) => {
          cell.busy = false;
          this.failed(cell, body, from, error, retry);
          if (cell.extra !== null && cell.extra.troupeLeader !== null) this.memberDone(cell);
          if (!cell.busy) this.resume(cell);
        },
      );
    }
  }

  private settled(cell: Cell): void {
    cell.busy = false;
    if (cell.extra !== null && cell.extra.troupeLeader !== null) this.memberDone(cell);
    this.resume(cell);
  }

  /** A troupe member finished its message (sync, or its promise settled): its leader may give it another. */
  private memberDone(cell: Cell): void {
    if (!cell.busy && cell.state === CellState.Ready) this.kernel.send(cell.address, cell.extra!.troupeLeader!, TROUPE_IDLE);
  }

  private failed(cell: Cell, body: unknown, from: ActorAddress | null, error: unknown, wasRetry: boolean): void {
    if (cell.state !== CellState.Ready) return;
    if (!wasRetry) {
      this.invoke(cell, body, from, true);
      return;
    }
    const details = describeError(error);
    this.kernel.host.log({
      level: 'warn',
      message: `actor ${cell.address.id} threw twice on a message; returning it to the sender as PoisonMessage`,
      source: cell.address.id,
      time: Date.now(),
      detail: details,
    });
    if (from !== null && !(body instanceof PoisonMessage)) {
      this.kernel.send(cell.address, from, new PoisonMessage(body, details));
    }
  }
}

/** Ready, no handler in flight, not paused by flow control. */
function runnable(cell: Cell): boolean {
  return !cell.busy && cell.state === CellState.Ready && (cell.extra === null || !cell.extra.paused);
}
