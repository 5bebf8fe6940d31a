// Sources across systems and kernels: a system asked to create from a source
// it lacks fetches it from the requesting system (in this process, and in a
// child process), validates it with its own authority if it has one, and
// honours AllowRemoteActorSources; a peer that answers a fetch with bytes of
// another hash is refused. Clients load, create from and unload sources; a
// remote host runs a source's actor through the same loader hook.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ActorAddress, ActorSystem, InvalidActorSpecError, InvalidSourceError, type ActorSystemClient, type ActorSystemOptions } from '../dist/index.js';
import { AdminRequest } from '../dist/core/admin-request.js';
import { Created, FrameKind, type Frame } from '../dist/core/protocol.js';
import { framed } from '../dist/net/handshake.js';
import { WIRE_FORMAT, encodeHello } from '../dist/net/wire.js';
import { readSource } from '../dist/sources/bundle/archives.js';
import { SourceOpened } from '../dist/sources/protocol.js';
import { Channel } from '../dist/transport/channel.js';
import { openEnvelope } from '../dist/transport/envelope.js';
import { createFramer } from '../dist/transport/framing.js';
import { eventually } from './conformance/bases.js';
import { members, shutdownAll, spawnSystem, startSystem, stopAll } from './net-helpers.js';
import { removeTempDirs, zipBytes } from './sources-helpers.js';
import { joinRecord } from '../src/transport/record-writes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/sources/', import.meta.url));
const AUTHORITIES = `${FIXTURES}authorities.js`;
const FAST = { heartbeatMs: 100, deadAfterMs: 1500 };
const SOURCES = { packagesFrom: ROOT };

const clients: ActorSystemClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await shutdownAll();
  await stopAll();
  removeTempDirs();
});

/** A leader holding the gpu source, validated by its authority. */
async function leaderWithSource(logs?: string[]): Promise<{ leader: ActorSystem; hash: string }> {
  const leader = await startSystem({ admin: { port: 0 }, convention: FAST, sources: SOURCES }, logs);
  await leader.createActor(`${AUTHORITIES}#AcceptAll`);
  return { leader, hash: await leader.loadActorSource(`${FIXTURES}gpu`) };
}

async function member(leader: ActorSystem, options: ActorSystemOptions, logs?: string[]): Promise<ActorSystem> {
  return startSystem({ admin: { port: 0 }, convention: { leader: leader.adminAddress!, ...FAST }, sources: SOURCES, ...options }, logs);
}

interface Where {
  kernel: string;
  pid: number;
  mainThread: boolean;
  module: string;
}

describe('creating on another system from a source it lacks', () => {
  it('fetches the source from the requester (validated there), runs the actor, and creates its children from it there', async () => {
    const { leader, hash } = await leaderWithSource();
    const logs: string[] = [];
    const gpu = await member(leader, { base: 'workers', workers: 2, capabilities: { gpu: true } }, logs);
    await members(leader, 2);
    // Its static requirements (loaded where the system runs) place it.
    const trainer = await leader.createActor('trainer.js#Trainer', { sourceHash: hash });
    expect(trainer.kernel).toBe(`${gpu.systemId}:main`);
    const where = (await leader.ask(trainer, 'where', 10_000)) as Where;
    expect(where.kernel.startsWith(gpu.systemId)).toBe(true);
    expect(where.mainThread).toBe(false);
    expect(where.module).toBe(`thespis-mod://src/${hash}/trainer.js`);
    expect(await leader.ask(trainer, 'helper', 10_000)).toEqual({ helper: expect.stringMatching(new RegExp(`^${gpu.systemId}:`)) });
    expect((await gpu.status()).sources).toEqual([expect.objectContaining({ hash, state: 'loaded', info: `fetched from ${leader.adminAddress}` })]);
  });

  it('keeps an actor’s messages to a child placed on another system in order while its source is fetched', async () => {
    const { leader, hash } = await leaderWithSource();
    // On worker threads: the messages held on the system's thread must follow the create there.
    await member(leader, { base: 'workers', workers: 2, capabilities: { gpu: true } });
    await members(leader, 2);
    const spawner = await leader.createActor(`${AUTHORITIES}#Spawner`);
    expect(await leader.ask(spawner, { spawn: 'trainer.js#Trainer', sourceHash: hash, requirements: { gpu: true }, count: 200 }, 5000)).toBe('spawned');
    expect(await leader.ask(spawner, 'report', 10_000)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('validates a fetched source with its own authority when it has one', async () => {
    const { leader, hash } = await leaderWithSource();
    const gpu = await member(leader, { capabilities: { gpu: true } });
    await members(leader, 2);
    const own = await gpu.createActor(`${AUTHORITIES}#AcceptAll`);
    await leader.createActor('trainer.js#Trainer', { sourceHash: hash });
    expect(await gpu.ask(own, 'asked', 5000)).toEqual([expect.objectContaining({ hash, info: `fetched from ${leader.adminAddress}` })]);

    const { leader: second, hash: again } = await leaderWithSource();
    const strict = await member(second, { capabilities: { gpu: true } });
    await members(second, 2);
    await strict.createActor(`${AUTHORITIES}#RejectAll`);
    const error = await second.createActor('trainer.js#Trainer', { sourceHash: again }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidActorSpecError);
    expect((error as Error).message).toMatch(/was rejected by the source authority \(not today\)/);
  });

  it('honours AllowRemoteActorSources: no refuses, leaderOnly takes sources from its leaders only', async () => {
    const logs: string[] = [];
    const { leader, hash } = await leaderWithSource();
    const closed = await member(leader, { capabilities: { gpu: true, AllowRemoteActorSources: 'no' } }, logs);
    await members(leader, 2);
    await expect(leader.createActor('trainer.js#Trainer', { sourceHash: hash })).rejects.toThrow(/takes no sources from others \(AllowRemoteActorSources: no\)/);
    expect(logs.some((l) => l.startsWith(`warn a create from system ${leader.systemId} was refused`))).toBe(true);
    await closed.updateCapability('AllowRemoteActorSources', 'leaderOnly');
    await eventually(async () => ((await leader.status()).convention.some((m) => m.capabilities.AllowRemoteActorSources === 'leaderOnly') ? true : undefined));
    // From its leader: taken.
    const trainer = await leader.createActor('trainer.js#Trainer', { sourceHash: hash });
    expect(((await leader.ask(trainer, 'where', 10_000)) as Where).kernel.startsWith(closed.systemId)).toBe(true);
    // From another member, which is not its leader: refused.
    const peer = await member(leader, {});
    await members(leader, 3);
    await members(peer, 3);
    await peer.createActor(`${AUTHORITIES}#AcceptAll`);
    const other = await peer.loadActorSource(await zipBytes({ 'trainer.js': "import { Actor } from 'thespis';\nexport class Trainer extends Actor { static requirements = { gpu: true }; receiveMessage() {} }\n" }));
    await expect(peer.createActor('trainer.js#Trainer', { sourceHash: other })).rejects.toThrow(/AllowRemoteActorSources is leaderOnly: system .* is not a leader of its convention/);
  });

  it('fetches from a requester in another process, and runs the actor in that process', async () => {
    const { leader, hash } = await leaderWithSource();
    const child = await spawnSystem({ admin: { port: 0 }, convention: { leader: leader.adminAddress!, ...FAST }, capabilities: { gpu: true }, sources: SOURCES });
    await members(leader, 2);
    const trainer = await leader.createActor('trainer.js#Trainer', { sourceHash: hash });
    const where = (await leader.ask(trainer, 'where', 10_000)) as Where;
    expect(where.pid).toBe(child.pid);
    expect(where.pid).not.toBe(process.pid);
    const status = (await child.command({ op: 'status' })).status as { sources: Array<{ hash: string; info: string }> };
    expect(status.sources).toEqual([expect.objectContaining({ hash, info: `fetched from ${leader.adminAddress}` })]);
  });
});

/**
 * A hand-made peer system on `target`'s admin port: frames it sends go
 * through a channel of its own; frames it gets are collected, and each one
 * is shown to `answer` (which may send more).
 */
async function handMadePeer(target: ActorSystem, answer: (frame: Frame, peer: { send(frame: Frame): void }) => void = () => undefined) {
  const peerId = randomBytes(4).toString('hex');
  const main = `${peerId}:main`;
  const targetMain = `${target.systemId}:main`;
  const colon = target.adminAddress!.lastIndexOf(':');
  const socket: Socket = connect(Number(target.adminAddress!.slice(colon + 1)), target.adminAddress!.slice(0, colon));
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(framed(encodeHello({ kind: 'system', wire: WIRE_FORMAT, systemId: peerId, adminAddress: null, capabilities: {}, received: 0, generation: 0 })));
  const channel = new Channel(targetMain, main, (envelope) => socket.write(framed(joinRecord(envelope))));
  const send = (frame: Frame): void => {
    channel.send(frame);
    channel.flush();
  };
  const framer = createFramer(64 * 1024 * 1024);
  const received: unknown[] = [];
  let greeted = false;
  socket.on('data', (chunk: Buffer) => {
    for (const record of framer.push(chunk)) {
      if (!greeted) {
        greeted = true;
        continue;
      }
      const envelope = record[0] === 0 ? null : openEnvelope(record);
      if (envelope === null) continue;
      for (const frame of channel.receive(envelope.payload, [], true)) {
        if (frame[0] === FrameKind.Message) received.push(frame[3]);
        answer(frame, { send });
      }
    }
  });
  await eventually(() => (greeted ? true : undefined));
  return { peerId, main, targetMain, socket, send, received, address: (n: number) => new ActorAddress(main, `${main}.${n}`) };
}

describe('fetches between hand-made peers and a system', () => {
  it('a fetch answered with bytes of another hash is refused with a log line, and the create fails back to the requester', async () => {
    const logs: string[] = [];
    const target = await startSystem({ admin: { port: 0 }, sources: SOURCES }, logs);
    const billing = await readSource(`${FIXTURES}billing`);
    const other = await readSource(`${FIXTURES}other`);
    // It sends a create from the billing source, and answers the fetch that follows with the other source's bytes.
    const peer = await handMadePeer(target, (frame, { send }) => {
      const body = frame[0] === FrameKind.Message ? frame[3] : undefined;
      if (body instanceof AdminRequest && body.request.op === 'sourceOpen') send([FrameKind.Message, body.request.reply, null, new SourceOpened(billing.hash, undefined, other.bytes)]);
    });
    const address = new ActorAddress(peer.targetMain, `${peer.main}.7`);
    peer.send([FrameKind.Create, { address, parent: peer.address(1), ack: peer.address(2), spec: { module: `thespis-mod://src/${billing.hash}/billing.js`, exportName: 'Biller', sourceHash: billing.hash } }]);
    const created = await eventually(() => peer.received.find((b): b is Created => b instanceof Created));
    expect(created.error).toMatch(/sent bytes of another hash \([0-9a-f]{64}\); refused/);
    expect(created.errorName).toBe('InvalidActorSpecError');
    expect(logs.some((l) => l.startsWith(`error system outbound:${peer.peerId} answered a fetch of source ${billing.hash} with bytes whose hash is ${other.hash}; refused`))).toBe(true);
    expect((await target.status()).sources).toEqual([]);
    peer.socket.destroy();
  });

  it('a system serves a loaded source to a peer that asks for itself, and to nobody else', async () => {
    const logs: string[] = [];
    const target = await startSystem({ admin: { port: 0 }, sources: SOURCES }, logs);
    await target.createActor(`${AUTHORITIES}#AcceptAll`);
    const hash = await target.loadActorSource(`${FIXTURES}billing`);
    const peer = await handMadePeer(target);
    const admin = new ActorAddress(peer.targetMain, `${peer.targetMain}.admin`);
    peer.send([FrameKind.Message, admin, peer.address(3), new AdminRequest({ op: 'sourceOpen', hash, withBytes: true, reply: peer.address(3) })]);
    const opened = await eventually(() => peer.received.find((b): b is SourceOpened => b instanceof SourceOpened));
    expect(opened.error).toBeUndefined();
    expect((await readSource(opened.bytes!)).hash).toBe(hash);
    // An answer for a third system's endpoint is not sent.
    const third = new ActorAddress('0badc0de:main', '0badc0de:main.1');
    peer.send([FrameKind.Message, admin, peer.address(4), new AdminRequest({ op: 'sourceOpen', hash, withBytes: true, reply: third })]);
    await eventually(() => logs.find((l) => l.includes('a source fetch for 0badc0de:main from') && l.includes('another system; dropped')));
    // Other admin requests stay refused to other systems.
    peer.send([FrameKind.Message, admin, peer.address(5), new AdminRequest({ op: 'sourceUnload', hash, reply: peer.address(5) })]);
    await eventually(() => logs.find((l) => l.includes('an admin request (sourceUnload) from another system')));
    expect((await target.status()).sources).toEqual([expect.objectContaining({ hash, state: 'loaded' })]);
    peer.socket.destroy();
  });
});

describe('clients and remote hosts', () => {
  it('a client loads a source from its own machine, creates from it, lists and unloads it', async () => {
    const system = await startSystem({ base: 'workers', workers: 1, admin: { port: 0 }, sources: SOURCES });
    await system.createActor(`${AUTHORITIES}#AcceptAll`);
    const client = await ActorSystem.connect(system.adminAddress!);
    clients.push(client);
    const hash = await client.loadActorSource(`${FIXTURES}billing`);
    expect(hash).toBe((await readSource(`${FIXTURES}billing`)).hash);
    const biller = await client.createActor('billing.js#Biller', { sourceHash: hash });
    expect(await client.ask(biller, { bill: 50 }, 10_000)).toMatchObject({ total: 100 });
    expect((await client.status()).sources).toEqual([expect.objectContaining({ hash, state: 'loaded' })]);
    expect(await client.unloadActorSource(hash)).toBe(true);
    await expect(client.createActor('billing.js#Biller', { sourceHash: hash })).rejects.toThrow(/was unloaded/);
    await expect(client.loadActorSource(new TextEncoder().encode('PK\u0003\u0004 broken'))).rejects.toBeInstanceOf(InvalidSourceError);
    await expect(client.loadActorSource(`${FIXTURES}nowhere`)).rejects.toThrow(/no such file/);
  });

  it('a remote host runs a source’s actor: its modules, thespis and the system’s packages reach it through the loader hook', async () => {
    const system = await startSystem({ sources: SOURCES });
    await system.createActor(`${AUTHORITIES}#AcceptAll`);
    const hash = await system.loadActorSource(`${FIXTURES}billing`);
    const host = await system.connectHost({ method: 'local', serve: [ROOT] });
    const biller = await system.createActor('billing.js#Biller', { sourceHash: hash, host });
    const bill = (await system.ask(biller, { bill: 8 }, 15_000)) as { total: number; pid: number; isActor: boolean; roundTrip: boolean };
    expect(bill).toMatchObject({ total: 16, isActor: true, roundTrip: true, plan: 'standard' });
    expect(bill.pid).toBe(host.pid);
    expect(await system.ask(biller, 'child', 10_000)).toEqual({ fromChild: 'billing child', module: `thespis-mod://src/${hash}/lib/child.js` });
    await host.close();
  });
});
