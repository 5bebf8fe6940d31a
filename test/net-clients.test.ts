// Clients: ActorSystem.connect to a running system, in this process or
// another: tell / ask / listen / private, createActor, status,
// updateCapability, global names by text, registered message classes, close
// (disconnect only) and shutdown (stops that system).
import { afterEach, describe, expect, it } from 'vitest';
import { ActorAddress, ActorSystem, ActorSystemShutdownError, DeadActorError, SystemConnectionError, type ActorSystemClient } from '../dist/index.js';
import { Echo, Greeting, Recorder, Replier } from './fixtures/basic-actors.js';
import { DeadLetterCollector } from './fixtures/lifecycle-actors.js';
import { NeedsGpu, Where } from './fixtures/net/actors.js';
import { shutdownAll, spawnSystem, startSystem, stopAll } from './net-helpers.js';
import { eventually } from './conformance/bases.js';

const clients: ActorSystemClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await shutdownAll();
  await stopAll();
});

async function connect(address: string, secret?: string): Promise<ActorSystemClient> {
  const client = await ActorSystem.connect(address, { secret });
  clients.push(client);
  return client;
}

describe('a client of a system in another process', () => {
  it('creates actors there, asks and tells them, and listens for replies on its own endpoints', async () => {
    const remote = await spawnSystem({ base: 'workers', workers: 2, admin: { port: 0 } });
    const client = await connect(remote.adminAddress);
    expect(client.systemId).toBe(remote.systemId);
    const where = await client.createActor(Where);
    expect(await client.ask(where, 'hi', 5000)).toMatchObject({ message: 'hi', pid: remote.pid });
    const replier = await client.createActor(Replier);
    expect(await client.ask(replier, { replies: 3 }, 5000)).toEqual({ seq: 0 });
    expect(await client.listen(5000)).toEqual({ seq: 1 });
    expect(await client.listen(5000)).toEqual({ seq: 2 });
    const mine = client.private();
    mine.tell(where, 'private');
    expect(await mine.listen(5000)).toMatchObject({ message: 'private' });
    // By "<module>#<Export>", resolvable on that system.
    const byText = await client.createActor(`${new URL('./fixtures/net/actors.js', import.meta.url).href}#Where`);
    expect(await client.ask(byText, 2, 5000)).toMatchObject({ message: 2 });
  });

  it('reads the system’s status, changes its capabilities, and reaches a global name by its text', async () => {
    const remote = await spawnSystem({ admin: { port: 0 }, capabilities: { gpu: false } });
    const client = await connect(remote.adminAddress);
    await expect(client.createActor(NeedsGpu)).rejects.toThrow(/NoCompatible|not met/);
    await client.updateCapability('gpu', true);
    const gpu = await client.createActor(NeedsGpu);
    expect(await client.ask(gpu, 'now', 5000)).toMatchObject({ message: 'now' });
    await client.createActor(Where, { globalName: 'clock' });
    expect(await client.ask(ActorAddress.parse('name:clock'), 'tick', 5000)).toMatchObject({ message: 'tick' });
    const status = await client.status();
    expect(status.systemId).toBe(remote.systemId);
    expect(status.pid).toBe(remote.pid);
    expect(status.actors).toBeGreaterThanOrEqual(2);
    expect(status.capabilities).toEqual({ gpu: true });
    expect(status.clients).toBe(1);
  });

  it('keeps registered message classes typed across the client link', async () => {
    const system = await startSystem({ base: 'workers', workers: 1, admin: { port: 0 } });
    const client = await connect(system.adminAddress!);
    // Echo's module registers Greeting, so its worker thread knows the class too.
    const echo = await client.createActor(Echo);
    const reply = await client.ask(echo, new Greeting('hello'), 5000);
    expect(reply).toBeInstanceOf(Greeting);
    expect(reply).toEqual(new Greeting('hello'));
  });

  it('rejects an ask to an actor whose process died with DeadActorError', async () => {
    const remote = await spawnSystem({ base: 'processes', admin: { port: 0 } });
    const client = await connect(remote.adminAddress);
    const where = await client.createActor(Where);
    const { pid } = (await client.ask(where, 'pid', 5000)) as { pid: number };
    process.kill(pid, 'SIGKILL');
    await expect(client.ask(where, 'still?', 10_000)).rejects.toBeInstanceOf(DeadActorError);
  });

  it('shutdown() stops that system; close() only disconnects', async () => {
    const remote = await spawnSystem({ admin: { port: 0 } });
    const first = await connect(remote.adminAddress);
    const where = await first.createActor(Where);
    await first.close();
    expect(() => first.tell(where, 'after close')).toThrow(ActorSystemShutdownError);
    const second = await connect(remote.adminAddress);
    expect(await second.ask(where, 'still running', 5000)).toMatchObject({ message: 'still running' });
    await second.shutdown();
    expect(await remote.exited).toBe(0);
    await expect(ActorSystem.connect(remote.adminAddress, { connectTimeoutMs: 2000 })).rejects.toBeInstanceOf(SystemConnectionError);
  });
});

describe('a client that goes away', () => {
  it('turns mail for its endpoints into dead letters', async () => {
    const system = await startSystem({ admin: { port: 0 } });
    const collector = await system.createActor(DeadLetterCollector);
    await system.ask(collector, 'start', 5000);
    const client = await connect(system.adminAddress!);
    const endpoint = client.address;
    await client.close();
    await eventually(async () => (await system.status()).clients === 0 || undefined);
    system.tell(endpoint, 'for a client that left');
    await eventually(async () => {
      const dead = (await system.ask(collector, 'get', 5000)) as Array<{ to: string; msg: unknown }>;
      return dead.some((d) => d.to === endpoint.id && d.msg === 'for a client that left') || undefined;
    });
  });

  it('rejects its pending asks with SystemConnectionError when the system dies', async () => {
    const remote = await spawnSystem({ admin: { port: 0 } });
    const client = await connect(remote.adminAddress);
    const recorder = await client.createActor(Recorder);
    const pending = client.ask(recorder, 'never answered', 30_000).catch((error: unknown) => error);
    remote.child.kill('SIGKILL');
    expect(await pending).toBeInstanceOf(SystemConnectionError);
    expect(() => client.tell(recorder, 'after')).toThrow(SystemConnectionError);
  });
});
