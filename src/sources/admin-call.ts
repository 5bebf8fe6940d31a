/**
 * One request to a system's admin from any kernel, answered at a one-shot
 * endpoint of that kernel: the way a worker thread, a process or a remote
 * host asks for a source (and a system asks another system's admin for one).
 */
import type { ActorAddress } from '../address.js';
import type { AdminOp } from '../core/admin-request.js';
import type { SourceRequester } from '../core/host.js';
import { replyOnce } from '../core/reply-once.js';

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
  const { address, reply } = replyOnce<T>(kernel, timeoutMs, what, true);
  send(op(address));
  return { reply, address };
}
