/**
 * The side channel of a thread link for large records (cbor-writer.ts: a
 * record of 16 KiB or more with strings or bytes, written into a buffer of
 * its own).
 *
 * Why not the ring. The ring is 1 MiB: a record of a megabyte or more
 * crossed it in quarter-ring chunks, each copied in, copied out, then copied
 * again to reassemble, and the writer waited for the reader once per chunk.
 * Here the record's buffer is transferred instead (postMessage with a
 * transfer list moves the memory, it copies nothing), and the ring carries
 * only a one-byte marker where the record belongs, so order is the ring's.
 *
 * No listener, no wake-up. The reader takes the record with
 * `receiveMessageOnPort` when it meets the marker: the sender posted before it
 * published the marker, and a post is in the receiving port's queue when
 * postMessage returns, so the record is always there. The port is never
 * started, so it neither keeps the thread alive nor costs an event.
 *
 * No fresh memory (buffer-pool.ts says why it matters). Once the reader has
 * decoded a record, and nothing it delivered is a view of it, it hands the
 * buffer back on the same port, and the sender reuses it for a later record.
 *
 * One MessageChannel serves both directions of a link: each end's port
 * carries the peer's records and the buffers the peer hands back.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Fifo } from '../core/queue.js';
import { BufferPool } from './buffer-pool.js';
import type { BulkBuffers } from './codec/cbor-writer.js';

/** What travels on the port: a record (its buffer is the receiver's now), or a buffer handed back. */
type BulkMessage = { record: ArrayBuffer; length: number } | { back: ArrayBuffer };

/** Buffers kept for reuse, at most (and bytes): enough for the records of a window in flight (a few 16 MiB ones). */
const POOL_BUFFERS = 256;
const POOL_BYTES = 128 * 1024 * 1024;

export class BulkPort implements BulkBuffers {
  private readonly incoming = new Fifo<Uint8Array>();
  private readonly pool = new BufferPool(POOL_BUFFERS, POOL_BYTES);
  private closed = false;

  constructor(private readonly port: MessagePort) {
    port.unref();
  }

  take(bytes: number): Uint8Array {
    this.poll();
    return this.pool.take(bytes);
  }

  /** Sends a record written from offset 0 of a buffer from `take`; the buffer is the peer's from now on. */
  send(record: Uint8Array): void {
    if (this.closed) return;
    const buffer = record.buffer as ArrayBuffer;
    this.port.postMessage({ record: buffer, length: record.length } satisfies BulkMessage, [buffer]);
  }

  /** The next record the peer sent (its marker was just read from the ring). */
  receive(): Uint8Array {
    let record = this.incoming.shift();
    if (record === undefined) {
      this.poll();
      record = this.incoming.shift();
    }
    if (record === undefined) throw new Error('thread link: a large record announced in the ring is not on its port');
    return record;
  }

  /** A received record, decoded and not referenced by anything delivered: its buffer goes back to the peer. */
  giveBack(record: Uint8Array): void {
    if (this.closed) return;
    const buffer = record.buffer as ArrayBuffer;
    this.port.postMessage({ back: buffer } satisfies BulkMessage, [buffer]);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.close();
    this.pool.clear();
    while (this.incoming.shift() !== undefined);
  }

  private poll(): void {
    if (this.closed) return;
    let got: { message: unknown } | undefined;
    while ((got = receiveMessageOnPort(this.port)) !== undefined) {
      const message = got.message as BulkMessage;
      if ('record' in message) this.incoming.push(new Uint8Array(message.record, 0, message.length));
      else this.pool.give(message.back);
    }
  }
}
