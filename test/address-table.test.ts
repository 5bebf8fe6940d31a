import { describe, expect, it } from 'vitest';
import { ActorAddress } from '../src/address.js';
import { AddressDecoder, AddressEncoder } from '../src/transport/codec/address-table.js';
import { Codec } from '../src/transport/codec/codec.js';

describe('per-link address interning', () => {
  it('sends an address once, then its number, and the receiver hands back one object', () => {
    const out = new AddressEncoder();
    const back = new AddressDecoder();
    const codec = new Codec({}, { sequential: true });
    const peer = new Codec();
    const a = new ActorAddress('k1', 'k1.1');
    const b = new ActorAddress('k2', 'k2.7');
    const refs = [out.ref(a), out.ref(b), out.ref(new ActorAddress('k1', 'k1.1')), out.ref(null)];
    expect(refs.slice(2)).toEqual([0, null]);
    const received = (peer.decode(codec.encode(refs)) as unknown[]).map((r) => back.resolve(r));
    expect(received[0]!.equals(a)).toBe(true);
    expect(received[1]!.equals(b)).toBe(true);
    expect(received[2]).toBe(received[0]);
    expect(received[3]).toBeNull();
  });

  it('answers undefined for a number the peer never defined or a value that is not an address', () => {
    const back = new AddressDecoder();
    expect(back.resolve(0)).toBeUndefined();
    expect(back.resolve('k1.1')).toBeUndefined();
    expect(back.resolve({ kernel: 'k', id: 'k.1' })).toBeUndefined();
  });
});
