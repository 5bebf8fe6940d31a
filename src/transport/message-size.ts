/**
 * The frame size limit as senders meet it. A message that would encode to
 * more than a link carries (`maxFrameBytes`) is refused where it is sent,
 * with a MessageTooLargeError naming the limit:
 *
 * - at the call, when its size shows without encoding it: a string or bytes
 *   as the whole message (`send`, `tell` and `ask` call `checkMessageSize`).
 *   This holds whatever the target's placement, so code does not start or
 *   stop failing when the runtime places an actor on another thread;
 * - otherwise when its link encodes it (a microtask later, before any batch
 *   is built): the link hands it to its host's refusal handler
 *   (hosts/refusal.ts), which logs it and fails an ask waiting on it.
 */
import type { Frame } from '../core/protocol.js';
import { MessageTooLargeError } from '../errors.js';

/**
 * 64 MiB frames: room for multi-megabyte payloads and file-transfer chunks,
 * while one hostile length prefix cannot make a peer buffer gigabytes.
 */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** 64 MiB, or 1000 bytes: a limit as people read it. */
export function describeBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit++;
  }
  return `${value} ${units[unit]}`;
}

function refusal(what: string, size: number, atLeast: boolean, limit: number): MessageTooLargeError {
  return new MessageTooLargeError(
    `${what} encodes to ${atLeast ? 'at least ' : ''}${size} bytes, over the limit of ${limit} bytes ` +
      `(maxFrameBytes, ${describeBytes(limit)}); it was not sent`,
    size,
    limit,
  );
}

/** The error for a message frame a link refused (`size`: its encoded size, or at least that). */
export function frameTooLarge(frame: Frame, size: number, limit: number, atLeast = false): MessageTooLargeError {
  const what = frame[0] === 0 ? `the message to ${String(frame[1])}` : 'a frame';
  return refusal(what, size, atLeast, limit);
}

/**
 * Throws MessageTooLargeError when `message` is a string or bytes that alone
 * cannot fit in a frame. Constant time for anything else (and for a string
 * whose length settles it either way); a string that may take up to three
 * bytes a character is measured.
 */
export function checkMessageSize(message: unknown, limit: number = DEFAULT_MAX_FRAME_BYTES): void {
  if (typeof message === 'string') {
    if (message.length * 3 <= limit) return;
    const atLeast = message.length > limit;
    const size = atLeast ? message.length : Buffer.byteLength(message, 'utf8');
    if (size > limit) throw refusal('the message', size, atLeast, limit);
    return;
  }
  // On the send path of every message: type checks only (no property load, which turns
  // megamorphic on a stream of messages of many shapes).
  if (typeof message !== 'object' || message === null || !(ArrayBuffer.isView(message) || message instanceof ArrayBuffer)) return;
  const size = message.byteLength;
  if (size > limit) throw refusal('the message', size, false, limit);
}

/**
 * Frames [from, to) failed to encode as one record: a lone frame over the
 * limit is refused (its sender learns why), a lone frame that cannot be
 * encoded at all is dropped; several are tried again, in halves when the
 * record was too large, one by one otherwise, so only the bad ones are lost.
 */
export function retryFailedBatch(
  error: unknown,
  from: number,
  to: number,
  again: (from: number, to: number) => void,
  refuse: (index: number, size: number) => void,
  drop: (error: unknown) => void,
): void {
  const tooLarge = error instanceof MessageTooLargeError;
  if (to - from === 1) {
    if (tooLarge) refuse(from, error.size);
    else drop(error);
  } else if (tooLarge) {
    const middle = (from + to) >>> 1;
    again(from, middle);
    again(middle, to);
  } else {
    for (let i = from; i < to; i++) again(i, i + 1);
  }
}
