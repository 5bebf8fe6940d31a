// The transport mechanisms under large messages (issue 16): records written
// as several buffers in one sendmsg and read straight into place, pooled
// buffers given back, large thread-link records transferred beside the ring,
// the record cap of a ring reader, and the send-time size check.
import { createHash } from 'node:crypto';
import { joinRecord } from '../src/transport/record-writes.js';
import { closeSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ActorAddress } from '../src/address.js';
import { FrameKind, type Frame } from '../src/core/protocol.js';
import { CodecError, MessageTooLargeError } from '../src/errors.js';
import { nativeStatus, requireNative } from '../src/native.js';
import { BufferPool, doneWith, largeBuffers } from '../src/transport/buffer-pool.js';
import { FdLink, type RecordLinkHandlers } from '../src/transport/fd-link.js';
import { TsFramer } from '../src/transport/framing.js';
import { checkMessageSize } from '../src/transport/message-size.js';
import { Channel } from '../src/transport/channel.js';
import { FAST_BATCH } from '../src/transport/codec/fast-batch.js';
import { ADDRESS_TAG } from '../src/transport/codec/cbor-limits.js';
import { openEnvelope } from '../src/transport/envelope.js';
import { planWrites, recordLength } from '../src/transport/record-writes.js';
import { createRing, RingReader, RingWriter } from '../src/transport/ring/ring.js';
import { ThreadLink, createRingPair } from '../src/transport/thread-link.js';

const DEADLINE_MS = 10_000;

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A value as compared here: large strings and bytes by their hash (a diff of megabytes would not help). */
function summary(value: unknown): unknown {
  if (typeof value === 'string' || value instanceof Uint8Array) {
    return [typeof value, value.length, createHash('sha256').update(value).digest('hex'), value.constructor.name];
  }
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, summary(v)]));
  return value;
}

/** `n` bytes, each one's value depending on its position and `seed`. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

describe('planning writes', () => {
  it('copies small parts side by side, passes large ones as they are, and puts each record behind its length', () => {
    const big = bytes(100_000, 1);
    const records = [bytes(10, 2), [bytes(5, 3), big, bytes(7, 4)], bytes(20, 5)];
    const [write, ...more] = planWrites(records, [], []);
    expect(more).toEqual([]);
    // [len][10] [len][5] | big | [7] [len][20]
    expect(write!.parts.map((part) => part.byteLength)).toEqual([4 + 10 + 4 + 5, 100_000, 7 + 4 + 20]);
    expect(write!.parts[1]).toBe(big); // not copied
    const wire = Buffer.concat(write!.parts);
    expect(wire.readUInt32BE(14)).toBe(recordLength(records[1]!));
    const framer = new TsFramer(1 << 20);
    expect(framer.push(wire).map((r) => Buffer.from(r))).toEqual(records.map((r) => Buffer.concat([r].flat())));
  });

  it('cuts writes at a record boundary before one would carry more than 253 descriptors', () => {
    const records = Array.from({ length: 3 }, (_, i) => bytes(8, i));
    const fds = [Array.from({ length: 200 }, (_, i) => i), [1000], Array.from({ length: 100 }, (_, i) => 2000 + i)];
    const writes = planWrites(records, fds, [undefined, new ArrayBuffer(8), undefined]);
    expect(writes.map((w) => w.fds.length)).toEqual([201, 100]);
    expect(writes.map((w) => w.recycle.length)).toEqual([1, 0]);
  });
});

describe('the frame parser, filled in place', () => {
  it('assembles a frame that straddles chunks in a buffer from its allocator, filled directly', () => {
    const sizes: number[] = [];
    const framer = new TsFramer(1 << 20, (n) => {
      sizes.push(n);
      return new Uint8Array(n);
    });
    const body = bytes(50_000, 9);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length);
    expect(framer.push(Buffer.concat([header, body.subarray(0, 1000)]))).toEqual([]);
    expect(sizes).toEqual([50_000]);
    const space = framer.pendingSpace()!;
    expect(space.byteLength).toBe(49_000);
    space.set(body.subarray(1000, 30_000));
    expect(framer.filled(29_000)).toBeNull();
    framer.pendingSpace()!.set(body.subarray(30_000));
    expect(framer.filled(20_000)).toEqual(body);
    expect(framer.pendingSpace()).toBeNull();
  });
});

describe('buffer pools', () => {
  it('give back buffers of at most twice the size asked, keep within their bounds, and drop the largest first', () => {
    const pool = new BufferPool(3, 10 << 20);
    const a = pool.take(100_000);
    const b = pool.take(1 << 20);
    const c = pool.take(4 << 20);
    for (const buffer of [a, b, c]) pool.give(buffer.buffer as ArrayBuffer);
    expect(pool.take(900_000).buffer === b.buffer).toBe(true); // best fit
    expect(pool.take(1 << 20).buffer === c.buffer).toBe(false); // over twice the size asked: not used for it
    pool.give(b.buffer as ArrayBuffer);
    // A fourth buffer: over three, the largest kept (c) goes.
    const d = new BufferPool(1, 1 << 30).take(3 << 20);
    pool.give(d.buffer as ArrayBuffer);
    expect(pool.pooledBytes).toBe(a.byteLength + b.byteLength + d.byteLength);
    expect(pool.take(4 << 20).buffer === c.buffer).toBe(false);
    // Bytes: a buffer that would take the pool past its bytes drops the largest first.
    const e = new BufferPool(1, 1 << 30).take(8 << 20);
    pool.give(e.buffer as ArrayBuffer);
    expect(pool.pooledBytes).toBeLessThanOrEqual(10 << 20);
    expect(pool.take(100_000).buffer === a.buffer).toBe(true);
  });
});

describe('an idle buffer pool', () => {
  afterEach(() => vi.useRealTimers());

  it('lets go of what it keeps once nothing has been taken for a while', () => {
    vi.useFakeTimers();
    const pool = new BufferPool(8, 64 << 20);
    pool.give(pool.take(1 << 20).buffer as ArrayBuffer);
    vi.advanceTimersByTime(1500);
    pool.give(pool.take(1 << 20).buffer as ArrayBuffer); // in use: kept
    vi.advanceTimersByTime(1500);
    expect(pool.pooledBytes).toBeGreaterThan(0);
    vi.advanceTimersByTime(2500);
    expect(pool.pooledBytes).toBe(0);
  });
});

describe.runIf(nativeStatus().available)('fd links with large records', () => {
  const addon = requireNative('fdpass');

  it('sendFds sends several buffers in one call, and recvFdsInto reads into a buffer given', () => {
    const [a, b] = addon.socketPair();
    try {
      expect(addon.sendFds(a, [bytes(3, 1), new Uint8Array(0), bytes(5, 2)], [])).toBe(8);
      const target = new Uint8Array(16);
      expect(addon.recvFdsInto(b, target.subarray(2), 0)).toEqual({ bytes: 8, fds: [], truncated: false });
      expect([...target.subarray(2, 10)]).toEqual([...bytes(3, 1), ...bytes(5, 2)]);
      expect(addon.recvFdsInto(b, target, 0)).toBeNull();
    } finally {
      closeSync(a);
      closeSync(b);
    }
  });

  it('moves records of megabytes whole and in order, reading them in place and giving pooled buffers back', async () => {
    const [a, b] = addon.socketPair();
    const got: Uint8Array[] = [];
    let closed!: (error: Error | undefined) => void;
    const ended = new Promise<Error | undefined>((resolve) => (closed = resolve));
    const handlers: RecordLinkHandlers = { onRecord: (record) => got.push(record.slice()), onClosed: (error) => closed(error) };
    const sender = new FdLink(a, 64 << 20, () => 0, { onRecord: () => undefined, onClosed: () => undefined });
    const reader = new FdLink(b, 64 << 20, () => 0, handlers);
    let drained = 0;
    sender.onDrained = () => drained++;
    const sent: Uint8Array[] = [];
    const pooled = largeBuffers.take(3 << 20);
    pooled.set(bytes(3 << 20, 7));
    const pooledRecord = pooled.subarray(0, 3 << 20);
    const expectedPooled = pooledRecord.slice();
    for (let i = 0; i < 6; i++) {
      const head = bytes(40, i);
      const body = bytes((i + 1) << 20, i);
      sender.write([head, body]);
      sent.push(Buffer.concat([head, body]));
      if (i === 2) {
        sender.write(pooledRecord, undefined, pooled.buffer as ArrayBuffer);
        sent.push(expectedPooled);
      }
    }
    expect(sender.queuedBytes).toBe(sent.reduce((n, r) => n + 4 + r.length, 0));
    await until(() => got.length === sent.length);
    expect(got.map((r) => Buffer.from(r).equals(sent[got.indexOf(r)]!))).toEqual(sent.map(() => true));
    // Written out: nothing queued, and the socket having been full on the way, the link said so.
    expect(sender.queuedBytes).toBe(0);
    expect(drained).toBeGreaterThan(0);
    // The pooled buffer went back to the pool once sent.
    expect(largeBuffers.take(3 << 20).buffer === pooled.buffer).toBe(true);
    await sender.end();
    expect(await ended).toBeUndefined();
  });

  it('widens the send buffer for large records, and narrows it for the small records after them', async () => {
    const wmemMax = Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
    const wmemDefault = Number(readFileSync('/proc/sys/net/core/wmem_default', 'utf8'));
    const wide = Math.min(4 << 20, 2 * wmemMax);
    const [a, b] = addon.socketPair();
    try {
      const sender = new FdLink(a, 64 << 20, () => 0, { onRecord: () => undefined, onClosed: () => undefined });
      // Nobody reads b. A large record, more than the default buffer holds, goes into the kernel whole...
      const large = Math.max(256 << 10, Math.floor(wide * 0.6));
      expect(large).toBeGreaterThan(wmemDefault);
      sender.write(bytes(large, 1));
      await until(() => sender.queuedBytes === 0);
      expect(addon.setSendBuffer(a, 0)).toBe(wide);
      // ...and small records after it have the default again: they wait in the link, where flow control counts them.
      for (let i = 0; i < 64; i++) sender.write(bytes(1000, i));
      expect(addon.setSendBuffer(a, 0)).toBe(wmemDefault);
      await Promise.resolve();
      expect(sender.queuedBytes).toBe(64 * 1004);
      sender.destroy(new Error('test over'));
    } finally {
      closeSync(b);
    }
  });

  it('reuses the buffers of a whole window of records queued at once (32 of 1 MiB), not just a few', async () => {
    const [a, b] = addon.socketPair();
    let got = 0;
    // Both ends share this thread's pool here: the reader's frame buffers come from it too, and go back as a receiver's do.
    const known = new Set<ArrayBufferLike>();
    const onRecord = (record: Uint8Array): void => {
      got++;
      known.add(record.buffer);
      doneWith(record);
    };
    const sender = new FdLink(a, 64 << 20, () => 0, { onRecord: () => undefined, onClosed: () => undefined });
    const reader = new FdLink(b, 64 << 20, () => 0, { onRecord, onClosed: () => undefined });
    const window = () => Array.from({ length: 32 }, () => largeBuffers.take(1 << 20));
    const first = window();
    for (const buffer of first) {
      known.add(buffer.buffer);
      sender.write(buffer.subarray(0, 1 << 20), undefined, buffer.buffer as ArrayBuffer);
    }
    await until(() => got === 32);
    // Every buffer of the next window comes from the pool: none is new memory.
    const again = window();
    expect(again.filter((buffer) => !known.has(buffer.buffer)).length).toBe(0);
    for (const buffer of again) largeBuffers.give(buffer.buffer as ArrayBuffer);
    await sender.end();
    reader.destroy(new Error('test over'));
  });
});

describe('thread links with large records', () => {
  const links: ThreadLink[] = [];
  afterEach(() => {
    for (const link of links.splice(0)) link.close();
  });

  const to = new ActorAddress('k:b', 'k.1');
  const from = new ActorAddress('k:a', 'k.2');
  const message = (body: unknown): Frame => [FrameKind.Message, to, from, body];

  it('transfers large records beside the ring, in order with small ones, and reuses the buffers handed back', async () => {
    const rings = createRingPair();
    const got: unknown[] = [];
    const a = new ThreadLink(rings.a, { self: 'k:a', peer: 'k:b' }, () => undefined, (error) => { throw error; });
    const b = new ThreadLink(rings.b, { self: 'k:b', peer: 'k:a' }, (_destination, frame) => got.push(frame[3]), (error) => { throw error; });
    links.push(a, b);
    const big = 'B'.repeat(3 << 20);
    const blob = bytes(2 << 20, 3);
    const bodies: unknown[] = [];
    for (let round = 0; round < 3; round++) {
      for (const body of [`small ${round}`, big, { round, blob }, `small after ${round}`]) {
        a.send('k:b', message(body));
        bodies.push(body);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(a.unackedBytes).toBeGreaterThan(3 << 20);
    await until(() => got.length === bodies.length);
    expect(got.map(summary)).toEqual(bodies.map(summary));
    // The large byte value arrives as a view of its transferred record, not a copy; text is a copy.
    const received = got[2] as { blob: Uint8Array };
    expect(received.blob.buffer.byteLength).toBeGreaterThan(received.blob.byteLength);
    await until(() => a.unackedBytes === 0);
  });

  it('stays in order across hundreds of large records in one turn (more than a turn decodes)', async () => {
    const rings = createRingPair();
    const got: number[] = [];
    const a = new ThreadLink(rings.a, { self: 'k:a', peer: 'k:b' }, () => undefined, (error) => { throw error; });
    const b = new ThreadLink(rings.b, { self: 'k:b', peer: 'k:a' }, (_d, frame) => got.push((frame[3] as { i: number }).i), (error) => { throw error; });
    links.push(a, b);
    const text = 't'.repeat(40_000);
    for (let i = 0; i < 400; i++) {
      a.send('k:b', message({ i, text }));
      if (i % 7 === 0) a.send('k:b', message({ i: -i }));
    }
    const want: number[] = [];
    for (let i = 0; i < 400; i++) want.push(i, ...(i % 7 === 0 ? [-i] : []));
    await until(() => got.length === want.length);
    expect(got).toEqual(want);
  });
});

describe('fast batches from another process', () => {
  it('are checked as the general codec checks its input: depth, tags, shape, before a frame is delivered', () => {
    const receiver = new Channel('A', 'B', () => undefined);
    // A message frame to B.1 (its address in full) from no one, then its body.
    const frameHead = [FAST_BATCH, 0x82, 0xf6, 0x84, 0x00, 0xd9, ADDRESS_TAG >> 8, ADDRESS_TAG & 0xff, 0x82, 0x61, 0x42, 0x63, 0x42, 0x2e, 0x31, 0xf6];
    const deep = Buffer.concat([Buffer.from(frameHead), Buffer.alloc(200, 0x81), Buffer.from([0x00])]);
    expect(() => new Channel('A', 'B', () => undefined).receive(deep)).toThrow(/nesting too deep/);
    const foreignTag = Buffer.from([...frameHead, 0xd8, 0x1c, 0x00]); // tag 28 (value sharing)
    expect(() => new Channel('A', 'B', () => undefined).receive(foreignTag)).toThrow(/tag 28/);
    const notAMessage = Buffer.from([FAST_BATCH, 0x82, 0xf6, 0x82, 0x01, 0x00]); // a frame of another kind
    expect(() => receiver.receive(notAMessage)).toThrow(/a message frame expected/);
    const undefinedNumber = Buffer.from([FAST_BATCH, 0x82, 0xf6, 0x84, 0x00, 0x05, 0xf6, 0x01]); // address 5 was never sent
    expect(() => receiver.receive(undefinedNumber)).toThrow(/not an address the link defined/);
    const toOther = Buffer.from([FAST_BATCH, 0x82, 0x61, 0x58, 0x84, 0x00, 0x00, 0xf6, 0x01]); // a destination that is not the receiver
    expect(() => receiver.receive(toOther)).toThrow(CodecError);
    // What the fast writer sends is accepted, large text and bytes included.
    const envelopes: Uint8Array[] = [];
    const out = new Channel('B', 'A', (envelope) => envelopes.push(joinRecord(envelope)));
    const to = new ActorAddress('B', 'B.1');
    const body = { text: 'x'.repeat(100_000), bytes: bytes(50_000, 1) };
    out.send([FrameKind.Message, to, null, body]);
    out.flush();
    const payload = openEnvelope(envelopes[0]!)!.payload;
    expect(payload[0]).toBe(FAST_BATCH);
    const [frame] = receiver.receive(payload);
    expect(summary((frame as Frame & unknown[])[3])).toEqual(summary(body));
  });
});

describe('ring readers', () => {
  it('hand over at most maxBatchRecords records per call', async () => {
    const sab = createRing(1 << 16);
    const writer = new RingWriter(sab);
    const reader = new RingReader(sab, { maxBatchRecords: 5 });
    for (let i = 0; i < 23; i++) writer.write(new Uint8Array([i]));
    writer.flush();
    const batches: number[][] = [];
    reader.start((records) => batches.push(records.map((r) => r[0]!)));
    await until(() => batches.flat().length === 23);
    reader.stop();
    writer.close();
    expect(batches.every((batch) => batch.length <= 5)).toBe(true);
    expect(batches.flat()).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });
});

describe('the send-time size check', () => {
  it('refuses a string or bytes over the limit, measuring text only when its length leaves it open', () => {
    expect(() => checkMessageSize('x'.repeat(101), 100)).toThrow(MessageTooLargeError);
    expect(() => checkMessageSize('é'.repeat(40), 100)).not.toThrow(); // 80 bytes
    expect(() => checkMessageSize('é'.repeat(60), 100)).toThrow(/encodes to 120 bytes, over the limit of 100 bytes/);
    expect(() => checkMessageSize(new Uint8Array(101), 100)).toThrow(MessageTooLargeError);
    expect(() => checkMessageSize(new ArrayBuffer(101), 100)).toThrow(MessageTooLargeError);
    expect(() => checkMessageSize(new Float64Array(20), 100)).toThrow(MessageTooLargeError);
    expect(() => checkMessageSize({ byteLength: 1000 }, 100)).not.toThrow(); // only real bytes
    expect(() => checkMessageSize({ data: 'x'.repeat(1000) }, 100)).not.toThrow(); // its link refuses it
  });
});
