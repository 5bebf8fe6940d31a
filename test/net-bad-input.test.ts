// Bytes from the network are untrusted: garbage, a wrong TLS key, a huge
// declared length, a CBOR bomb, frames for kernels that do not exist or in
// the name of a third system. Each closes that connection only (or drops that
// frame), says why in the log, and the system keeps serving everyone else.
// The decoders themselves are property-tested with arbitrary bytes.
import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ActorAddress, ActorSystem, CodecError, type ActorSystem as System } from '../dist/index.js';
import { FrameKind } from '../dist/core/protocol.js';
import { framed } from '../dist/net/handshake.js';
import { clientTlsOptions, derivePsk } from '../dist/net/secret.js';
import { WIRE_FORMAT, decodeHello, encodeHello } from '../dist/net/wire.js';
import { Channel } from '../dist/transport/channel.js';
import { openEnvelope } from '../dist/transport/envelope.js';
import { createFramer } from '../dist/transport/framing.js';
import { Counter, Where } from './fixtures/net/actors.js';
import { shutdownAll, startSystem, eventually } from './net-helpers.js';
import { joinRecord } from '../src/transport/record-writes.js';


afterEach(() => shutdownAll());

function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/** Resolves once the server closes the socket. */
function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    socket.once('close', () => resolve());
    socket.on('error', () => undefined);
  });
}

async function raw(address: string, bytes: Uint8Array): Promise<Socket> {
  const { host, port } = hostPort(address);
  const socket = connect(port, host);
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(bytes);
  return socket;
}

/** The first length-prefixed record the far end sends on `socket`, as a hello. */
function firstHello(socket: Socket): Promise<ReturnType<typeof decodeHello>> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) resolve(decodeHello(got.subarray(4, 4 + got.readUInt32BE(0))));
    });
    socket.once('close', () => reject(new Error('closed before a whole record')));
  });
}

/** A system that still serves: a new client can ask an actor. */
async function stillServes(system: System): Promise<void> {
  const where = await system.createActor(Where);
  const client = await ActorSystem.connect(system.adminAddress!);
  try {
    expect(await client.ask(where, 'ok?', 5000)).toMatchObject({ message: 'ok?' });
  } finally {
    await client.close();
  }
}

/**
 * A hand-made peer system: says a system hello, then sends whatever records
 * a test gives it (envelopes sealed by its own channel to the target kernel).
 */
async function rawPeer(address: string, systemId = randomBytes(4).toString('hex')): Promise<{ socket: Socket; systemId: string; send(record: Uint8Array): void }> {
  const socket = await raw(address, framed(encodeHello({ kind: 'system', wire: WIRE_FORMAT, systemId, adminAddress: null, capabilities: {}, received: 0, generation: 0 })));
  await new Promise((resolve) => socket.once('data', resolve));
  return { socket, systemId, send: (record) => socket.write(framed(record)) };
}

describe('bad input on the admin port', () => {
  it('closes a connection that sends garbage, and logs why', async () => {
    const logs: string[] = [];
    const system = await startSystem({ admin: { port: 0 } }, logs);
    const socket = await raw(system.adminAddress!, new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await closed(socket);
    await eventually(() => logs.find((l) => l.includes('closed a connection from')) ?? undefined);
    await stillServes(system);
  });

  it('closes a connection whose first record declares a huge length, before buffering it', async () => {
    const logs: string[] = [];
    const system = await startSystem({ admin: { port: 0 } }, logs);
    const header = new Uint8Array([0x7f, 0xff, 0xff, 0xff]);
    const socket = await raw(system.adminAddress!, header);
    await closed(socket);
    expect(logs.some((l) => l.includes('declares 2147483647 bytes'))).toBe(true);
    await stillServes(system);
  });

  it('closes a connection that sends a CBOR bomb as its hello', async () => {
    const logs: string[] = [];
    const system = await startSystem({ admin: { port: 0 } }, logs);
    // 10,000 nested arrays, and an array that claims 2^32 elements.
    const nested = new Uint8Array(10_000).fill(0x81);
    const claims = new Uint8Array([0x9a, 0xff, 0xff, 0xff, 0xff]);
    const sockets = await Promise.all([raw(system.adminAddress!, framed(nested)), raw(system.adminAddress!, framed(claims))]);
    await Promise.all(sockets.map(closed));
    await eventually(() => (logs.filter((l) => l.includes('closed a connection from')).length >= 2) || undefined);
    expect(logs.some((l) => /depth|nest/i.test(l))).toBe(true);
    await stillServes(system);
  });

  it('closes a TLS client with the wrong key during the handshake, and logs that it lacks the secret', async () => {
    const logs: string[] = [];
    const system = await startSystem({ admin: { port: 0 }, secret: 'the right secret!' }, logs);
    const { host, port } = hostPort(system.adminAddress!);
    const socket = tlsConnect({ host, port, ...clientTlsOptions(derivePsk('a wrong secret!!')) });
    const failed = await new Promise<Error>((resolve) => socket.once('error', resolve));
    expect(failed.message).toMatch(/alert|SSL/i);
    await eventually(() => logs.find((l) => l.includes('does not hold the convention secret')) ?? undefined);
    // A plain-text client is refused too, before any frame is read.
    const plain = await raw(system.adminAddress!, framed(encodeHello({ kind: 'client', wire: WIRE_FORMAT })));
    await closed(plain);
    await expect(ActorSystem.connect(system.adminAddress!, { secret: 'a wrong secret!!', connectTimeoutMs: 3000 })).rejects.toThrow(/secret does not match/);
    const client = await ActorSystem.connect(system.adminAddress!, { secret: 'the right secret!' });
    const where = await client.createActor(Where);
    expect(await client.ask(where, 1, 5000)).toMatchObject({ message: 1 });
    await client.close();
  });

  it('drops a frame for a kernel that does not exist and one claiming a third system, keeping the link', async () => {
    const logs: string[] = [];
    const system = await startSystem({ admin: { port: 0 } }, logs);
    const counter = await system.createActor(Counter);
    const peer = await rawPeer(system.adminAddress!);
    const main = `${system.systemId}:main`;
    const channel = new Channel(main, `${peer.systemId}:main`, (envelope) => peer.send(joinRecord(envelope)));
    const sender = new ActorAddress(`${peer.systemId}:main`, `${peer.systemId}:main.1`);
    // For a process kernel that was never there.
    const ghost = new Channel(`${system.systemId}:p0000dead`, `${peer.systemId}:main`, (envelope) => peer.send(joinRecord(envelope)));
    ghost.send([FrameKind.Message, new ActorAddress(`${system.systemId}:p0000dead`, 'x.1'), sender, { seq: 0 }]);
    ghost.flush();
    // In the name of an actor of a third system.
    const stranger = new ActorAddress('0badc0de:main', '0badc0de:main.9');
    channel.send([FrameKind.Message, counter, stranger, { seq: 0 }]);
    channel.flush();
    // And a good one after both: the link is still up.
    channel.send([FrameKind.Message, counter, sender, { seq: 0 }]);
    channel.flush();
    await eventually(async () => ((await system.ask(counter, 'count', 5000)) as { count: number }).count === 1 || undefined);
    expect(logs.some((l) => l.includes('p0000dead, which does not exist'))).toBe(true);
    expect(logs.some((l) => l.includes('in the name of 0badc0de:main.9'))).toBe(true);
    expect(peer.socket.destroyed).toBe(false);
    peer.socket.destroy();
  });

  it('drops an envelope whose source is a kernel of another system than the peer', async () => {
    const logs: string[] = [];
    const system = await startSystem({ admin: { port: 0 } }, logs);
    const counter = await system.createActor(Counter);
    const peer = await rawPeer(system.adminAddress!);
    const spoof = new Channel(`${system.systemId}:main`, '0badc0de:main', (envelope) => peer.send(joinRecord(envelope)));
    spoof.send([FrameKind.Message, counter, null, { seq: 0 }]);
    spoof.flush();
    await eventually(() => logs.find((l) => l.includes('claiming to come from 0badc0de:main')) ?? undefined);
    expect(((await system.ask(counter, 'count', 5000)) as { count: number }).count).toBe(0);
    peer.socket.destroy();
  });
});

describe('wire formats', () => {
  it('a system refuses a system or a client of another wire format, saying why, and serves on', async () => {
    const logs: string[] = [];
    const system = await startSystem({ admin: { port: 0 } }, logs);
    const older = { kind: 'system' as const, systemId: '01d', adminAddress: null, capabilities: {}, received: 0, generation: 0 };
    // Format 1 never said its format: a hello without `wire` is of format 1.
    for (const [hello, format] of [[{ ...older, wire: 1 }, 1], [older, 1], [{ kind: 'client' as const, wire: WIRE_FORMAT + 1 }, WIRE_FORMAT + 1]] as const) {
      const socket = await raw(system.adminAddress!, framed(encodeHello(hello as Parameters<typeof encodeHello>[0])));
      const answer = await firstHello(socket);
      expect(answer).toMatchObject({ kind: 'refused', reason: expect.stringContaining(`wire format ${format} and this side ${WIRE_FORMAT}`) });
      await closed(socket);
    }
    expect(logs.filter((l) => /refused a connection from .*wire format/.test(l))).toHaveLength(3);
    await stillServes(system);
  });

  it('a client and a joining system give up on a side that answers in another wire format', async () => {
    // An older system: it answers every hello in format 1 (no `wire`), and takes no messages.
    const accepted = new Set<Socket>();
    const old = createServer((socket) => {
      accepted.add(socket);
      socket.on('error', () => undefined);
      firstHello(socket).then((hello) => {
        const answer = hello.kind === 'client'
          ? { kind: 'welcome', systemId: '01d', clientKernel: '01d:c1', adminAddress: null, capabilities: {} }
          : { kind: 'system', systemId: '01d', adminAddress: null, capabilities: {}, received: 0, generation: 0 };
        socket.write(framed(encodeHello(answer as Parameters<typeof encodeHello>[0])));
      }, () => undefined);
    });
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(old.address() as AddressInfo).port}`;
    try {
      await expect(ActorSystem.connect(address, { connectTimeoutMs: 3000 })).rejects.toThrow(`wire format 1 and this side ${WIRE_FORMAT}`);
      const logs: string[] = [];
      await startSystem({ admin: { port: 0 }, convention: { leader: address } }, logs);
      await eventually(() => logs.find((l) => l.includes(`to join the convention: it speaks wire format 1 and this side ${WIRE_FORMAT}`)));
    } finally {
      old.close();
      for (const socket of accepted) socket.destroy();
    }
  });
});

describe('the link decoders, on arbitrary bytes', () => {
  it('decodeHello accepts only well-formed hellos and fails any other input with CodecError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          const hello = decodeHello(bytes);
          expect(['system', 'client', 'welcome', 'refused']).toContain(hello.kind);
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a hello survives the round trip', () => {
    fc.assert(
      fc.property(
        fc.record({
          systemId: fc.stringMatching(/^[0-9a-f]{1,16}$/),
          wire: fc.nat(),
          adminAddress: fc.option(fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `${h}:${p}`), { nil: null }),
          received: fc.nat(),
          generation: fc.nat(),
          capabilities: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.boolean(), fc.integer(), fc.string({ maxLength: 8 }))),
        }),
        (fields) => {
          const hello = { kind: 'system' as const, ...fields };
          expect(decodeHello(encodeHello(hello))).toEqual(hello);
        },
      ),
    );
  });

  it('the framer and a channel fail arbitrary bytes with CodecError, never anything else', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
        const framer = createFramer(4096);
        const channel = new Channel('a:main', 'b:main', () => undefined);
        try {
          for (const chunk of chunks) {
            for (const record of framer.push(chunk)) {
              const envelope = openEnvelope(record);
              if (envelope !== null) channel.receive(envelope.payload, [], true);
            }
          }
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
