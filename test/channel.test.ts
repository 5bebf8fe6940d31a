// Channels (transport/channel.ts): batches of frames between two kernels in
// different processes, with the depth check a sender must make on the peer's
// behalf, and link-local address numbers that survive a batch that fails.
import { describe, expect, it } from 'vitest';
import { ActorAddress } from '../src/address.js';
import { FrameKind, type Frame } from '../src/core/protocol.js';
import { Channel } from '../src/transport/channel.js';
import { openEnvelope } from '../src/transport/envelope.js';

function pair(maxDepth?: number): { send: Channel; receive: () => Frame[]; dropped: number[] } {
  const envelopes: Uint8Array[] = [];
  const limits = maxDepth === undefined ? {} : { maxDepth };
  const send = new Channel('B', 'A', (envelope) => envelopes.push(Buffer.concat([envelope].flat())), limits);
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
