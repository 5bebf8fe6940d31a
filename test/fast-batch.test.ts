// The fast writer for link batches (transport/codec/fast-batch.ts): what it
// writes must decode to exactly what the general codec would deliver, large
// strings and bytes included; records are cut by bytes and never exceed the
// limit; anything it does not handle is left to the general codec.
import { describe, expect, it } from 'vitest';
import { ActorAddress } from '../src/address.js';
import { FrameKind, type Frame } from '../src/core/protocol.js';
import { AddressDecoder, AddressEncoder } from '../src/transport/codec/address-table.js';
import { LATIN1_TAG } from '../src/transport/codec/cbor-limits.js';
import type { BulkBuffers } from '../src/transport/codec/cbor-writer.js';
import { BATCH_BYTES, FAST_BATCH, FAST_REFUSED, FastBatchWriter, fastBatchDecoder } from '../src/transport/codec/fast-batch.js';

const PEER = 'k:w1';
const to = new ActorAddress(PEER, 'k.1');
const from = new ActorAddress('k:w0', 'k.2');

function setup(maxBytes = 64 << 20, bulk: BulkBuffers | null = null): {
  writer: FastBatchWriter;
  refs: AddressEncoder;
  decode: (record: Uint8Array) => unknown[];
  /** Encodes all frames, record after record; returns the records (throws if one needs the general codec). */
  all: (frames: Frame[], destinations?: string[]) => Uint8Array[];
} {
  const refs = new AddressEncoder();
  refs.ref(to);
  refs.ref(from);
  const decoder = fastBatchDecoder();
  // The reader numbers addresses as the writer's table does: the two defined above.
  const addresses = new AddressDecoder();
  addresses.resolve(to);
  addresses.resolve(from);
  const writer = new FastBatchWriter(maxBytes, { bulk });
  const all = (frames: Frame[], destinations = frames.map(() => PEER)): Uint8Array[] => {
    const records: Uint8Array[] = [];
    for (let i = 0; i < frames.length; ) {
      const taken = writer.encode(destinations, frames, i, PEER, refs);
      if (taken <= 0) throw new Error(`frame ${i}: ${taken}`);
      records.push(writer.record);
      i += taken;
    }
    return records;
  };
  const decode = (record: Uint8Array): unknown[] => {
    const destinations: (string | null)[] = [];
    return decoder.decode(record, false, addresses, destinations).flatMap((frame, i) => [destinations[i], frame]);
  };
  return { writer, refs, decode, all };
}

const message = (body: unknown, sender: ActorAddress | null = from): Frame => [FrameKind.Message, to, sender, body];

/** Bodies as delivered: [dest, body] pairs of a decoded batch. */
function bodies(batch: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < batch.length; i += 2) out.push((batch[i + 1] as unknown[])[3]);
  return out;
}

/** Bulk buffers that say what they handed out. */
function bulkBuffers(): BulkBuffers & { taken: Uint8Array[] } {
  const taken: Uint8Array[] = [];
  return {
    taken,
    take(bytes: number) {
      const buffer = new Uint8Array(bytes + 100);
      taken.push(buffer);
      return buffer;
    },
  };
}

describe('fast batch writer', () => {
  it('writes primitives, strings, bytes, objects and arrays that decode to the same values', () => {
    const { all, decode } = setup();
    const values: unknown[] = [
      0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -24, -25, -(2 ** 40), Number.MIN_SAFE_INTEGER,
      -0, 0.5, 21.375, 1e300, -1e-300, NaN, Infinity, -Infinity, 2 ** 53 + 2,
      '', 'ascii', 'é', 'naïve ☃ 😀', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(1023), 'w'.repeat(1024), 'v'.repeat(70_000),
      'é'.repeat(100), 'ünïcödé '.repeat(200), '😀'.repeat(5000), `${'a'.repeat(2000)}é`,
      true, false, null, undefined,
      { kind: 'update', seq: 123456, key: 'sensor-17', value: 21.375, ok: true },
      {}, { 'clé ☃': 'v', 2: 'two', 1: 'one' }, [], [1, 'two', null, undefined, false, -0.25],
      { nested: { deeper: { list: [1, [2, [3]], { a: 'b' }] } } }, [[1], [[2]]],
    ];
    const frames = values.map((value) => message(value));
    frames.push(message('no sender', null));
    const records = all(frames);
    for (const record of records) expect(record[0]).toBe(FAST_BATCH);
    const batch = records.flatMap((record) => decode(record));
    expect(bodies(batch)).toEqual([...values, 'no sender']);
    const got = bodies(batch);
    expect(Object.is(got[values.findIndex((v) => Object.is(v, -0))], -0)).toBe(true);
    expect(Number.isNaN(got[values.findIndex((v) => Number.isNaN(v))])).toBe(true);
    expect(batch[0]).toBeNull(); // the peer itself
    // Addresses crossed as the numbers the table gave them, and came out resolved.
    expect((batch[1] as unknown[]).slice(0, 3)).toEqual([FrameKind.Message, to, from]);
    expect((batch.at(-1) as unknown[])[2]).toBeNull();
  });

  it('writes long Latin-1 text as Latin-1 bytes and other text as UTF-8, both decoding to the same string', () => {
    const { writer, refs, decode } = setup();
    const ascii = 'abc'.repeat(1000);
    const accented = `${'abc'.repeat(1000)}é\u00ff\u0080`;
    const beyond = `${'abc'.repeat(1000)}\u20ac`; // the euro sign is not Latin-1
    // A slice of a two-byte string: V8 keeps it two-byte, though every character of it is Latin-1.
    const twoByteLatin1 = `\u20ac${'déf'.repeat(1000)}`.slice(1);
    const cases = [[ascii, true], [accented, true], [beyond, false], [twoByteLatin1, true], ['short', false], [`${'x'.repeat(500)}é`, false]] as const;
    for (const [text, tagged] of cases) {
      expect(writer.encode([PEER], [message(text)], 0, PEER, refs)).toBe(1);
      const record = Buffer.from(writer.record);
      // d9 b921 5a: tag LATIN1_TAG over a byte string with a 32-bit length
      expect(record.includes(Buffer.from([0xd9, LATIN1_TAG >> 8, LATIN1_TAG & 0xff, 0x5a]))).toBe(tagged);
      expect(bodies(decode(writer.record))).toEqual([text]);
    }
  });

  it('writes bytes (Uint8Array, Buffer, ArrayBuffer, DataView) that arrive as Uint8Array copies', () => {
    const { writer, refs, decode } = setup();
    const raw = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const values = [raw, Buffer.from(raw), raw.buffer, new DataView(raw.buffer, 10, 20), { image: raw.subarray(5, 9) }];
    expect(writer.encode(values.map(() => PEER), values.map((v) => message(v)), 0, PEER, refs)).toBe(values.length);
    const got = bodies(decode(writer.record)) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, { image: Uint8Array }];
    for (const bytes of [...got.slice(0, 4), got[4].image] as Uint8Array[]) expect(bytes.constructor).toBe(Uint8Array);
    expect([...got[0]]).toEqual([...raw]);
    expect([...got[1]]).toEqual([...raw]);
    expect([...got[2]]).toEqual([...raw]);
    expect([...got[3]]).toEqual([...raw.subarray(10, 30)]);
    expect([...got[4].image]).toEqual([5, 6, 7, 8]);
    // Copies: writing over the record does not change what was delivered.
    writer.record.fill(0);
    expect(got[0][1]).toBe(1);
  });

  it('names other destinations, and keeps record definitions across batches and past 256 key lists', () => {
    const { all, decode } = setup();
    for (let round = 0; round < 3; round++) {
      const frames: Frame[] = [];
      for (let i = 0; i < 300; i++) frames.push(message({ [`k${i}`]: i, round }));
      frames.push(message({ same: round }));
      const destinations = frames.map((_, i) => (i === 0 ? 'k:w7' : PEER));
      const records = all(frames, destinations);
      expect(records).toHaveLength(1);
      const batch = decode(records[0]!);
      expect(batch[0]).toBe('k:w7');
      expect(bodies(batch)).toEqual(frames.map((frame) => frame[3]));
    }
  });

  it('refers to records of 23, 24 and 30 keys (a count of one byte below 24, two from 24 on)', () => {
    const { all, decode } = setup();
    const frames: Frame[] = [];
    for (let round = 0; round < 3; round++) {
      for (const width of [23, 24, 30]) frames.push(message(Object.fromEntries(Array.from({ length: width }, (_, k) => [`w${k}`, `v${k * round}`]))));
    }
    expect(all(frames).flatMap((record) => bodies(decode(record)))).toEqual(frames.map((frame) => frame[3]));
  });

  it('stops before a frame it does not handle, and stays in step with its decoder', () => {
    const { writer, refs, decode } = setup();
    class Point {
      constructor(readonly x: number) {}
    }
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = [deep];
    const refused: Frame[] = [
      message(new Date(0)), message({ nested: { when: new Date(0) } }), message(new Point(1)), message(10n), message({ big: 10n }),
      message(new Map()), message(new Float64Array(2)), message(deep), [FrameKind.Control, { op: 'kernelDown', kernelId: 'x' }],
    ];
    for (const frame of refused) {
      // Taken: the frame before. A shape and an address first seen in the refused frame must not be taken as known by the peer.
      const stranger = new ActorAddress(PEER, `k.${Math.random()}`);
      const last: Frame = frame[0] === FrameKind.Message ? [FrameKind.Message, stranger, from, [{ unseen: 1 }, frame[3]]] : frame;
      const frames: Frame[] = [message({ fresh: 1, shape: 2 }), last];
      expect(writer.encode([PEER, PEER], frames, 0, PEER, refs)).toBe(1);
      expect(bodies(decode(writer.record))).toEqual([{ fresh: 1, shape: 2 }]);
      expect(writer.encode([PEER, PEER], frames, 1, PEER, refs)).toBe(0);
      expect(refs.numberOf(stranger)).toBeUndefined();
    }
    const frames = [message({ fresh: 3, shape: 4 }), message({ unseen: 5 })];
    expect(writer.encode([PEER, PEER], frames, 0, PEER, refs)).toBe(2);
    expect(bodies(decode(writer.record))).toEqual([{ fresh: 3, shape: 4 }, { unseen: 5 }]);
  });

  it('writes a short text that repeats its field once, then as one byte, per field and per key list', () => {
    const { all, decode } = setup();
    const count = (record: Uint8Array, text: string): number => Buffer.from(record).toString('latin1').split(text).length - 1;
    const short = 'ü'.repeat(11); // 22 bytes: short
    const long = 'é'.repeat(12); // 24 bytes: written in full every time
    const bodies1 = Array.from({ length: 50 }, (_, i) => ({ kind: 'update', key: i % 10 === 9 ? 'other' : 'sensor-17', accent: short, wide: long, n: i }));
    const [record] = all(bodies1.map((body) => message(body)));
    expect(count(record!, 'update')).toBe(1);
    // 'sensor-17' again after each 'other' (i = 9, 19, ... 49): in full at i = 0, 10, 20, 30 and 40.
    expect(count(record!, 'sensor-17')).toBe(5);
    expect(count(record!, Buffer.from(short).toString('latin1'))).toBe(1);
    expect(count(record!, Buffer.from(long).toString('latin1'))).toBe(50);
    // The same text in another field, or under another key list, is written in full.
    const [other] = all([message({ key: 'update' }), message({ kind: 'update', key: 'sensor-17', accent: short, wide: long, n: 0, extra: 1 })]);
    expect(count(other!, 'update')).toBe(2);
    expect(bodies(decode(record!))).toEqual(bodies1);
    expect(bodies(decode(other!))).toEqual([{ key: 'update' }, { kind: 'update', key: 'sensor-17', accent: short, wide: long, n: 0, extra: 1 }]);
  });

  it('forgets the texts of a frame it takes back, and of a key list whose id is given to another', () => {
    const { writer, all, refs, decode } = setup();
    // The second frame sets the field's text to 'b', then fails on the Date (the general codec takes it).
    const frames: Frame[] = [message({ kind: 'a' }), message([{ kind: 'b' }, new Date(0)])];
    expect(writer.encode([PEER, PEER], frames, 0, PEER, refs)).toBe(1);
    expect(bodies(decode(writer.record))).toEqual([{ kind: 'a' }]);
    // The taken-back frame wrote 'b' in the field the decoder holds 'a' for: 'b' must not be repeated now.
    const [after] = all([message({ kind: 'b' }), message({ kind: 'b' })]);
    expect(bodies(decode(after!))).toEqual([{ kind: 'b' }, { kind: 'b' }]);
    // 256 other key lists take every record id in turn, the first one's too; its texts go with its id.
    const many = all(Array.from({ length: 300 }, (_, i) => message({ [`k${i}`]: 'x' })));
    const again = all([message({ kind: 'b' }), message({ kind: 'b' })]);
    expect([...many, ...again].flatMap((record) => bodies(decode(record))).slice(-2)).toEqual([{ kind: 'b' }, { kind: 'b' }]);
  });

  it('writes an address new to the link in full once, then by number', () => {
    const { writer, refs, decode, all } = setup();
    const stranger = new ActorAddress('k:w9', 'k.77');
    const frames: Frame[] = [[FrameKind.Message, stranger, from, 1], [FrameKind.Message, stranger, from, 2]];
    expect(writer.encode([PEER, PEER], frames, 0, PEER, refs)).toBe(2);
    const batch = decode(writer.record);
    const first = (batch[1] as unknown[])[1];
    expect(first instanceof ActorAddress && first.equals(stranger)).toBe(true);
    // The second frame names it by number: its id is in the record once, and it resolves to the same object.
    expect(Buffer.from(writer.record).toString('latin1').split('k.77')).toHaveLength(2);
    expect(refs.numberOf(stranger)).toBe(2);
    expect((batch[3] as unknown[])[1]).toBe(first);
    // Numbers from 24 on take a head of two bytes: the same addresses come back.
    const many = Array.from({ length: 40 }, (_, i) => new ActorAddress('k:w9', `k.${100 + i}`));
    const twice: Frame[] = [...many, ...many].map((address, i) => [FrameKind.Message, address, many[39 - (i % 40)]!, i]);
    const again = decode(all(twice)[0]!);
    for (let i = 0; i < twice.length; i++) {
      const [, at, by, body] = again[2 * i + 1] as unknown[];
      expect([(at as ActorAddress).id, (by as ActorAddress).id, body]).toEqual([twice[i]![1].id, twice[i]![2]!.id, i]);
    }
  });

  it('cuts records by bytes, and a record never holds more than the limit', () => {
    const { all, decode } = setup(200_000);
    const text = 'p'.repeat(10_000);
    const frames = Array.from({ length: 50 }, (_, i) => message(`${i}:${text}`));
    const records = all(frames);
    expect(records.length).toBeGreaterThan(5);
    for (const record of records.slice(0, -1)) expect(record.length).toBeGreaterThanOrEqual(BATCH_BYTES);
    for (const record of records) expect(record.length).toBeLessThan(BATCH_BYTES + 11_000);
    expect(records.flatMap((record) => bodies(decode(record)))).toEqual(frames.map((frame) => frame[3]));
    // Two frames that each fit but not together (and the first is under BATCH_BYTES): the second starts the next record.
    const { all: all2, decode: decode2 } = setup(100_000);
    const two = all2([message('a'.repeat(60_000)), message('b'.repeat(60_000))]);
    expect(two).toHaveLength(2);
    expect(two.map((record) => (bodies(decode2(record))[0] as string)[0])).toEqual(['a', 'b']);
  });

  it('refuses a frame that alone is over the limit, after the frames before it, and goes on after it', () => {
    const { writer, refs, decode } = setup(1000);
    const frames = [message('before'), message('x'.repeat(2000)), message({ huge: new Uint8Array(5000) }), message('after')];
    const destinations = frames.map(() => PEER);
    expect(writer.encode(destinations, frames, 0, PEER, refs)).toBe(1);
    expect(bodies(decode(writer.record))).toEqual(['before']);
    expect(writer.encode(destinations, frames, 1, PEER, refs)).toBe(FAST_REFUSED);
    expect(writer.refusedBytes).toBeGreaterThan(1000);
    expect(writer.encode(destinations, frames, 2, PEER, refs)).toBe(FAST_REFUSED);
    expect(writer.refusedBytes).toBeGreaterThanOrEqual(5000);
    expect(writer.encode(destinations, frames, 3, PEER, refs)).toBe(1);
    expect(bodies(decode(writer.record))).toEqual(['after']);
  });

  it('puts a large record in a bulk buffer of its own, from its start, and goes back to its slab for small ones', () => {
    const bulk = bulkBuffers();
    const { writer, refs, decode } = setup(64 << 20, bulk);
    const big = 'L'.repeat(300_000);
    const frames = [message('small first'), message(big), message('small after')];
    const destinations = frames.map(() => PEER);
    // Cut after the frame that takes the bulk record past 256 KiB.
    expect(writer.encode(destinations, frames, 0, PEER, refs)).toBe(2);
    expect(writer.recordIsBulk).toBe(true);
    expect(bulk.taken).toHaveLength(1);
    expect(writer.record.buffer === bulk.taken[0]!.buffer).toBe(true);
    expect(writer.record.byteOffset).toBe(0);
    expect(bodies(decode(writer.record))).toEqual(['small first', big]);
    expect(writer.encode(destinations, frames, 2, PEER, refs)).toBe(1);
    expect(writer.recordIsBulk).toBe(false);
    expect(writer.record.buffer === bulk.taken[0]!.buffer).toBe(false);
    expect(bodies(decode(writer.record))).toEqual(['small after']);
    // Records reaching 16 KiB with strings or bytes go bulk too, batched up to 256 KiB.
    const bytes = new Uint8Array(10_000).fill(9);
    const many = Array.from({ length: 40 }, () => message({ bytes }));
    const taken = writer.encode(many.map(() => PEER), many, 0, PEER, refs);
    expect(taken).toBeLessThan(40);
    expect(writer.recordIsBulk).toBe(true);
    expect(writer.record.length).toBeGreaterThanOrEqual(256 * 1024);
    expect(writer.record.length).toBeLessThan(256 * 1024 + 10_100);
    expect(bulk.taken).toHaveLength(2);
    expect(bodies(decode(writer.record))).toHaveLength(taken);
  });

  it('keeps the records it handed out valid after later batches', () => {
    const { writer, refs, decode } = setup();
    expect(writer.encode([PEER], [message({ a: 'first' })], 0, PEER, refs)).toBe(1);
    const first = writer.record;
    const kept = first.slice();
    for (let i = 0; i < 2000; i++) writer.encode([PEER], [message('y'.repeat(500))], 0, PEER, refs);
    expect(first).toEqual(kept);
    expect(bodies(decode(first))).toEqual([{ a: 'first' }]);
  });
});

describe('a thread link with fast and general batches', () => {
  it('delivers both kinds, interleaved, in order and with their values', async () => {
    const { createRingPair, ThreadLink } = await import('../src/transport/thread-link.js');
    const rings = createRingPair();
    const got: Array<[string, Frame]> = [];
    const all = 3 * 40;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const a = new ThreadLink(rings.a, { self: 'k:w0', peer: PEER }, () => undefined, (error) => { throw error; });
    const b = new ThreadLink(rings.b, { self: PEER, peer: 'k:w0' }, (destination, frame) => {
      got.push([destination, frame]);
      if (got.length === all) done();
    }, (error) => { throw error; });
    try {
      let n = 0;
      for (const kind of ['fast', 'general', 'mixed']) {
        for (let i = 0; i < 40; i++, n++) {
          const general = kind === 'general' || (kind === 'mixed' && i % 7 === 0);
          a.send(PEER, message(general ? { n, at: new Date(n) } : { n }));
        }
        await new Promise((resolve) => setImmediate(resolve)); // one batch per kind
      }
      await finished;
      expect(got.map(([destination]) => destination)).toEqual(Array(all).fill(PEER));
      const received = got.map(([, frame]) => frame[3] as { n: number; at?: Date });
      expect(received.map((body) => body.n)).toEqual(Array.from({ length: all }, (_, i) => i));
      expect(received.filter((body) => body.at instanceof Date).map((body) => body.at!.getTime())).toEqual(
        received.filter((body) => 'at' in body).map((body) => body.n),
      );
      expect(received.filter((body) => 'at' in body)).toHaveLength(40 + 6);
    } finally {
      a.close();
      b.close();
    }
  });
});
