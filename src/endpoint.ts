/**
 * The system's endpoints: where `tell`, `ask` and `listen` of the system (and
 * of each `private()` endpoint) send from and receive to. Each is a cell on
 * the main kernel; an ask gets its own short-lived reply cell "<endpoint>/<n>"
 * that watches the target, so a dead target rejects the ask at once.
 */
import { ActorAddress } from './address.js';
import type { Cell } from './core/cell.js';
import type { Kernel } from './core/kernel.js';
import { ControlDone, Created, Refused, TargetDown } from './core/protocol.js';
import { describe } from './actor.js';
import { Fifo } from './core/queue.js';
import { ActorSystemShutdownError, ActorTimeoutError, DeadActorError, InvalidActorAddressError, PoisonError } from './errors.js';
import { PoisonMessage } from './messages.js';
import { checkMessageSize } from './transport/message-size.js';

interface Waiter {
  resolve(message: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Timed out: still in the queue, but takes nothing. */
  expired: boolean;
}

/** What `tell` / `ask` / `listen` are available on: the system itself, or a `private()` endpoint. */
export interface MessageEndpoint {
  readonly address: ActorAddress;
  tell(target: ActorAddress, message: unknown): void;
  ask(target: ActorAddress, message: unknown, timeoutMs?: number): Promise<unknown>;
  listen(timeoutMs?: number): Promise<unknown>;
}

export class Endpoint implements MessageEndpoint {
  private readonly cell: Cell;
  private readonly inbox = new Fifo<unknown>();
  private readonly listeners = new Fifo<Waiter>();
  private readonly asks = new Set<() => void>();
  private askSeq = 0;
  private closedWith: Error | null = null;

  constructor(private readonly kernel: Kernel) {
    this.cell = kernel.createEndpoint({ receiveMessage: (message) => this.receive(message) });
  }

  get address(): ActorAddress {
    return this.cell.address;
  }

  tell(target: ActorAddress, message: unknown): void {
    this.check(target, 'tell');
    checkMessageSize(message);
    this.kernel.send(this.cell.address, target, message);
  }

  ask(target: ActorAddress, message: unknown, timeoutMs?: number): Promise<unknown> {
    this.check(target, 'ask');
    checkTimeout(timeoutMs, 'ask');
    try {
      checkMessageSize(message);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const kernel = this.kernel;
    return new Promise<unknown>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const replyCell = kernel.createEndpoint(
        {
          receiveMessage: (reply) => {
            finish();
            if (reply instanceof TargetDown) reject(new DeadActorError(`ask: ${target} is dead`, target));
            else if (reply instanceof Refused) reject(reply.error);
            else if (reply instanceof PoisonMessage) reject(new PoisonError(`ask: ${target} failed on the message: ${reply.details}`, reply));
            else resolve(reply);
          },
        },
        `${this.cell.address.id}/${++this.askSeq}`,
      );
      const finish = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        this.asks.delete(abort);
        kernel.removeEndpoint(replyCell, this.cell);
        kernel.unwatch(target, replyCell.address);
      };
      const abort = (): void => {
        finish();
        reject(this.closedWith ?? new ActorSystemShutdownError('the actor system shut down'));
      };
      this.asks.add(abort);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          finish();
          reject(new ActorTimeoutError(`ask: no reply from ${target} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      kernel.send(replyCell.address, target, message);
      kernel.watch(target, replyCell.address, null);
    });
  }

  listen(timeoutMs?: number): Promise<unknown> {
    checkTimeout(timeoutMs, 'listen');
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.inbox.length > 0) return Promise.resolve(this.inbox.shift());
    return new Promise<unknown>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined, expired: false };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          waiter.expired = true;
          reject(new ActorTimeoutError(`listen: nothing arrived within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.listeners.push(waiter);
    });
  }

  /** Reject everything pending; later calls fail with `error`. */
  close(error: Error): void {
    this.closedWith = error;
    for (const abort of [...this.asks]) abort();
    let waiter: Waiter | undefined;
    while ((waiter = this.listeners.shift()) !== undefined) {
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      if (!waiter.expired) waiter.reject(error);
    }
    this.kernel.removeEndpoint(this.cell);
  }

  private receive(message: unknown): void {
    // Late notices for asks already answered are not the user's mail.
    if (message instanceof TargetDown || message instanceof Created || message instanceof ControlDone || message instanceof Refused) return;
    let waiter: Waiter | undefined;
    while ((waiter = this.listeners.shift()) !== undefined) {
      if (waiter.expired) continue;
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      waiter.resolve(message);
      return;
    }
    this.inbox.push(message);
  }

  private check(target: unknown, verb: string): void {
    if (this.closedWith) throw this.closedWith;
    if (!(target instanceof ActorAddress)) {
      throw new InvalidActorAddressError(`${verb}: target must be an ActorAddress, got ${describe(target)}`);
    }
  }
}

function checkTimeout(timeoutMs: number | undefined, verb: string): void {
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || !Number.isFinite(timeoutMs))) {
    throw new TypeError(`${verb}: timeoutMs must be a finite number >= 0, got ${String(timeoutMs)}`);
  }
}

export { replyOnce } from './core/reply-once.js';

/**
 * The face a system and a client share: a main endpoint for `tell` / `ask` /
 * `listen`, private endpoints, and closing them all when it ends.
 */
export abstract class EndpointFront implements MessageEndpoint {
  private readonly endpoints = new Set<Endpoint>();
  private main: Endpoint | null = null;

  /** The kernel the endpoints live on (set by the subclass before `openEndpoints`). */
  protected abstract get endpointKernel(): Kernel;

  /** Throws when the system (or the connection) is closed. */
  protected abstract checkOpen(): void;

  /** Call once the kernel exists. */
  protected openEndpoints(): void {
    this.main = this.newEndpoint();
  }

  get address(): ActorAddress {
    return this.main!.address;
  }

  tell(target: ActorAddress, message: unknown): void {
    this.main!.tell(target, message);
  }

  ask(target: ActorAddress, message: unknown, timeoutMs?: number): Promise<unknown> {
    return this.main!.ask(target, message, timeoutMs);
  }

  listen(timeoutMs?: number): Promise<unknown> {
    return this.main!.listen(timeoutMs);
  }

  /** A separate endpoint with its own tell / ask / listen. */
  private(): MessageEndpoint {
    this.checkOpen();
    return this.newEndpoint();
  }

  /** Reject everything pending on every endpoint; later calls fail with `error`. */
  protected closeEndpoints(error: Error): void {
    for (const endpoint of this.endpoints) endpoint.close(error);
  }

  private newEndpoint(): Endpoint {
    const endpoint = new Endpoint(this.endpointKernel);
    this.endpoints.add(endpoint);
    return endpoint;
  }
}
