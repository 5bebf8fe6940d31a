/**
 * What a kernel does with a frame one of its links refused because it
 * encodes to more than the link carries (transport/message-size.ts): the
 * refusal is logged at error level, naming the message's target, its size
 * and the limit; and when the message was an ask's (its sender is an
 * endpoint of this kernel), the ask rejects with the MessageTooLargeError at
 * once instead of waiting for its timeout. Nothing of it was sent.
 */
import { CellKind } from '../core/cell.js';
import type { Kernel } from '../core/kernel.js';
import { FrameKind, Refused, type Frame } from '../core/protocol.js';
import type { MessageTooLargeError } from '../errors.js';

export function refuseFrame(kernel: Kernel, frame: Frame, error: MessageTooLargeError): void {
  const from = frame[0] === FrameKind.Message ? frame[2] : null;
  kernel.host.log({
    level: 'error',
    message: error.message,
    source: kernel.id,
    time: Date.now(),
    detail: from === null ? undefined : `sent by ${String(from)}`,
  });
  if (from !== null && kernel.cellFor(from)?.kind === CellKind.Endpoint) kernel.send(null, from, new Refused(error));
}
