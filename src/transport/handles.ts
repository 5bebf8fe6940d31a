/**
 * Socket hand-off: a `net.Socket` or `net.Server` inside a message to an
 * actor in another kernel arrives there as a live socket or server on the
 * same connection or listening port. (Between actors of one kernel a message
 * is not encoded, so the object itself arrives.)
 *
 * How. Encoding takes a descriptor of its own for the socket (dup), and once
 * the frame is committed to a link the sender's object is destroyed, which
 * closes only the sender's descriptor: the connection lives on in the copy.
 * Bytes the sender had read but nobody consumed travel in the message and are
 * put back in front of the receiver's stream, so nothing is lost.
 *
 * On the wire a handle is tag HANDLE_TAG `[kind, slot, buffered bytes|null]`.
 * What `slot` means depends on the link, which says so with a HandleScope
 * around each encode and decode:
 * - between threads of one process, it is the descriptor number itself;
 * - between processes, it is an index into the descriptors that travel with
 *   the record (SCM_RIGHTS, fd-link.ts), so bytes from another process can
 *   only ever name descriptors that process actually sent.
 *
 * Decoding yields a PassedHandle, which owns the descriptor. A kernel that
 * only relays a frame (the system's process between a process and a thread)
 * encodes the PassedHandle again, which moves the descriptor on; the kernel
 * that delivers the frame opens it as a socket or server (`openHandles`).
 */
import { Server, Socket, createServer } from 'node:net';
import { ActorAddress } from '../address.js';
import { FrameKind, type Frame } from '../core/protocol.js';
import { CodecError } from '../errors.js';
import { requireNative } from '../native.js';
import type { AddressEncoder } from './codec/address-table.js';
import { MAX_ENVELOPE_FDS } from './envelope.js';
import { closeFd } from './fd-link.js';

const KIND_SOCKET = 0;
const KIND_SERVER = 1;
type HandleKind = typeof KIND_SOCKET | typeof KIND_SERVER;

/** A socket or listening server in transit: it owns `fd` until it is sent on or opened. */
export class PassedHandle {
  constructor(
    readonly kind: HandleKind,
    public fd: number,
    readonly buffered: Uint8Array | null,
  ) {}

  close(): void {
    if (this.fd < 0) return;
    closeFd(this.fd);
    this.fd = -1;
  }
}

/** What one encode or decode on a link may do with descriptors; see the file comment. */
export class HandleScope {
  /** Descriptors to send with the record being encoded (cross-process links). */
  outgoing: number[] = NONE;
  /** Handles decoded in the last decode. */
  decoded = 0;
  private incoming: readonly number[] = [];
  private claimed: boolean[] = [];
  private commits: (() => void)[] = [];
  private rollbacks: (() => void)[] = [];

  /** `refusal`: handles cannot cross this link at all (another host); encoding one throws this. */
  constructor(
    readonly crossProcess: boolean,
    private readonly refusal?: string,
  ) {}

  /** Runs `encode` with this scope; on success the caller must `commit()` or `rollback()`. */
  encoding<T>(encode: () => T): T {
    this.outgoing = NONE;
    const outer = current;
    current = this;
    try {
      return encode();
    } catch (error) {
      this.rollback();
      throw error;
    } finally {
      current = outer;
    }
  }

  /** The frame went out: the senders' own sockets close (their copies travel). */
  commit(): void {
    const commits = this.commits;
    this.commits = [];
    this.rollbacks = [];
    for (const commit of commits) commit();
  }

  /** The frame did not go out: release the copies, leave the senders' sockets as they were. */
  rollback(): void {
    const rollbacks = this.rollbacks;
    this.commits = [];
    this.rollbacks = [];
    for (const rollback of rollbacks) rollback();
    this.outgoing = NONE;
  }

  /**
   * Runs `decode` with `fds` (the descriptors that came with the record).
   * Descriptors the bytes did not claim are closed; so are all of them when
   * decoding fails.
   */
  decoding<T>(fds: readonly number[], decode: () => T): T {
    this.incoming = fds;
    this.claimed = [];
    this.decoded = 0;
    const outer = current;
    current = this;
    let ok = false;
    try {
      const result = decode();
      ok = true;
      return result;
    } finally {
      current = outer;
      for (let i = 0; i < fds.length; i++) if (!ok || this.claimed[i] !== true) closeFd(fds[i]!);
      this.incoming = [];
    }
  }

  /** The wire slot for `fd`, which this encode hands over. */
  carry(fd: number, commit: () => void, rollback: () => void): number {
    if (this.refusal !== undefined) throw new CodecError(this.refusal);
    this.commits.push(commit);
    this.rollbacks.push(rollback);
    if (!this.crossProcess) return fd;
    if (this.outgoing === NONE) this.outgoing = [];
    if (this.outgoing.length >= MAX_ENVELOPE_FDS) throw new CodecError(`too many sockets in one batch (at most ${MAX_ENVELOPE_FDS})`);
    return this.outgoing.push(fd) - 1;
  }

  /** The descriptor a decoded slot names. */
  claim(slot: number): number {
    if (this.refusal !== undefined) throw new CodecError(`a handed-off socket came where none can: ${this.refusal}`);
    this.decoded++;
    if (!this.crossProcess) return slot;
    if (slot >= this.incoming.length || this.claimed[slot] === true) {
      throw new CodecError(`a handed-off socket names descriptor ${slot}, which did not come with the batch`);
    }
    this.claimed[slot] = true;
    return this.incoming[slot]!;
  }
}

const NONE: number[] = [];
let current: HandleScope | null = null;

/**
 * One record's encode on a link: `refs` numbers new addresses and `handles`
 * takes hand-offs while `encode` runs. Both are kept when it returns and
 * undone when it throws (the error is rethrown), so a record that never
 * leaves leaves no trace in either.
 */
export function encodeOrUndo<T>(refs: AddressEncoder, handles: HandleScope, encode: () => T): T {
  refs.mark();
  let out: T;
  try {
    out = handles.encoding(encode);
  } catch (error) {
    refs.rollback();
    handles.rollback();
    throw error;
  }
  refs.commit();
  handles.commit();
  return out;
}

/** cbor-x matches extension classes with instanceof. */
export const HandleClass = {
  [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof Socket || value instanceof Server || value instanceof PassedHandle;
  },
};

type Encode = (value: unknown) => void;

export function encodeHandle(value: Socket | Server | PassedHandle, encode: Encode): void {
  const scope = current;
  if (scope === null) throw new CodecError('a socket or server can only travel in a message between actors');
  if (value instanceof PassedHandle) {
    if (value.fd < 0) throw new CodecError('this handed-off socket was already sent on');
    const slot = scope.carry(value.fd, () => (value.fd = -1), () => undefined);
    encode([value.kind, slot, value.buffered]);
    return;
  }
  const addon = requireNative('handing off a socket');
  const fd = fdOf(value);
  if (value instanceof Server) {
    if (fd < 0 || !value.listening) throw new CodecError('a server handed off must be listening');
    const copy = addon.dupFd(fd);
    const slot = scope.carry(copy, () => value.close(), () => closeFd(copy));
    encode([KIND_SERVER, slot, null]);
    return;
  }
  if ((value as { encrypted?: boolean }).encrypted === true) throw new CodecError('a TLS socket cannot be handed off (hand off the plain socket before TLS starts)');
  if (fd < 0 || value.connecting) throw new CodecError('a socket handed off must be open and connected');
  if (value.writableLength > 0) throw new CodecError('the socket has unsent data: hand it off after its "drain" event');
  // Take what is buffered without handing it to the sender's own 'data'
  // listeners (read() emits the chunk it returns): it belongs to the receiver.
  const flowing = value.readableFlowing;
  const listeners = value.listeners('data') as ((chunk: Buffer) => void)[];
  value.pause();
  value.removeAllListeners('data');
  const buffered = value.read() as Buffer | null;
  for (const listener of listeners) value.on('data', listener);
  value.pause(); // on('data') resumes; a rollback resumes it if it was flowing
  const copy = addon.dupFd(fd);
  const slot = scope.carry(
    copy,
    () => value.destroy(),
    () => {
      closeFd(copy);
      if (buffered !== null) value.unshift(buffered);
      if (flowing === true) value.resume();
    },
  );
  encode([KIND_SOCKET, slot, buffered === null ? null : new Uint8Array(buffered.buffer, buffered.byteOffset, buffered.length)]);
}

export function decodeHandle(data: unknown): PassedHandle {
  const scope = current;
  if (scope === null) throw new CodecError('a handed-off socket arrived on a link that cannot carry one');
  if (
    !Array.isArray(data) ||
    data.length !== 3 ||
    (data[0] !== KIND_SOCKET && data[0] !== KIND_SERVER) ||
    !Number.isInteger(data[1]) ||
    (data[1] as number) < 0 ||
    (data[2] !== null && !(data[2] instanceof Uint8Array))
  ) {
    throw new CodecError('malformed handed-off socket: expected [kind, slot, bytes|null]');
  }
  return new PassedHandle(data[0] as HandleKind, scope.claim(data[1] as number), data[2] as Uint8Array | null);
}

/**
 * The handles in `frame` (a message for this kernel) opened as sockets and
 * servers, in place. Only called for frames whose batch held handles.
 */
export function openHandles(frame: Frame): void {
  if (frame[0] === FrameKind.Message) frame[3] = open(frame[3], 0);
}

const MAX_DEPTH = 256;

function open(value: unknown, depth: number): unknown {
  if (value instanceof PassedHandle) return openOne(value);
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  if (ArrayBuffer.isView(value) || value instanceof ActorAddress || value instanceof Date || value instanceof Error || value instanceof RegExp) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = open(value[i], depth + 1);
  } else if (value instanceof Map) {
    const entries = [...value];
    value.clear();
    for (const [key, item] of entries) value.set(open(key, depth + 1), open(item, depth + 1));
  } else if (value instanceof Set) {
    const items = [...value];
    value.clear();
    for (const item of items) value.add(open(item, depth + 1));
  } else {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = open(record[key], depth + 1);
  }
  return value;
}

function openOne(handle: PassedHandle): Socket | Server | null {
  const fd = handle.fd;
  if (fd < 0) return null;
  handle.fd = -1;
  try {
    if (handle.kind === KIND_SERVER) return createServer().listen({ fd });
    const socket = new Socket({ fd, readable: true, writable: true });
    if (handle.buffered !== null) socket.unshift(Buffer.from(handle.buffered));
    return socket;
  } catch {
    closeFd(fd);
    return null;
  }
}

function fdOf(value: Socket | Server): number {
  const fd = (value as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}
