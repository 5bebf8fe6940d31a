// The fast writer for thread-link batches (transport/fast-batch.ts): what it
// writes must decode to exactly what the general codec would deliver, and
// anything it does not handle must be left to the general codec.
import { describe, expect, it } from 'vitest';
import { ActorAddress } from '../src/address.js';
import { FrameKind, type Frame } from '../src/core/protocol.js';
import { AddressEncoder } from '../src/transport/codec/address-table.js';
import { FAST_BATCH, FastBatchWriter, fastBatchDecoder } from '../src/transport/codec/fast-batch.js';

const PEER = 'k:w1';
const to = new ActorAddress(PEER, 'k.1');
const from = new ActorAddress('k:w0', 'k.2');

function setup(maxBytes = 64 << 20): { writer: FastBatchWriter; refs: AddressEncoder; decode: (record: Uint8Array) => unknown[] } {
  const refs = new AddressEncoder();
  refs.ref(to);
  refs.ref(from);
  const decoder = fastBatchDecoder();
  return { writer: new FastBatchWriter(maxBytes), refs, decode: (record) => decoder.decode(record) as unknown[] };
}

const message = (body: unknown, sender: ActorAddress | null = from): Frame => [FrameKind.Message, to, sender, body];

/** Bodies as delivered: [dest, body] pairs of a decoded batch. */
function bodies(batch: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < batch.length; i += 2) out.push((batch[i + 1] as unknown[])[3]);
  return out;
}

describe('fast batch writer', () => {
  it('writes primitives, flat objects and arrays that decode to the same values', () => {
    const { writer, refs, decode } = setup();
    const values: unknown[] = [
      0, 1, 23, 24, 255, 256, 65535, 65536, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -24, -25, -(2 ** 40), Number.MIN_SAFE_INTEGER,
      -0, 0.5, 21.375, 1e300, -1e-300, NaN, Infinity, -Infinity, 2 ** 53 + 2,
      '', 'ascii', 'é', 'naïve ☃ 😀', 'x'.repeat(70_000), true, false, null, undefined,
      { kind: 'update', seq: 123456, key: 'sensor-17', value: 21.375, ok: true },
      {}, { 'clé ☃': 'v', 2: 'two', 1: 'one' }, [], [1, 'two', null, undefined, false, -0.25],
    ];
    const frames = values.map((value) => message(value));
    frames.push(message('no sender', null));
    const record = writer.encode(frames.map(() => PEER), frames, PEER, refs)!;
    expect(record[0]).toBe(FAST_BATCH);
    const batch = decode(record);
    expect(bodies(batch)).toEqual([...values, 'no sender']);
    const got = bodies(batch);
    expect(Object.is(got[values.findIndex((v) => Object.is(v, -0))], -0)).toBe(true);
    expect(Number.isNaN(got[values.findIndex((v) => Number.isNaN(v))])).toBe(true);
    expect(batch[0]).toBeNull(); // the peer itself
    expect((batch[1] as unknown[]).slice(0, 3)).toEqual([FrameKind.Message, 0, 1]);
    expect((batch.at(-1) as unknown[])[2]).toBeNull();
  });

  it('names other destinations, and keeps record definitions across batches and past 256 key lists', () => {
    const { writer, refs, decode } = setup();
    for (let round = 0; round < 3; round++) {
      const frames: Frame[] = [];
      for (let i = 0; i < 300; i++) frames.push(message({ [`k${i}`]: i, round }));
      frames.push(message({ same: round }));
      const destinations = frames.map((_, i) => (i === 0 ? 'k:w7' : PEER));
      const batch = decode(writer.encode(destinations, frames, PEER, refs)!);
      expect(batch[0]).toBe('k:w7');
      expect(bodies(batch)).toEqual(frames.map((frame) => frame[3]));
    }
  });

  it('leaves to the general codec what it does not handle, and stays in step with its decoder', () => {
    const { writer, refs, decode } = setup();
    const stranger = new ActorAddress(PEER, 'k.99');
    class Point {
      constructor(readonly x: number) {}
    }
    const refused: Frame[][] = [
      [message(new Date(0))],
      [message({ nested: { a: 1 } })],
      [message([[1]])],
      [message(new Point(1))],
      [message(10n)],
      [message({ big: 10n })],
      [message(new Map())],
      [[FrameKind.Message, stranger, from, 'to an address not numbered yet']],
      [message('fine'), [FrameKind.Control, { op: 'kernelDown', kernelId: 'x' }]],
    ];
    for (const frames of refused) {
      // A shape first seen in a refused batch must not be taken as known by the peer.
      const withShape = [message({ fresh: 1, shape: 2 }), ...frames];
      expect(writer.encode(withShape.map(() => PEER), withShape, PEER, refs)).toBeNull();
    }
    const frames = [message({ fresh: 3, shape: 4 })];
    expect(bodies(decode(writer.encode([PEER], frames, PEER, refs)!))).toEqual([{ fresh: 3, shape: 4 }]);
  });

  it('refuses a batch over the size limit (the general codec reports it), and records stay valid after later batches', () => {
    const { writer, refs, decode } = setup(1000);
    expect(writer.encode([PEER], [message('x'.repeat(2000))], PEER, refs)).toBeNull();
    const first = writer.encode([PEER], [message({ a: 'first' })], PEER, refs)!;
    const kept = first.slice();
    for (let i = 0; i < 2000; i++) writer.encode([PEER], [message('y'.repeat(500))], PEER, refs);
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
