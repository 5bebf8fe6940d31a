/**
 * One request to a system's admin from any kernel, answered at a one-shot
 * endpoint of that kernel: the way a worker thread, a process or a remote
 * host asks for a source (and a system asks another system's admin for one).
 */
import type { ActorAddress } from '../address.js';
import type { AdminOp } from '../core/admin-request.js';
import type { Cell } from '../core/cell.js';
import type { SourceRequester } from '../core/host.js';
import { ActorTimeoutError } from '../errors.js';

export interface AdminCall<T> {
  readonly reply: Promise<T>;
  /** The endpoint, for a caller that watches someone on its behalf. */
  readonly address: ActorAddress;
}

/**
 * Sends `op(replyAddress)` with `send` (to the own admin by default); the
 * first message to the endpoint settles it.
 */
export function callAdmin<T>(
  kernel: SourceRequester,
  op: (reply: ActorAddress) => AdminOp,
  timeoutMs: number,
  what: string,
  send: (op: AdminOp) => void = (o) => kernel.admin(o),
): AdminCall<T> {
  let cell!: Cell;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reply = new Promise<T>((resolve, reject) => {
    cell = kernel.createEndpoint({
      receiveMessage: (message) => {
        clearTimeout(timer);
        kernel.removeEndpoint(cell);
        resolve(message as T);
      },
    });
    timer = setTimeout(() => {
      kernel.removeEndpoint(cell);
      reject(new ActorTimeoutError(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    // A guard against an admin that is gone, not a reason to keep the process alive.
    timer.unref();
  });
  send(op(cell.address));
  return { reply, address: cell.address };
}
