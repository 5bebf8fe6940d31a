// The reader of fast batches (transport/codec/fast-batch-reader.ts) checks
// untrusted bytes as it decodes, with no scan before it: everything the fast
// writer does not emit is refused with a CodecError, depth is counted as the
// scan counts it, no declared length may outrun the input, and record keys
// cannot reach an object's prototype, compiled or not.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActorAddress } from '../src/address.js';
import { CodecError } from '../src/errors.js';
import { ADDRESS_TAG, BYTES_TAG, LATIN1_TAG } from '../src/transport/codec/cbor-limits.js';
import { FastBatchReader } from '../src/transport/codec/fast-batch-reader.js';

const read = (bytes: number[], maxDepth = 16): unknown[] => new FastBatchReader(maxDepth).read(Uint8Array.from(bytes), 0);
const text = (s: string): number[] => [0x60 + Buffer.byteLength(s), ...Buffer.from(s)];
/** A record definition: tag 0xdfff [0xe000 + id, [keys], ...values follow]. */
const define = (id: number, keys: string[]): number[] => [0xd9, 0xdf, 0xff, 0x80 + keys.length + 2, 0x19, 0xe0, id, 0x80 + keys.length, ...keys.flatMap(text)];
const refer = (id: number, count: number): number[] => [0xd9, 0xe0, id, 0x80 + count];

describe('fast batch reader', () => {
  it('decodes what the writer emits: integers, float64, simple values, text, addresses, Latin-1 text and bytes', () => {
    const float = [0xfb, ...new Uint8Array(new Float64Array([21.375]).buffer).reverse()];
    const addressBytes = [0xd9, ADDRESS_TAG >> 8, ADDRESS_TAG & 0xff, 0x82, ...text('k'), ...text('k.1')];
    const latin1 = [0xd9, LATIN1_TAG >> 8, LATIN1_TAG & 0xff, 0x42, 0x68, 0x69];
    const bytes = [0xd9, BYTES_TAG >> 8, BYTES_TAG & 0xff, 0x43, 1, 2, 3];
    const got = read([0x8d, 0x17, 0x1a, 0xff, 0xff, 0xff, 0xff, 0x38, 0x63, ...float, 0xf4, 0xf5, 0xf6, 0xf7, ...text('sensor-17-and-more'), ...text('é'), ...addressBytes, ...latin1, ...bytes]);
    const address = got.splice(10, 1)[0] as ActorAddress;
    expect(address).toBeInstanceOf(ActorAddress);
    expect([address.kernel, address.id]).toEqual(['k', 'k.1']);
    expect(got).toEqual([23, 0xffffffff, -100, 21.375, false, true, null, undefined, 'sensor-17-and-more', 'é', 'hi', new Uint8Array([1, 2, 3])]);
    expect(got[11]).toBeInstanceOf(Uint8Array);
  });

  it('builds records the same way before and after their reader is compiled, and refuses a prototype key', () => {
    const reader = new FastBatchReader(16);
    const first = reader.read(Uint8Array.from([0x81, ...define(0, ['a', '__proto__']), 1, 0x81, ...text('x')]), 0);
    const later = [1, 2, 3, 4].map((n) => reader.read(Uint8Array.from([0x81, ...refer(0, 2), n, 0x80]), 0)[0]);
    expect(first).toEqual([{ a: 1, __proto_: ['x'] }]);
    expect(later).toEqual([1, 2, 3, 4].map((n) => ({ a: n, __proto_: [] })));
    for (const object of [...first, ...later]) expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
  });

  it('counts arrays, records and addresses one level each, as the scan does', () => {
    const nested = (levels: number): number[] => [...new Array<number>(levels).fill(0x81), 1];
    expect(read(nested(4), 4)).toEqual([[[[1]]]]);
    expect(() => read(nested(5), 4)).toThrow(/nesting too deep/);
    expect(() => read([0x81, ...define(0, ['a']), 1], 1)).toThrow(/nesting too deep/);
    expect(() => read([0x81, 0xd9, ADDRESS_TAG >> 8, ADDRESS_TAG & 0xff, 0x82, ...text('k'), ...text('i')], 1)).toThrow(/nesting too deep/);
  });

  it('refuses everything the fast writer does not write', () => {
    const refused: Array<[string, number[]]> = [
      ['a map', [0x81, 0xa1, 0x01, 0x02]],
      ['a bare byte string', [0x81, 0x41, 0x00]],
      ['a tag outside the list', [0x81, 0xd8, 28, 0x01]],
      ['a 64-bit integer', [0x81, 0x1b, 0, 0, 0, 1, 0, 0, 0, 0]],
      ['an indefinite array', [0x9f, 0x01, 0xff]],
      ['a float32', [0x81, 0xfa, 0, 0, 0, 0]],
      ['an unassigned simple value', [0x81, 0xf0]],
      ['a record never defined', [0x81, ...refer(3, 0)]],
      ['a repeat outside a record', [0x81, 0xf3]],
      ['a repeat of a field that held no short text', [0x82, ...define(0, ['a']), 1, ...refer(0, 1), 0xf3]],
      ['a record with other than its values', [0x81, ...define(0, ['a']), 1, 0x81, ...refer(0, 2), 1, 2]],
      ['a definition with more values than keys', [0x81, 0xd9, 0xdf, 0xff, 0x84, 0x19, 0xe0, 0, 0x81, ...text('a'), 1, 2]],
      ['a record id out of range', [0x81, 0xd9, 0xdf, 0xff, 0x83, 0x19, 0xe1, 0, 0x81, ...text('a'), 1]],
      ['a key that is not text', [0x81, 0xd9, 0xdf, 0xff, 0x83, 0x19, 0xe0, 0, 0x81, 0x01, 1]],
      ['an address of three parts', [0x81, 0xd9, ADDRESS_TAG >> 8, ADDRESS_TAG & 0xff, 0x83, ...text('a'), ...text('b'), ...text('c')]],
      ['an address of numbers', [0x81, 0xd9, ADDRESS_TAG >> 8, ADDRESS_TAG & 0xff, 0x82, 0x01, 0x02]],
      ['bytes tag over text', [0x81, 0xd9, BYTES_TAG >> 8, BYTES_TAG & 0xff, ...text('a')]],
      ['an array longer than the input', [0x9a, 0x7f, 0xff, 0xff, 0xff, 0x01]],
      ['a text longer than the input', [0x81, 0x78, 200, 0x61]],
      ['truncated input', [0x82, 0x01]],
      ['trailing bytes', [0x81, 0x01, 0x02]],
      ['no batch at all', [0x01]],
      ['nothing', []],
    ];
    for (const [what, bytes] of refused) expect(() => read(bytes), what).toThrow(CodecError);
    // Refused from the head, before anything of that length is allocated.
    expect(() => read([0x9a, 0x7f, 0xff, 0xff, 0xff, 0x01])).toThrow(/declared length too large/);
  });
});

describe('fast batch reader on hostile input', () => {
  /** Only a CodecError, or a batch: never another error, whatever the bytes. */
  const readOrRefuse = (bytes: Uint8Array): void => {
    try {
      expect(Array.isArray(new FastBatchReader(16).read(bytes, 0))).toBe(true);
    } catch (error) {
      expect(error).toBeInstanceOf(CodecError);
    }
  };

  it('refuses arbitrary bytes with CodecError only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => readOrRefuse(bytes)), { numRuns: 3000 });
  });

  it('refuses valid batches with bytes changed or cut with CodecError only', () => {
    const valid = Uint8Array.from([0x83, ...define(0, ['kind', 'seq', 'ok']), ...text('update'), 7, 0xf5, ...refer(0, 3), ...text('x'), 8, 0xf4, 0x82, 1, ...text('two')]);
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(valid.length), (at, value, cut) => {
        const changed = valid.slice(0, Math.max(1, cut));
        if (at < changed.length) changed[at] = value;
        readOrRefuse(changed);
      }),
      { numRuns: 3000 },
    );
  });

  it('never compiles a key list that is not plain identifiers: such keys stay data', () => {
    const hostile = '":(pwned=1),"';
    const reader = new FastBatchReader(16);
    const got = [reader.read(Uint8Array.from([0x81, ...define(0, [hostile, 'ok']), 1, 2]), 0)[0]];
    for (let n = 0; n < 5; n++) got.push(reader.read(Uint8Array.from([0x81, ...refer(0, 2), n, 0xf5]), 0)[0]);
    expect(got.at(-1)).toEqual({ [hostile]: 4, ok: true });
    expect((globalThis as Record<string, unknown>).pwned).toBeUndefined();
    // Read by the loop, never by a compiled literal (plain keys are compiled after two uses).
    const shapes = (reader as unknown as { shapes: Array<{ build: unknown } | null> }).shapes;
    expect(shapes[0]!.build).toBeNull();
    reader.read(Uint8Array.from([0x81, ...define(1, ['kind', 'seq']), 1, 2]), 0);
    for (let n = 0; n < 5; n++) reader.read(Uint8Array.from([0x81, ...refer(1, 2), n, n]), 0);
    expect(shapes[1]!.build).not.toBeNull();
  });
});
