/**
 * The first moments of a connection to an admin port: reading the hello
 * under tight limits (a small size, a deadline) before anything else of the
 * peer is believed, then handing the socket to a framed link.
 */
import type { Socket } from 'node:net';
import { CodecError } from '../errors.js';
import { DEFAULT_LIMITS } from '../transport/codec/codec.js';
import type { RecordLinkHandlers } from '../transport/fd-link.js';
import { StreamLink } from '../transport/stream-link.js';
import { HELLO_MAX_BYTES, decodeHello, type Hello } from './wire.js';

/** Largest record on a link between systems (the codec's frame limit). */
export const NET_MAX_FRAME_BYTES = DEFAULT_LIMITS.maxFrameBytes;

/**
 * Resolves with the first record's hello and whatever came after it in the
 * same reads. Rejects (the caller closes the socket) on a declared length
 * over HELLO_MAX_BYTES, on bytes that are not a hello, on close, or when
 * nothing complete came within `timeoutMs`.
 */
export function readHello(socket: Socket, timeoutMs: number): Promise<{ hello: Hello; rest: Uint8Array }> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const done = (error: Error | null, value?: { hello: Hello; rest: Uint8Array }): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
      if (error !== null) reject(error);
      else resolve(value!);
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (buffered.length < 4) return;
      const length = buffered.readUInt32BE(0);
      if (length > HELLO_MAX_BYTES) {
        done(new CodecError(`its first record declares ${length} bytes, more than a hello may have (${HELLO_MAX_BYTES})`));
        return;
      }
      if (buffered.length < 4 + length) return;
      socket.pause();
      let hello: Hello;
      try {
        hello = decodeHello(buffered.subarray(4, 4 + length));
      } catch (error) {
        done(error instanceof Error ? error : new CodecError(String(error)));
        return;
      }
      done(null, { hello, rest: buffered.subarray(4 + length) });
    };
    const onClose = (): void => done(new Error('it closed the connection before saying hello'));
    const onError = (error: Error): void => done(error);
    const timer = setTimeout(() => done(new Error(`no hello within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    socket.resume();
  });
}

/**
 * The framed link for the rest of the connection. The socket stays paused
 * until `start` is called (once the link's real handlers are in place): it
 * feeds what came after the hello first, then reads on.
 */
export function linkAfterHello(socket: Socket, rest: Uint8Array, handlers: RecordLinkHandlers): { link: StreamLink; start(): void } {
  socket.pause();
  const link = new StreamLink(socket, NET_MAX_FRAME_BYTES, handlers);
  socket.pause(); // adding a 'data' listener resumed it
  return {
    link,
    start: () => {
      if (rest.length > 0) link.push(rest);
      socket.resume();
    },
  };
}

/** One record with its length prefix, for writing a hello straight to a socket. */
export function framed(record: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(4 + record.length);
  out.writeUInt32BE(record.length, 0);
  out.set(record, 4);
  return out;
}
