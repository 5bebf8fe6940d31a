/**
 * Flow control: a fast sender must not fill the memory of a link, a hub or a
 * slow receiver's mailbox.
 *
 * An actor cannot be suspended inside `send` (JavaScript has no preemption),
 * so, as Erlang suspends a process on a busy distribution port, the runtime
 * pauses a *sender* between messages: after the handler that sent to a
 * congested destination returns, the actor takes no further message until the
 * destination drains. Its own mailbox then fills instead, which in turn
 * pauses whoever feeds it: back-pressure travels upstream, actor by actor.
 *
 * What counts as congested, and who learns of it:
 *
 * 1. A link over its high-water mark of queued bytes (the link itself says
 *    so through the router). The kernel that writes on it pauses its senders
 *    to every kernel behind that link. A hub (the system's main thread, which
 *    forwards between threads, processes and other systems) that queues a
 *    frame it did not originate into a congested link tells the kernel that
 *    handed it the frame ("kernel X is congested"), and "relieved" once the
 *    link drains.
 *
 * 2. A mailbox over MAILBOX_HIGH messages (a slow actor). The kernel that
 *    hosts it tells the systems of the senders ("actor X is congested"): each
 *    system's main kernel passes it to all of that system's kernels. Only
 *    senders *to that actor* pause, so one slow actor does not stall the
 *    other actors that share its link, thread or process. Under MAILBOX_LOW
 *    (or when the actor dies) the kernel says "relieved". The notice is a
 *    lease: it lapses unless renewed while the mailbox stays full, so a lost
 *    "relieved" (a kernel that died) cannot pause anyone forever.
 *
 * Deadlock. Two actors that send to each other could each wait for the
 * other's mailbox to drain while neither handles mail. So an actor whose own
 * mailbox is congested (others wait on it) is never paused: in any cycle of
 * waiting actors each one is waited on, hence none is paused. Links drain by
 * themselves (their far ends read regardless of mailboxes), so they cannot be
 * part of such a cycle.
 *
 * Not paused: system endpoints (`system.tell` from plain code cannot wait)
 * and sends made outside any handler.
 */
import type { ActorAddress } from '../../address.js';

/** A mailbox fed from other actors this long is congested... */
export const MAILBOX_HIGH = 4096;
/** ...until its owner has worked it down to this. */
export const MAILBOX_LOW = 1024;
/** How long a "target congested" notice holds unless renewed. */
export const CONGESTION_LEASE_MS = 2000;

/** Scope of a notice that covers every kernel a kernel has no direct link to (they are behind its default route). */
export const DEFAULT_ROUTE = '*';

/** Something paused actors wait on; opening it resumes them all. */
export class FlowGate {
  private waiters: Array<() => void> = [];

  get waiting(): number {
    return this.waiters.length;
  }

  wait(resume: () => void): void {
    this.waiters.push(resume);
  }

  open(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resume of waiters) resume();
  }
}

interface Notice {
  readonly gate: FlowGate;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** For an actor's notice: the kernel in its address. */
  readonly kernel: string | undefined;
}

/** Whether `kernelId` is a kernel of `systemId` (no string is made: this runs per message). */
export function inSystem(kernelId: string, systemId: string): boolean {
  return kernelId.length > systemId.length && kernelId.charCodeAt(systemId.length) === 58 /* ':' */ && kernelId.startsWith(systemId);
}

/** The system id in a kernel id ("<system>:<kernel>"). */
export function systemOf(kernelId: string): string {
  const colon = kernelId.indexOf(':');
  return colon < 0 ? kernelId : kernelId.slice(0, colon);
}

/**
 * The sender side: what this kernel has been told is congested. Scopes are
 * actor ids, kernel ids, system ids, or DEFAULT_ROUTE; they cannot collide
 * (actor ids hold a '.' or start with "name:", kernel ids hold a ':' and no
 * '.', system ids neither).
 */
export class Congestion {
  private readonly notices = new Map<string, Notice>();

  /** Cheap test for the send path: nothing is congested most of the time. */
  get active(): boolean {
    return this.notices.size > 0;
  }

  get size(): number {
    return this.notices.size;
  }

  /**
   * The gate a send to `to` should wait on, if any. `direct(kernelId)` says
   * whether this kernel has a link of its own to that kernel (otherwise it
   * is behind the default route).
   */
  gateFor(to: ActorAddress, direct: (kernelId: string) => boolean): FlowGate | undefined {
    const notices = this.notices;
    const found = notices.get(to.id) ?? notices.get(to.kernel) ?? notices.get(this.systemOf(to.kernel));
    if (found !== undefined) return found.gate;
    const viaDefault = notices.get(DEFAULT_ROUTE);
    return viaDefault !== undefined && !direct(to.kernel) ? viaDefault.gate : undefined;
  }

  /** `scope` is congested (for `leaseMs`, or until relieved when 0); `kernel`: an actor's, for `gone`. */
  congested(scope: string, leaseMs = 0, kernel?: string): void {
    let notice = this.notices.get(scope);
    if (notice === undefined) {
      notice = { gate: new FlowGate(), timer: undefined, kernel };
      this.notices.set(scope, notice);
    }
    if (notice.timer !== undefined) clearTimeout(notice.timer);
    notice.timer = leaseMs > 0 ? setTimeout(() => this.relieved(scope), leaseMs) : undefined;
  }

  // The system of the kernel last asked about (a stream names one kernel).
  private lastKernel = '';
  private lastSystem = '';

  private systemOf(kernelId: string): string {
    if (kernelId !== this.lastKernel) {
      this.lastKernel = kernelId;
      this.lastSystem = systemOf(kernelId);
    }
    return this.lastSystem;
  }

  relieved(scope: string): void {
    const notice = this.notices.get(scope);
    if (notice === undefined) return;
    this.notices.delete(scope);
    if (notice.timer !== undefined) clearTimeout(notice.timer);
    notice.gate.open();
  }

  /** A kernel (or, with a system id, a whole system) is gone: nothing behind it can drain any more. */
  gone(kernelOrSystem: string): void {
    const whole = !kernelOrSystem.includes(':');
    for (const [scope, notice] of [...this.notices]) {
      const kernel = notice.kernel ?? scope;
      if (kernel === kernelOrSystem || scope === kernelOrSystem || (whole && systemOf(kernel) === kernelOrSystem)) this.relieved(scope);
    }
  }

  /** Resume everyone (the kernel closes). */
  clear(): void {
    for (const scope of [...this.notices.keys()]) this.relieved(scope);
  }
}
