// Payloads of the size-sweep figures, the same for thespis and its peers:
// an ASCII string of `size` characters (`kind` 'string', what the issue's
// figures carry) or a Uint8Array of `size` bytes ('bytes'). Its own module so
// actor modules loaded in workers and processes do not pull in benchmark.js.

export function payloadOf(kind, size) {
  if (kind === 'bytes') return new Uint8Array(size).fill(0x61);
  // Built by repetition, not a loop of concatenations: a flat string.
  return 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%'.repeat(Math.ceil(size / 64)).slice(0, size);
}

/** Bytes in a payload as it arrived (a string counts its characters, all ASCII). */
export function payloadSize(message) {
  if (typeof message === 'string') return message.length;
  if (message instanceof Uint8Array) return message.byteLength;
  return -1;
}

/**
 * Credit for one flow: enough messages to keep WINDOW_BYTES in flight (at
 * least 4), returned by the sink every half window.
 */
const WINDOW_BYTES = 32 * 1024 * 1024;
export function windowFor(size) {
  const window = Math.max(4, Math.floor(WINDOW_BYTES / size));
  return { window, ackEvery: Math.max(1, window >> 1) };
}

export const MIB = 1024 * 1024;
