// Length-prefixed framing, pure TS and native, run through the same cases
// and checked against each other on random streams cut at random places.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CodecError, NativeAddonMissingError } from '../src/errors.js';
import { native } from '../src/native.js';
import {
  FRAME_HEADER_BYTES,
  NativeFramer,
  TsFramer,
  createFramer,
  encodeFrames,
  encodeFramesTs,
  type Framer,
} from '../src/transport/framing.js';

/** A small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomFrames(next: () => number, count: number): Uint8Array[] {
  return Array.from({ length: count }, () => {
    const r = next();
    // Mostly small, some empty, a few large enough to span many chunks.
    const size = r < 0.1 ? 0 : r < 0.9 ? Math.floor(next() * 300) : Math.floor(next() * 70_000);
    const frame = new Uint8Array(size);
    const seed = Math.floor(next() * 256);
    for (let i = 0; i < size; i++) frame[i] = (seed + i * 31 + (i >>> 8)) & 0xff;
    return frame;
  });
}

/** Cuts `bytes` into chunks of random sizes, often tiny so headers split. */
function randomCuts(next: () => number, bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.byteLength) {
    const r = next();
    const size = r < 0.3 ? 1 + Math.floor(next() * 5) : r < 0.8 ? 1 + Math.floor(next() * 400) : 1 + Math.floor(next() * 80_000);
    chunks.push(bytes.slice(pos, pos + size)); // a copy: each chunk owns its memory, like socket data
    pos += size;
  }
  return chunks;
}

/** Byte-exact comparison that stays fast on large frames (toEqual walks element by element). */
function sameFrames(got: readonly Uint8Array[], expected: readonly Uint8Array[]): boolean {
  return (
    got.length === expected.length &&
    got.every((frame, i) => Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).equals(expected[i]!))
  );
}

function pushAll(framer: Framer, chunks: Uint8Array[]): Uint8Array[] {
  return chunks.flatMap((chunk) => framer.push(chunk));
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const header = (length: number): Uint8Array =>
  bytes(length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);

const implementations: Array<[string, (max: number) => Framer]> = [
  ['ts', (max) => new TsFramer(max)],
  ['native', (max) => new NativeFramer(max)],
];

describe.each(implementations)('%s framer', (_kind, makeFramer) => {
  it('uses a 4-byte big-endian length header', () => {
    const encoded = encodeFramesTs([bytes(7, 8, 9)]);
    expect([...encoded]).toEqual([0, 0, 0, 3, 7, 8, 9]);
    expect(makeFramer(300).push(bytes(0, 0, 1, 0, ...new Array<number>(256).fill(1)))[0]).toHaveLength(256);
  });

  it('returns every frame across random streams cut at random places', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      const frames = randomFrames(next, 1 + Math.floor(next() * 60));
      const framer = makeFramer(1 << 20);
      const got = pushAll(framer, randomCuts(next, encodeFramesTs(frames)));
      expect(sameFrames(got, frames), `seed ${seed}`).toBe(true);
      expect(framer.bufferedBytes).toBe(0);
    }
  });

  it('handles a header split at every possible place', () => {
    const frames = [bytes(1, 2, 3), bytes(), bytes(4, 5, 6, 7, 8)];
    const stream = encodeFramesTs(frames);
    for (let a = 0; a <= stream.byteLength; a++) {
      for (let b = a; b <= stream.byteLength; b++) {
        const framer = makeFramer(16);
        const got = pushAll(framer, [stream.slice(0, a), stream.slice(a, b), stream.slice(b)]);
        expect(got, `cuts at ${a}, ${b}`).toEqual(frames);
      }
    }
  });

  it('returns many frames from one chunk as views of it, without copying', () => {
    const frames = Array.from({ length: 1000 }, (_, i) => new Uint8Array(64).fill(i & 0xff));
    const chunk = encodeFramesTs(frames);
    const got = makeFramer(64).push(chunk);
    expect(got).toEqual(frames);
    for (const frame of got) expect(frame.buffer).toBe(chunk.buffer);
  });

  it('copies a frame that straddles chunks once, into a buffer of its own', () => {
    const frame = new Uint8Array(1000).map((_, i) => i & 0xff);
    const stream = encodeFramesTs([frame]);
    const framer = makeFramer(1000);
    expect(framer.push(stream.subarray(0, 2))).toEqual([]);
    expect(framer.bufferedBytes).toBe(2);
    expect(framer.push(stream.subarray(2, 500))).toEqual([]);
    expect(framer.bufferedBytes).toBe(500);
    const [got] = framer.push(stream.subarray(500));
    expect(got).toEqual(frame);
    expect(got!.buffer).not.toBe(stream.buffer);
    expect(got!.byteLength).toBe(got!.buffer.byteLength);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('accepts a frame of exactly the limit, and empty frames with a zero limit', () => {
    expect(makeFramer(5).push(encodeFramesTs([new Uint8Array(5)]))).toHaveLength(1);
    expect(makeFramer(0).push(encodeFramesTs([bytes(), bytes()]))).toEqual([bytes(), bytes()]);
  });

  it('rejects an oversize length as soon as the header is complete, before buffering', () => {
    const framer = makeFramer(1024);
    // Only the header of a 4 GiB frame arrives: refused at once, nothing held.
    expect(() => framer.push(header(0xffffffff))).toThrow(CodecError);
    expect(framer.bufferedBytes).toBe(0);
    // Once failed, a framer stays failed: the stream has lost its boundaries.
    expect(() => framer.push(encodeFramesTs([bytes(1)]))).toThrow(CodecError);

    const split = makeFramer(1024);
    expect(split.push(header(1025).subarray(0, 3))).toEqual([]);
    expect(split.bufferedBytes).toBe(3);
    expect(() => split.push(header(1025).subarray(3))).toThrow('frame of 1025 bytes exceeds the limit of 1024 bytes');

    const afterGood = makeFramer(8);
    const stream = new Uint8Array([...encodeFramesTs([bytes(1, 2)]), ...header(9)]);
    expect(() => afterGood.push(stream)).toThrow(CodecError);
  });

  it('parses chunks backed by a SharedArrayBuffer', () => {
    const frames = [bytes(1, 2, 3), new Uint8Array(100).fill(9)];
    const encoded = encodeFramesTs(frames);
    const shared = new Uint8Array(new SharedArrayBuffer(encoded.byteLength));
    shared.set(encoded);
    const framer = makeFramer(100);
    expect(sameFrames([...framer.push(shared.subarray(0, 10)), ...framer.push(shared.subarray(10))], frames)).toBe(true);
  });

  it('refuses a bad limit and a chunk that is not a Uint8Array', () => {
    expect(() => makeFramer(-1)).toThrow(RangeError);
    expect(() => makeFramer(1.5)).toThrow(RangeError);
    expect(() => makeFramer(2 ** 32)).toThrow(RangeError);
    expect(() => makeFramer(10).push('abc' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('TS and native framing agree', () => {
  it('parse the same random streams into the same frames and fail the same way', () => {
    for (let seed = 100; seed < 140; seed++) {
      const next = random(seed);
      const frames = randomFrames(next, 1 + Math.floor(next() * 40));
      const chunks = randomCuts(next, encodeFramesTs(frames));
      // A limit that some seeds exceed, so errors are compared too.
      const limit = 50_000;
      const outcome = (framer: Framer): unknown => {
        const got: Uint8Array[] = [];
        try {
          for (const chunk of chunks) got.push(...framer.push(chunk));
          return { frames: got.map((f) => Buffer.from(f).toString('base64')), buffered: framer.bufferedBytes };
        } catch (error) {
          return { error: (error as Error).message, name: (error as Error).name, buffered: framer.bufferedBytes };
        }
      };
      expect(outcome(new NativeFramer(limit)), `seed ${seed}`).toEqual(outcome(new TsFramer(limit)));
    }
  });

  it('encode batches to the same bytes', () => {
    for (let seed = 200; seed < 220; seed++) {
      const frames = randomFrames(random(seed), 50);
      expect(Buffer.from(NativeFramer.encode(frames)).equals(Buffer.from(TsFramer.encode(frames)))).toBe(true);
    }
    expect(NativeFramer.encode([])).toHaveLength(0);
    expect([...encodeFrames([bytes(1)], { native: true })]).toEqual([...encodeFrames([bytes(1)], { native: false })]);
    expect(FRAME_HEADER_BYTES).toBe(native!.frameHeaderBytes);
  });
});

describe('choosing an implementation', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('gives what is asked for, and the measured-faster TS framer by default', () => {
    expect(createFramer(10, { native: true }).kind).toBe('native');
    expect(createFramer(10, { native: false }).kind).toBe('ts');
    expect(createFramer(10).kind).toBe('ts');
  });

  it('falls back to TS when the addon is missing, and refuses to fake native', async () => {
    vi.stubEnv('THESPIS_NO_NATIVE', '1');
    vi.resetModules();
    const fresh = await import('../src/transport/framing.js');
    const errors = await import('../src/errors.js');
    expect(fresh.createFramer(10).kind).toBe('ts');
    expect([...fresh.encodeFrames([bytes(1)])]).toEqual([0, 0, 0, 1, 1]);
    expect(() => fresh.createFramer(10, { native: true })).toThrow(errors.NativeAddonMissingError);
    expect(() => fresh.createFramer(10, { native: true })).toThrow(/framing needs the thespis native addon/);
    // The class from this module graph still names itself the same way.
    expect(new errors.NativeAddonMissingError('x').name).toBe(new NativeAddonMissingError('x').name);
  });
});
