/**
 * The first moments of a connection to an admin port: reading the hello
 * under tight limits (a small size, a deadline) before anything else of the
 * peer is believed, then handing the socket to a framed link.
 *
 * A plain TCP link between two systems (no secret) is read and written on its
 * descriptor with the addon (an FdLink, as process links are), not through
 * the net.Socket: after a batch it polls the socket briefly before it sleeps
 * (ring-spin.ts) while the machine has a core to spare (spare-core.ts), so a
 * conversation between systems pays no wake-ups, and a stream spends no time
 * in the stream machinery of net.Socket. TLS links, clients,
 * and systems without the addon keep the net.Socket (a StreamLink).
 */
import type { Socket } from 'node:net';
import { CodecError } from '../errors.js';
import { native } from '../native.js';
import { DEFAULT_LIMITS } from '../transport/codec/codec.js';
import { FdLink, type RecordLink, type RecordLinkHandlers } from '../transport/fd-link.js';
import { StreamLink } from '../transport/stream-link.js';
import { machineHasSpareCore } from './spare-core.js';
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

/** Longest poll after a batch on a link between systems before sleeping, in µs (as process links). */
export const NET_LINK_SPIN_US = 50;

/**
 * The framed link for a connection between systems: an FdLink on the TCP
 * socket's descriptor where it can be (see the file comment), else as
 * linkAfterHello. The net.Socket gives up its descriptor (a duplicate is
 * taken, then the socket is destroyed without a byte being sent or lost:
 * nothing waits in its write queue, and what it had read is in `rest`).
 */
export function peerLinkAfterHello(socket: Socket, rest: Uint8Array, handlers: RecordLinkHandlers): { link: RecordLink; start(): void } {
  const fd = tcpDescriptor(socket);
  if (fd === null || native === null || process.env.NOFD) return linkAfterHello(socket, rest, handlers);
  socket.pause();
  const buffered: Uint8Array[] = [rest];
  for (let chunk: Buffer | null; socket.readableLength > 0 && (chunk = socket.read() as Buffer | null) !== null; ) buffered.push(chunk);
  let own: number;
  try {
    own = native.dupFd(fd);
  } catch {
    return linkAfterHello(socket, concat(buffered), handlers);
  }
  socket.destroy();
  const link = new FdLink(own, NET_MAX_FRAME_BYTES, () => 0, handlers, NET_LINK_SPIN_US, machineHasSpareCore);
  return { link, start: () => link.push(concat(buffered)) };
}

/** The descriptor of a plain TCP socket with nothing waiting to be written, or null. */
function tcpDescriptor(socket: Socket): number | null {
  if ((socket as { encrypted?: boolean }).encrypted === true || socket.writableLength > 0 || socket.destroyed) return null;
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** One record with its length prefix, for writing a hello straight to a socket. */
export function framed(record: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(4 + record.length);
  out.writeUInt32BE(record.length, 0);
  out.set(record, 4);
  return out;
}
