/**
 * A one-shot reply endpoint for the runtime's own requests (create and
 * control acks, requests to an admin): resolves with the first message it
 * receives and removes itself, or rejects with ActorTimeoutError.
 */
import type { ActorAddress } from '../address.js';
import { ActorTimeoutError } from '../errors.js';
import type { Cell } from './cell.js';
import type { ActorBehavior } from './spec.js';

/** What a one-shot reply needs from its kernel. */
export interface EndpointHost {
  createEndpoint(behavior: ActorBehavior): Cell;
  removeEndpoint(cell: Cell): void;
}

export interface ReplyOnce<T> {
  readonly address: ActorAddress;
  readonly reply: Promise<T>;
  cancel(): void;
}

/** `unref`: the timeout only guards against a peer that is gone; it does not keep the process alive. */
export function replyOnce<T>(host: EndpointHost, timeoutMs: number, what: string, unref = false): ReplyOnce<T> {
  let cell!: Cell;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reply = new Promise<T>((resolve, reject) => {
    cell = host.createEndpoint({
      receiveMessage: (message) => {
        clearTimeout(timer);
        host.removeEndpoint(cell);
        resolve(message as T);
      },
    });
    timer = setTimeout(() => {
      host.removeEndpoint(cell);
      reject(new ActorTimeoutError(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    if (unref) (timer as { unref?: () => void }).unref?.();
  });
  const cancel = (): void => {
    clearTimeout(timer);
    host.removeEndpoint(cell);
  };
  return { address: cell.address, reply, cancel };
}
