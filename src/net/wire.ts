/**
 * What travels on a connection to a system's admin port, after TLS if there
 * is a secret. Every record is length-framed (transport/framing.ts).
 *
 * The first record each way is a hello (CBOR, at most HELLO_MAX_BYTES): who
 * is speaking and, between systems, how much of the other's stream it has
 * already received, so a reconnect resumes where the last one stopped.
 *
 * After it, a record is either an envelope (transport/envelope.ts: its first
 * byte is the destination id's length, never 0) or a link record, whose
 * first byte is 0 and second its kind:
 *
 *   ACK        [0, 1, f64 received]   cumulative: records received so far
 *   HEARTBEAT  [0, 2, f64 actors]     "still here", with a load figure
 *   CONVENTION [0, 3, CBOR]           membership (convention.ts), numbered
 *   BYE        [0, 4, utf8 reason]    the sender leaves the convention
 *
 * Envelopes and CONVENTION records are numbered (implicitly, by position in
 * the stream) and acknowledged; a connection that drops resends what was not
 * acknowledged (session.ts). ACK, HEARTBEAT and BYE belong to one connection.
 */
import type { Capabilities } from '../core/placement/capabilities.js';
import { CodecError } from '../errors.js';
import { Codec } from '../transport/codec/codec.js';

export const enum LinkRecord {
  Ack = 1,
  Heartbeat = 2,
  Convention = 3,
  Bye = 4,
}

/** Largest hello, and largest membership record (a member table of hundreds of systems fits). */
export const HELLO_MAX_BYTES = 64 * 1024;
export const CONVENTION_MAX_BYTES = 4 * 1024 * 1024;

/** Untrusted small structures (hellos, membership): tight depth and size limits. */
const helloCodec = new Codec({ maxFrameBytes: HELLO_MAX_BYTES, maxDepth: 16 });
const conventionCodec = new Codec({ maxFrameBytes: CONVENTION_MAX_BYTES, maxDepth: 16 });

/**
 * The format of what crosses a link between systems, and between a client
 * and a system: envelopes, fast batches, frames and control operations. Each
 * side says its own in its hello, and a side refuses a hello of another
 * format with a reason (`wireMismatch`), so two releases that cannot read
 * each other's batches fail at the handshake, not at the first message.
 *
 * 1: before hellos said it (a hello without `wire`). 2: fast batches carry
 * REPEAT (a record field's repeated short text) and only message frames.
 */
export const WIRE_FORMAT = 2;

/** From a system that wants a link (a member, a leader, an invited system). */
export interface SystemHello {
  kind: 'system';
  /** The sender's WIRE_FORMAT. */
  wire: number;
  systemId: string;
  /** "host:port", or null for an outbound-only system. */
  adminAddress: string | null;
  capabilities: Capabilities;
  /** Records of the peer's stream this side has received in the session (0: none, or no session yet). */
  received: number;
  /** The pair's session generation as this side knows it (session.ts). */
  generation: number;
}

/** From a client (ActorSystem.connect, the CLI). */
export interface ClientHello {
  kind: 'client';
  /** The client's WIRE_FORMAT. */
  wire: number;
}

/** The system's answer to a client. */
export interface ClientWelcome {
  kind: 'welcome';
  /** The system's WIRE_FORMAT. */
  wire: number;
  systemId: string;
  /** The kernel id the client's endpoints live under. */
  clientKernel: string;
  adminAddress: string | null;
  capabilities: Capabilities;
}

/** A refusal, with the reason, before the connection closes. */
export interface Refusal {
  kind: 'refused';
  reason: string;
}

export type Hello = SystemHello | ClientHello | ClientWelcome | Refusal;

const SYSTEM_ID = /^[0-9a-f]{1,32}$/;

export function encodeHello(hello: Hello): Uint8Array {
  return copy(helloCodec.encode(hello));
}

/** Why a hello of another wire format is refused, or null when it speaks ours. */
export function wireMismatch(hello: SystemHello | ClientHello | ClientWelcome): string | null {
  if (hello.wire === WIRE_FORMAT) return null;
  return `it speaks wire format ${hello.wire} and this side ${WIRE_FORMAT} (thespis releases that cannot read each other's messages)`;
}

/** Throws CodecError for anything that is not a well-formed hello (a hello without `wire` is of format 1). */
export function decodeHello(bytes: Uint8Array): Hello {
  const value = helloCodec.decode(bytes) as Record<string, unknown>;
  if (typeof value !== 'object' || value === null) throw new CodecError('a hello must be a map');
  if (value.wire === undefined) value.wire = 1;
  else if (!isCount(value.wire)) throw new CodecError('hello: bad wire format');
  switch (value.kind) {
    case 'system':
      if (typeof value.systemId !== 'string' || !SYSTEM_ID.test(value.systemId)) throw new CodecError('hello: bad systemId');
      if (value.adminAddress !== null && !isAdminAddress(value.adminAddress)) throw new CodecError('hello: bad adminAddress');
      if (!isRecord(value.capabilities)) throw new CodecError('hello: capabilities must be a map');
      if (!isCount(value.received)) throw new CodecError('hello: bad received count');
      if (!isCount(value.generation)) throw new CodecError('hello: bad generation');
      return value as unknown as SystemHello;
    case 'client':
      return { kind: 'client', wire: value.wire as number };
    case 'welcome':
      if (typeof value.systemId !== 'string' || typeof value.clientKernel !== 'string' || !isRecord(value.capabilities)) {
        throw new CodecError('welcome: malformed');
      }
      return value as unknown as ClientWelcome;
    case 'refused':
      return { kind: 'refused', reason: String(value.reason).slice(0, 500) };
    default:
      throw new CodecError(`hello: unknown kind ${JSON.stringify(value.kind)}`);
  }
}

export function isAdminAddress(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 300) return false;
  const colon = value.lastIndexOf(':');
  const port = Number(value.slice(colon + 1));
  return colon > 0 && Number.isInteger(port) && port > 0 && port < 65536;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function copy(view: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(view);
}

// ---- link records ---------------------------------------------------------

export function ackRecord(received: number): Uint8Array {
  return numberRecord(LinkRecord.Ack, received);
}

export function heartbeatRecord(actors: number): Uint8Array {
  return numberRecord(LinkRecord.Heartbeat, actors);
}

export function byeRecord(reason: string): Uint8Array {
  const text = Buffer.from(reason.slice(0, 200), 'utf8');
  const record = new Uint8Array(2 + text.length);
  record[1] = LinkRecord.Bye;
  record.set(text, 2);
  return record;
}

export function conventionRecord(message: unknown): Uint8Array {
  const payload = conventionCodec.encode(message);
  const record = new Uint8Array(2 + payload.length);
  record[1] = LinkRecord.Convention;
  record.set(payload, 2);
  return record;
}

/** The kind of a link record, or 0 when `record` is an envelope. */
export function linkRecordKind(record: Uint8Array): number {
  return record.length >= 2 && record[0] === 0 ? record[1]! : 0;
}

/** The number in an ACK or HEARTBEAT; throws CodecError when malformed. */
export function readNumber(record: Uint8Array): number {
  if (record.length !== 10) throw new CodecError('a link record of the wrong size');
  const value = new DataView(record.buffer, record.byteOffset + 2, 8).getFloat64(0);
  if (!isCount(value)) throw new CodecError('a link record with a bad count');
  return value;
}

export function readBye(record: Uint8Array): string {
  return Buffer.from(record.buffer, record.byteOffset + 2, Math.min(record.length - 2, 200)).toString('utf8');
}

export function readConvention(record: Uint8Array): unknown {
  return conventionCodec.decode(record.subarray(2));
}

function numberRecord(kind: LinkRecord, value: number): Uint8Array {
  const record = new Uint8Array(10);
  record[1] = kind;
  new DataView(record.buffer).setFloat64(2, value);
  return record;
}
