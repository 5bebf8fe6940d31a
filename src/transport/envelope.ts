/**
 * Envelopes: what travels on a byte-stream link between processes. Each
 * framed record is
 *
 *   [u8 destination length][destination kernel id][u8 source length][source kernel id]
 *   [u8 descriptor count][payload]
 *
 * The descriptor count says how many file descriptors (sockets handed off in
 * the payload's messages, see handles.ts) belong to this record; they travel
 * beside the bytes with SCM_RIGHTS (fd-link.ts), in the same order as the
 * records, so a hub forwards them with the record without decoding it.
 *
 * The payload is a batch of kernel frames encoded by the source kernel's
 * channel to the destination (channel.ts). A hub (the system's main process)
 * reads only the two ids: a record for another process is forwarded as it
 * came, without decoding, which is what lets two process actors talk through
 * the hub at socket speed. Kernel ids are short ASCII strings.
 */
const MAX_ID_BYTES = 255;
/** The kernel refuses more in one sendmsg (SCM_MAX_FD); a record's descriptors travel in one. */
export const MAX_ENVELOPE_FDS = 253;

export interface Envelope {
  destination: string;
  source: string;
  /** File descriptors that travel with this record. */
  fdCount: number;
  payload: Uint8Array;
}

/** The fixed part of every envelope from `source` to `destination`. */
export function envelopeHeader(destination: string, source: string): Uint8Array {
  const dst = Buffer.from(destination, 'latin1');
  const src = Buffer.from(source, 'latin1');
  if (dst.length > MAX_ID_BYTES || src.length > MAX_ID_BYTES) throw new RangeError('kernel ids are at most 255 bytes');
  const header = new Uint8Array(2 + dst.length + src.length);
  header[0] = dst.length;
  header.set(dst, 1);
  header[1 + dst.length] = src.length;
  header.set(src, 2 + dst.length);
  return header;
}

/** Bytes an envelope's head takes at most (two ids of up to 255 bytes, their lengths, the descriptor count). */
export const ENVELOPE_ROOM = 2 * (1 + MAX_ID_BYTES) + 1;

/** The head of an envelope: the fixed header and the descriptor count (the payload follows it). */
export function envelopeHead(header: Uint8Array, fdCount: number): Uint8Array {
  if (fdCount > MAX_ENVELOPE_FDS) throw new RangeError(`at most ${MAX_ENVELOPE_FDS} descriptors per envelope`);
  const head = new Uint8Array(header.length + 1);
  head.set(header, 0);
  head[header.length] = fdCount;
  return head;
}

/** Header, descriptor count and payload in one new buffer. */
export function sealEnvelope(header: Uint8Array, payload: Uint8Array, fdCount = 0): Uint8Array {
  if (fdCount > MAX_ENVELOPE_FDS) throw new RangeError(`at most ${MAX_ENVELOPE_FDS} descriptors per envelope`);
  const out = Buffer.allocUnsafe(header.length + 1 + payload.length);
  out.set(header, 0);
  out[header.length] = fdCount;
  out.set(payload, header.length + 1);
  return out;
}

/** How many descriptors the envelope in `record` declares, or -1 when it is not an envelope. */
export function envelopeFdCount(record: Uint8Array): number {
  const n = record.length;
  if (n < 2) return -1;
  const srcAt = 1 + record[0]!;
  if (srcAt >= n) return -1;
  const countAt = srcAt + 1 + record[srcAt]!;
  return countAt < n ? record[countAt]! : -1;
}

/** The envelope in `record`, or null when the record is too short for the lengths it declares. */
export function openEnvelope(record: Uint8Array): Envelope | null {
  const n = record.length;
  if (n < 2) return null;
  const dstLength = record[0]!;
  const srcAt = 1 + dstLength;
  if (srcAt >= n) return null;
  const srcLength = record[srcAt]!;
  const countAt = srcAt + 1 + srcLength;
  if (countAt >= n) return null;
  const buf = Buffer.from(record.buffer, record.byteOffset, n);
  return {
    destination: buf.toString('latin1', 1, srcAt),
    source: buf.toString('latin1', srcAt + 1, countAt),
    fdCount: record[countAt]!,
    payload: record.subarray(countAt + 1),
  };
}
