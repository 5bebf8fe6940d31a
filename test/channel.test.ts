// Channels (transport/channel.ts): batches of frames between two kernels in
// different processes, with the depth check a sender must make on the peer's
// behalf, link-local address numbers that survive a batch that fails, and
// fast batches (fast-batch.ts) that decode like the general codec's and pass
// the same checks at the far end.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActorAddress } from '../src/address.js';
import { FrameKind, type Frame } from '../src/core/protocol.js';
import { CodecError } from '../src/errors.js';
import { Channel } from '../src/transport/channel.js';
import { FAST_BATCH } from '../src/transport/codec/fast-batch.js';
import { openEnvelope } from '../src/transport/envelope.js';
import { joinRecord } from '../src/transport/record-writes.js';

function pair(maxDepth?: number): { send: Channel; receive: () => Frame[]; dropped: number[] } {
  const envelopes: Uint8Array[] = [];
  const limits = maxDepth === undefined ? {} : { maxDepth };
  const send = new Channel('B', 'A', (envelope) => envelopes.push(joinRecord(envelope)), limits);
  const receiver = new Channel('A', 'B', () => undefined, limits);
  const dropped: number[] = [];
  send.onDropped = (count) => dropped.push(count);
  const receive = (): Frame[] => {
    send.flush();
    const frames = envelopes.flatMap((envelope) => receiver.receive(openEnvelope(envelope)!.payload));
    envelopes.length = 0;
    return frames;
  };
  return { send, receive, dropped };
}

const to = new ActorAddress('B', 'B.1');
const from = new ActorAddress('A', 'A.1');
const message = (body: unknown): Frame => [FrameKind.Message, to, from, body];

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('channel', () => {
  it('drops only the frame that nests deeper than the peer accepts, among shallow ones', () => {
    const { send, receive, dropped } = pair(16);
    for (let i = 0; i < 10; i++) send.send(message({ i, text: 'x', when: new Date(0) }));
    send.send(message(nested(20)));
    send.send(message(['last', 1, null]));
    const bodies = receive().map((frame) => (frame as [FrameKind, ActorAddress, ActorAddress, unknown])[3]);
    expect(dropped).toEqual([1]);
    expect(bodies).toHaveLength(11);
    expect(bodies[10]).toEqual(['last', 1, null]);
    expect((bodies[0] as { when: Date }).when).toBeInstanceOf(Date);
  });

  it('checks depth even for shallow messages when the peer accepts less than a batch of them needs', () => {
    // batch → frame → body (or address): three levels, over a limit of two.
    // Sent anyway, the batch would make the receiver throw.
    const { send, receive, dropped } = pair(2);
    for (let i = 0; i < 5; i++) send.send(message({ i }));
    send.send(message(7));
    expect(receive()).toEqual([]);
    expect(dropped).toEqual([6]);
  });

  it('keeps address numbers in step after a batch that could not be encoded', () => {
    const { send, receive, dropped } = pair();
    send.send(message('first'));
    expect(receive()).toHaveLength(1);
    // A new sender address is numbered in this batch, which fails as a whole and
    // then frame by frame: the bad frame's numbering must be taken back.
    const other = new ActorAddress('A', 'A.2');
    send.send([FrameKind.Message, to, other, () => 'cannot travel']);
    receive();
    expect(dropped).toEqual([1]);
    for (let i = 0; i < 3; i++) {
      send.send(message(i));
      send.send([FrameKind.Message, to, other, i]);
    }
    const frames = receive() as Array<[FrameKind, ActorAddress, ActorAddress, unknown]>;
    expect(frames.map((frame) => [frame[1].id, frame[2].id, frame[3]])).toEqual([
      ['B.1', 'A.1', 0], ['B.1', 'A.2', 0], ['B.1', 'A.1', 1], ['B.1', 'A.2', 1], ['B.1', 'A.1', 2], ['B.1', 'A.2', 2],
    ]);
  });
});

describe('channel fast batches', () => {
  function capture(): { send: Channel; payloads: Uint8Array[]; receiver: Channel } {
    const payloads: Uint8Array[] = [];
    const send = new Channel('B', 'A', (envelope) => payloads.push(openEnvelope(joinRecord(envelope))!.payload));
    return { send, payloads, receiver: new Channel('A', 'B', () => undefined) };
  }

  it('writes flat messages between numbered addresses as fast batches, interleaved with general ones, in order and with their values', () => {
    const { send, payloads, receiver } = capture();
    const sent: unknown[] = [];
    const post = (body: unknown): void => {
      sent.push(body);
      send.send(message(body));
    };
    // Record ids are per writer: the general codec's and the fast writer's
    // both start at 0 here, for different key lists, and must not mix.
    post({ a: 1, when: new Date(1) }); // addresses not numbered yet, and a Date: general
    send.flush();
    post({ kind: 'update', seq: 2, key: 'sensor-17', value: 21.375, ok: true });
    post([1, 'two', null]);
    post('text');
    send.flush();
    post({ a: 3, when: new Date(3) }); // the general codec's first key list again
    send.flush();
    post({ kind: 'update', seq: 4, key: 'sensor-17', value: -0.5, ok: false });
    post({ a: 5, when: 7 }); // that key list again, now for the fast writer
    send.flush();
    post({ kind: 'update', seq: 6, when: new Date(9) });
    post({ a: 7, when: new Date(0) });
    send.flush();
    expect(payloads.map((p) => p[0] === FAST_BATCH)).toEqual([false, true, false, true, false]);
    const got = payloads.flatMap((p) => receiver.receive(p)).map((frame) => (frame as [FrameKind, ActorAddress, ActorAddress, unknown])[3]);
    expect(got).toEqual(sent);
    expect((got[4] as { when: Date }).when).toBeInstanceOf(Date);
    expect((got[7] as { when: Date }).when).toBeInstanceOf(Date);
    const [frame] = receiver.receive((post('again'), send.flush(), payloads.at(-1)!)) as Array<[FrameKind, ActorAddress, ActorAddress, unknown]>;
    expect([frame![1].id, frame![2].id, frame![3]]).toEqual(['B.1', 'A.1', 'again']);
  });

  it('puts a fast batch from the peer through the same checks as any batch', () => {
    const { send, payloads } = capture();
    send.send(message('numbers the addresses'));
    send.flush();
    const fresh = (): Channel => {
      const receiver = new Channel('A', 'B', () => undefined, { maxDepth: 16 });
      receiver.receive(payloads[0]!);
      return receiver;
    };
    const batch = (...items: number[]): Uint8Array => Uint8Array.from([FAST_BATCH, ...items]);
    // [null, [0, 0, 1, [[[... 20 deep]]]]]: too deep for a limit of 16.
    expect(() => fresh().receive(batch(0x82, 0xf6, 0x84, 0, 0, 1, ...new Array(20).fill(0x81), 1))).toThrow(CodecError);
    // A sender number the peer never defined.
    expect(() => fresh().receive(batch(0x82, 0xf6, 0x84, 0, 0, 9, 1))).toThrow(CodecError);
    // Not a batch of frames.
    expect(() => fresh().receive(batch(0x01))).toThrow(CodecError);
    // A tag outside the allow-list.
    expect(() => fresh().receive(batch(0x82, 0xf6, 0x84, 0, 0, 1, 0xd8, 28, 0x01))).toThrow(CodecError);
    // A frame for another kernel than the peer (a fast batch over a channel carries the peer's only).
    expect(() => fresh().receive(batch(0x82, 0x61, 0x43, 0x84, 0, 0, 1, 0x05))).toThrow(CodecError);
    // And a well-formed one is delivered.
    const [frame] = fresh().receive(batch(0x82, 0xf6, 0x84, 0, 0, 1, 0x05)) as Array<[FrameKind, ActorAddress, ActorAddress, unknown]>;
    expect([frame![0], frame![1].id, frame![2].id, frame![3]]).toEqual([FrameKind.Message, 'B.1', 'A.1', 5]);
  });
});

describe('fast batches across many batches', () => {
  it('deliver every body as sent, whatever mix of repeated texts, key lists, taken-back frames and general records came before', () => {
    // Few keys and few texts, so key lists and texts repeat; a Date sends its frame to the general
    // codec after the fast writer has begun it (taking it back).
    const text = fc.oneof(
      { arbitrary: fc.constantFrom('a', 'b'), weight: 4 },
      { arbitrary: fc.constantFrom('ü'.repeat(11), 'é'.repeat(12), 'x'.repeat(23), 'y'.repeat(24), ''), weight: 1 },
    );
    const value = fc.oneof(
      { arbitrary: text, weight: 6 },
      { arbitrary: fc.constant(new Date(0)), weight: 1 },
      { arbitrary: fc.oneof(fc.integer(), fc.boolean()), weight: 1 },
      { arbitrary: fc.record({ p: text, q: text }, { requiredKeys: [] }), weight: 1 },
    );
    const body = fc.record({ kind: value, key: value, seq: value, ok: value }, { requiredKeys: [] });
    // A batch may first give every record id to a new key list (260 of them, never seen before).
    const batch = fc.record({ bodies: fc.array(body, { minLength: 1, maxLength: 40 }), evict: fc.boolean() });
    fc.assert(
      fc.property(fc.array(batch, { minLength: 1, maxLength: 20 }), (batches) => {
        const { send, receive } = pair();
        const to = new ActorAddress('A', 'A.1');
        let once = 0;
        for (const { bodies, evict } of batches) {
          const all = [...(evict ? Array.from({ length: 260 }, () => ({ [`once${once++}`]: 'a' })) : []), ...bodies];
          for (const b of all) send.send([FrameKind.Message, to, null, b]);
          expect(receive().map((frame) => frame[3])).toEqual(all);
        }
      }),
      { numRuns: 100 },
    );
  });
});
