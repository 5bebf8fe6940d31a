import { Encoder, Tag } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { ActorAddress, localSlot } from '../src/address.js';
import { CodecError } from '../src/errors.js';
import {
  ActorExitRequest,
  ChildActorExited,
  DeadEnvelope,
  PoisonMessage,
  WakeupMessage,
  registerMessage,
} from '../src/messages.js';
import { Codec, DEFAULT_LIMITS, MESSAGE_TAG } from '../src/transport/codec/codec.js';

/** Decoding errors must be CodecErrors, whatever the input: returns the error, fails otherwise. */
function decodeError(codec: Codec, bytes: Uint8Array): CodecError {
  try {
    codec.decode(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(CodecError);
    return error as CodecError;
  }
  throw new Error('decode accepted the input');
}

function nested(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

const modes = [
  { name: 'plain', make: () => [new Codec(), new Codec()] as const },
  { name: 'sequential', make: () => [new Codec({}, { sequential: true }), new Codec()] as const },
];

describe.each(modes)('round trips ($name mode)', ({ make }) => {
  const trip = (value: unknown): unknown => {
    const [sender, receiver] = make();
    return receiver.decode(sender.encode(value));
  };

  it('keeps primitives, undefined and nested structures', () => {
    const value = {
      s: 'héllo ✓ 😀',
      n: -42,
      big: 2 ** 40 + 0.5,
      f: 99.5,
      t: true,
      nil: null,
      u: undefined,
      nan: NaN,
      inf: -Infinity,
      list: [1, [2, [3, { deep: ['x', undefined] }]], []],
      obj: { a: { b: { c: {} } } },
    };
    expect(trip(value)).toStrictEqual(value);
    expect(trip(undefined)).toBeUndefined();
    expect(trip([undefined, null])).toStrictEqual([undefined, null]);
  });

  it('keeps BigInt, small and beyond 64 bits, positive and negative', () => {
    const value = [0n, 5n, -5n, 2n ** 63n, -(2n ** 64n), 2n ** 64n, 2n ** 300n + 17n, -(2n ** 200n) - 3n];
    const out = trip(value) as bigint[];
    expect(out).toStrictEqual(value);
    for (const item of out) expect(typeof item).toBe('bigint');
  });

  it('keeps Date (to the millisecond), Map and Set', () => {
    const at = new Date('2024-05-06T07:08:09.123Z');
    const value = {
      at,
      old: new Date(-86_400_000),
      map: new Map<unknown, unknown>([[1, 'one'], ['k', { x: [1] }], [true, new Set([1, 'a'])]]),
      set: new Set([1, 'two', 3n]),
    };
    const out = trip(value) as typeof value;
    expect(out.at).toBeInstanceOf(Date);
    expect(out.at.getTime()).toBe(at.getTime());
    expect(out.old.getTime()).toBe(-86_400_000);
    expect(out.map).toBeInstanceOf(Map);
    expect(out.map.get(1)).toBe('one');
    expect(out.map.get('k')).toStrictEqual({ x: [1] });
    expect(out.map.get(true)).toStrictEqual(new Set([1, 'a']));
    expect(out.set).toBeInstanceOf(Set);
    expect([...out.set]).toStrictEqual([1, 'two', 3n]);
  });

  it('keeps typed arrays with their types; Buffer arrives as Uint8Array', () => {
    const arrays: ArrayLike<number | bigint>[] = [
      new Uint8Array([1, 2, 255]),
      new Uint8ClampedArray([0, 128, 255]),
      new Int8Array([-1, 1]),
      new Uint16Array([65535, 7]),
      new Int16Array([-300, 300]),
      new Uint32Array([4e9]),
      new Int32Array([-2e9, 2e9]),
      new Float32Array([1.5, -2.25]),
      new Float64Array([Math.PI, -0, 1e300]),
      new BigInt64Array([-(2n ** 62n)]),
      new BigUint64Array([2n ** 63n]),
    ];
    const out = trip(arrays) as ArrayLike<number | bigint>[];
    arrays.forEach((array, i) => {
      expect(out[i].constructor).toBe(array.constructor);
      expect(Array.from(out[i])).toStrictEqual(Array.from(array));
    });
    const buffer = trip(Buffer.from('bytes')) as Uint8Array;
    expect(buffer.constructor).toBe(Uint8Array);
    expect(Buffer.from(buffer).toString()).toBe('bytes');
  });

  it('keeps a multi-megabyte string', () => {
    const text = 'ab✓€'.repeat(1_500_000); // 6 M characters, 15 MB of UTF-8
    expect(trip({ text })).toStrictEqual({ text });
  });

  it('keeps Error (name and message) and RegExp', () => {
    const [error, pattern] = trip([new TypeError('bad thing'), /a+b/gi]) as [Error, RegExp];
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('TypeError');
    expect(error.message).toBe('bad thing');
    expect(pattern).toBeInstanceOf(RegExp);
    expect(pattern.source).toBe('a+b');
    expect(pattern.flags).toBe('gi');
  });
});

describe('addresses and messages', () => {
  const codec = new Codec();
  const trip = (value: unknown): unknown => codec.decode(codec.encode(value));

  it('delivers ActorAddress as an instance carrying only kernel and id', () => {
    const address = new ActorAddress('kernel-7', 'actor-42');
    address[localSlot] = { cell: () => 'not serialisable' };
    const out = trip({ to: address }) as { to: ActorAddress };
    expect(out.to).toBeInstanceOf(ActorAddress);
    expect(out.to.kernel).toBe('kernel-7');
    expect(out.to.id).toBe('actor-42');
    expect(out.to[localSlot]).toBeUndefined();
    expect(out.to.equals(address)).toBe(true);
  });

  it('delivers a small envelope of addresses', () => {
    const a = new ActorAddress('k1', 'a');
    const b = new ActorAddress('k2', 'b');
    const [x, y, body] = trip([a, b, { n: 1 }]) as [ActorAddress, ActorAddress, unknown];
    expect(x).toBeInstanceOf(ActorAddress);
    expect(y.equals(b)).toBe(true);
    expect(body).toStrictEqual({ n: 1 });
  });

  it('delivers system messages as instances with their fields', () => {
    const child = new ActorAddress('k', 'child');
    const [exited, poison, dead, exit, wakeup] = trip([
      new ChildActorExited(child),
      new PoisonMessage({ order: 1 }, 'Error: boom'),
      new DeadEnvelope(child, 'late'),
      new ActorExitRequest(),
      new WakeupMessage(250),
    ]) as [ChildActorExited, PoisonMessage, DeadEnvelope, ActorExitRequest, WakeupMessage];
    expect(exited).toBeInstanceOf(ChildActorExited);
    expect(exited.childAddress).toBeInstanceOf(ActorAddress);
    expect(exited.childAddress.equals(child)).toBe(true);
    expect(poison).toBeInstanceOf(PoisonMessage);
    expect(poison.poisonMessage).toStrictEqual({ order: 1 });
    expect(poison.details).toBe('Error: boom');
    expect(dead).toBeInstanceOf(DeadEnvelope);
    expect(dead.deadAddress).toBeInstanceOf(ActorAddress);
    expect(dead.deadMessage).toBe('late');
    expect(exit).toBeInstanceOf(ActorExitRequest);
    expect(wakeup).toBeInstanceOf(WakeupMessage);
    expect(wakeup.delayMs).toBe(250);
    expect('payload' in wakeup).toBe(true);
    expect(wakeup.payload).toBeUndefined();
  });

  it('delivers a registered user class as an instance, without running its constructor or setters', () => {
    class Order {
      static constructed = 0;
      static assigned = 0;
      qty: number;
      constructor(
        readonly id: number,
        qty: number,
      ) {
        Order.constructed++;
        this.qty = qty;
      }
      set price(_value: number) {
        Order.assigned++;
      }
      total(): number {
        return this.id * this.qty;
      }
    }
    registerMessage(Order, 'test.codec.Order');
    const order = new Order(3, 4);
    Object.defineProperty(order, 'price', { value: 9.5, enumerable: true, writable: true });
    const constructedBefore = Order.constructed;
    const out = trip(order) as Order & { price: number };
    expect(out).toBeInstanceOf(Order);
    expect(out.total()).toBe(12);
    expect(out.price).toBe(9.5);
    expect(Order.constructed).toBe(constructedBefore);
    expect(Order.assigned).toBe(0);
  });

  it('delivers an unregistered class instance as plain data (own enumerable fields)', () => {
    class Loose {
      hidden = 1;
      constructor(readonly name: string) {
        Object.defineProperty(this, 'hidden', { enumerable: false });
      }
      greet(): string {
        return this.name;
      }
    }
    const out = trip(new Loose('x'));
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(out).toStrictEqual({ name: 'x' });
  });

  it('delivers a registered name unknown to the receiver as a plain object', () => {
    const raw = new Encoder({ useRecords: false }).encode(new Tag(['no.such.Message', { a: 1, b: 'two' }], MESSAGE_TAG));
    expect(codec.decode(raw)).toStrictEqual({ a: 1, b: 'two' });
  });

  it('rejects malformed address and message tags', () => {
    const raw = new Encoder({ useRecords: false });
    expect(decodeError(codec, raw.encode(new Tag([1], MESSAGE_TAG))).message).toMatch(/registered message/);
    expect(decodeError(codec, raw.encode(new Tag(['k'], 47390))).message).toMatch(/ActorAddress/);
  });

  it('refuses to encode what cannot travel', () => {
    expect(() => codec.encode({ f: () => 1 })).toThrow(CodecError);
    expect(() => codec.encode(Symbol('s'))).toThrow(CodecError);
    expect(() => codec.encode(new Tag('x', 999))).toThrow(CodecError);
  });
});

describe('limits on untrusted input', () => {
  it('has documented defaults and validates limits', () => {
    expect(DEFAULT_LIMITS).toStrictEqual({ maxFrameBytes: 64 * 1024 * 1024, maxDepth: 128 });
    expect(new Codec({ maxDepth: 8 }).limits).toStrictEqual({ maxFrameBytes: 64 * 1024 * 1024, maxDepth: 8 });
    expect(() => new Codec({ maxDepth: 0 })).toThrow(RangeError);
    expect(() => new Codec({ maxFrameBytes: 1.5 })).toThrow(RangeError);
  });

  it('accepts nesting up to maxDepth and rejects one level more', () => {
    const codec = new Codec({ maxDepth: 16 });
    const sender = new Codec({ maxDepth: 64 });
    expect(codec.decode(sender.encode(nested(16)))).toStrictEqual(nested(16));
    expect(decodeError(codec, sender.encode(nested(17))).message).toMatch(/maxDepth 16/);
  });

  it('rejects a depth bomb of a million nested arrays quickly', () => {
    const codec = new Codec();
    for (const header of [0x81, 0x9f, 0xa1]) {
      const bomb = new Uint8Array(1_000_000).fill(header);
      const started = performance.now();
      expect(decodeError(codec, bomb).message).toMatch(/nesting too deep.*maxDepth 128/);
      expect(performance.now() - started).toBeLessThan(1000);
    }
  });

  it('rejects tags wrapping tags (a recursion bomb that is not nesting)', () => {
    const bomb = new Uint8Array(100_000).fill(0xc1); // tag 1 (Date) of tag 1 of ...
    expect(decodeError(new Codec(), bomb).message).toMatch(/unexpected content/);
  });

  it('rejects declared lengths beyond the input without allocating them', () => {
    const codec = new Codec();
    const cases: Array<[number[], RegExp]> = [
      [[0x7a, 0xff, 0xff, 0xff, 0xff, 0x61], /text string of 4294967295 bytes.*1 byte/],
      [[0x5b, 0, 0, 0, 1, 0, 0, 0, 0, 0], /byte string of 4294967296 bytes/],
      [[0x9a, 0xff, 0xff, 0xff, 0xff, 0x00], /array of 4294967295 elements/],
      [[0xba, 0x10, 0, 0, 0, 0x00, 0x00], /map of 268435456 entries/],
      [[0x82, 0x81, 0x79, 0x10, 0x00, 0x61], /text string of 4096 bytes/],
    ];
    for (const [bytes, message] of cases) {
      expect(decodeError(codec, Uint8Array.from(bytes)).message).toMatch(message);
    }
  });

  it('rejects an oversized encode and an oversized decode', () => {
    const small = new Codec({ maxFrameBytes: 1024 });
    const large = new Codec();
    const value = { text: 'x'.repeat(2000) };
    expect(() => small.encode(value)).toThrow(/frame too large.*over maxFrameBytes 1024/);
    expect(decodeError(small, large.encode(value)).message).toMatch(/frame too large: 20\d\d bytes, over maxFrameBytes 1024/);
    expect(small.decode(small.encode({ text: 'fits' }))).toStrictEqual({ text: 'fits' });
  });

  it('refuses to encode nesting the peer would refuse', () => {
    const codec = new Codec({ maxDepth: 10 });
    expect(() => codec.encode(nested(200))).toThrow(/maxDepth 10/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => codec.encode(cyclic)).toThrow(CodecError);
  });

  it('turns garbage, truncation and trailing bytes into CodecError', () => {
    const codec = new Codec();
    const frame = codec.encode({ kind: 'order', id: 1, tags: ['a'] });
    decodeError(codec, new Uint8Array(0));
    decodeError(codec, Uint8Array.of(0xff));
    decodeError(codec, Uint8Array.of(0x1c));
    decodeError(codec, frame.subarray(0, frame.length - 1));
    expect(decodeError(codec, Uint8Array.from([...frame, 0])).message).toMatch(/trailing/);
    // value sharing (28/29) re-reads input and packed values (6/51) are never accepted
    expect(decodeError(codec, Uint8Array.of(0xd8, 28, 0x80)).message).toMatch(/tag 28/);
    expect(decodeError(codec, Uint8Array.of(0xc6, 0x00)).message).toMatch(/tag 6/);

    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 8;
    };
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = new Uint8Array(1 + (random() % 64)).map(() => random() & 0xff);
      try {
        codec.decode(bytes);
        accepted++;
      } catch (error) {
        expect(error).toBeInstanceOf(CodecError);
      }
    }
    expect(accepted).toBeLessThan(3000);
  });

  it('decodes huge bignums in linear time', () => {
    const raw = new Encoder({ useRecords: false, tagUint8Array: false }).encode(new Tag(new Uint8Array(1 << 18).fill(0xab), 2));
    const started = performance.now();
    const value = new Codec().decode(raw) as bigint;
    expect(performance.now() - started).toBeLessThan(2000);
    expect(value % 256n).toBe(0xabn);
  });

  it('copies decoded binary out of the frame', () => {
    const codec = new Codec();
    const frame = new Uint8Array(codec.encode({ data: new Uint8Array([1, 2, 3]), f: new Float64Array([1.5]) }));
    const out = codec.decode(frame) as { data: Uint8Array; f: Float64Array };
    frame.fill(0);
    expect(Array.from(out.data)).toStrictEqual([1, 2, 3]);
    expect(out.f[0]).toBe(1.5);
  });
});

describe('sequential mode', () => {
  const shapes = (i: number): Record<string, unknown> => ({ [`k${i % 300}`]: i, common: { at: i, list: [i] } });

  it('sends each structure once and is decoded in order by the peer', () => {
    const sender = new Codec({}, { sequential: true });
    const receiver = new Codec();
    const message = { kind: 'order', id: 12345, price: 99.5, tags: ['a', 'b'], at: new Date(1_700_000_000_123) };
    const first = sender.encode(message);
    const second = sender.encode(message);
    expect(second.length).toBeLessThan(first.length);
    expect(receiver.decode(first)).toStrictEqual(message);
    expect(receiver.decode(second)).toStrictEqual(message);
    // more shapes than cbor-x's 256 record ids, so ids are recycled mid-stream
    for (let i = 0; i < 2000; i++) {
      expect(receiver.decode(sender.encode(shapes(i)))).toStrictEqual(shapes(i));
    }
  });

  it('keeps both directions of one link apart', () => {
    const left = new Codec({}, { sequential: true });
    const right = new Codec({}, { sequential: true });
    // a few shapes per side, reused, so both sides give the same record ids to different shapes
    for (let i = 0; i < 300; i++) {
      const fromLeft = { left: i, [`l${i % 3}`]: true };
      const fromRight = { [`r${i % 4}`]: i, right: 'r' };
      expect(right.decode(left.encode(fromLeft))).toStrictEqual(fromLeft);
      expect(left.decode(right.encode(fromRight))).toStrictEqual(fromRight);
    }
  });

  it('stays in step with the peer after a frame that failed to encode', () => {
    const sender = new Codec({ maxFrameBytes: 200 }, { sequential: true });
    const receiver = new Codec();
    expect(receiver.decode(sender.encode({ a: 1 }))).toStrictEqual({ a: 1 });
    // new structures are registered before the size check fails; that frame is never sent
    expect(() => sender.encode({ fresh: 'x'.repeat(300), other: { inner: 1 } })).toThrow(CodecError);
    expect(() => sender.encode({ fn: { inner: 2, f: () => 0 } })).toThrow(CodecError);
    for (const value of [{ fresh: 'small', other: { inner: 1 } }, { fn: { inner: 2 } }, { a: 2 }]) {
      expect(receiver.decode(sender.encode(value))).toStrictEqual(value);
    }
  });
});
