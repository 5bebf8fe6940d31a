// Conventions: membership with several leaders, notifications with replay,
// placement by capability across systems, failure detection (kill -9, a hung
// member), graceful leave, outbound-only members and pre-registration.
import { afterEach, describe, expect, it } from 'vitest';
import { ActorExitRequest, ActorSystem, DeadActorError, NoCompatibleSystemError, type ActorAddress, type ActorSystemClient } from '../dist/index.js';
import { Echo, Greeting } from './fixtures/basic-actors.js';
import { ConventionWatcher, NeedsBlue, NeedsGpu, NeedsUnicorn, Parent, Where } from './fixtures/net/actors.js';
import { DeadLetterCollector } from './fixtures/lifecycle-actors.js';
import { members, shutdownAll, spawnSystem, startSystem, stopAll } from './net-helpers.js';
import { eventually } from './conformance/bases.js';

const FAST = { heartbeatMs: 100, deadAfterMs: 800 };

const clients: ActorSystemClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await shutdownAll();
  await stopAll();
});

async function connect(address: string): Promise<ActorSystemClient> {
  const client = await ActorSystem.connect(address);
  clients.push(client);
  return client;
}

type Update = { address: string; capabilities: Record<string, unknown>; added: boolean };

async function updates(system: ActorSystem | ActorSystemClient, watcher: ActorAddress): Promise<Update[]> {
  return (await system.ask(watcher, 'updates', 5000)) as Update[];
}

describe('placement across systems', () => {
  it('places an actor on the member that has the capability it requires', async () => {
    const leader = await startSystem({ admin: { port: 0 }, convention: FAST });
    const member = await startSystem({ base: 'workers', workers: 2, admin: { port: 0 }, convention: { leader: leader.adminAddress!, ...FAST }, capabilities: { gpu: true } });
    await members(leader, 2);
    const gpu = await leader.createActor(NeedsGpu);
    const reply = (await leader.ask(gpu, 'compute', 5000)) as { kernel: string; mainThread: boolean };
    expect(reply.kernel.startsWith(member.systemId)).toBe(true);
    // The placed actor lives on one of the member's worker threads, behind its main kernel's address.
    expect(reply.mainThread).toBe(false);
    expect(gpu.kernel).toBe(`${member.systemId}:main`);
  });

  it('rejects with NoCompatibleSystemError when no member can host it', async () => {
    const leader = await startSystem({ admin: { port: 0 }, convention: FAST });
    await startSystem({ admin: { port: 0 }, convention: { leader: leader.adminAddress!, ...FAST }, capabilities: { gpu: true } });
    await members(leader, 2);
    await expect(leader.createActor(NeedsUnicorn)).rejects.toBeInstanceOf(NoCompatibleSystemError);
    await expect(leader.createActor(NeedsUnicorn)).rejects.toThrow(/nor by any other system/);
  });

  it('inside an actor: a child placed on another system, its exit reported to the parent; an impossible child exits and its mail is dead letters', async () => {
    const leader = await startSystem({ admin: { port: 0 }, convention: FAST });
    await startSystem({ admin: { port: 0 }, convention: { leader: leader.adminAddress!, ...FAST }, capabilities: { gpu: true } });
    await members(leader, 2);
    const collector = await leader.createActor(DeadLetterCollector);
    await leader.ask(collector, 'start', 5000);
    const parent = await leader.createActor(Parent);
    const child = (await leader.ask(parent, { child: 'NeedsGpu' }, 5000)) as ActorAddress;
    expect(((await leader.ask(child, 'where', 5000)) as { kernel: string }).kernel.startsWith(leader.systemId)).toBe(false);
    await leader.ask(parent, { stop: child }, 5000);
    await eventually(async () => ((await leader.ask(parent, 'exits', 5000)) as string[]).includes(child.id) || undefined);
    const impossible = (await leader.ask(parent, { child: 'NeedsUnicorn', hello: 'are you there?' }, 5000)) as ActorAddress;
    await eventually(async () => ((await leader.ask(parent, 'exits', 5000)) as string[]).includes(impossible.id) || undefined);
    await eventually(async () => {
      const dead = (await leader.ask(collector, 'get', 5000)) as Array<{ to: string; msg: unknown }>;
      return dead.some((d) => d.msg === 'are you there?' && d.to === impossible.id) || undefined;
    });
  });

  it('spreads creates over the least loaded of the members that qualify', async () => {
    const leader = await startSystem({ admin: { port: 0 }, convention: FAST });
    const a = await startSystem({ admin: { port: 0 }, convention: { leader: leader.adminAddress!, ...FAST }, capabilities: { color: 'blue' } });
    const b = await startSystem({ admin: { port: 0 }, convention: { leader: leader.adminAddress!, ...FAST }, capabilities: { color: 'blue' } });
    await members(leader, 3);
    const placed = await Promise.all(Array.from({ length: 10 }, () => leader.createActor(NeedsBlue)));
    const onA = placed.filter((p) => p.kernel.startsWith(a.systemId)).length;
    const onB = placed.filter((p) => p.kernel.startsWith(b.systemId)).length;
    expect(onA + onB).toBe(10);
    expect(Math.abs(onA - onB)).toBeLessThanOrEqual(1);
  });
});

describe('across systems, the actor contract holds', () => {
  it('registered classes stay typed, dead mail is a dead letter where the target lived, and a graceful leave reports children', async () => {
    const leader = await startSystem({ admin: { port: 0 }, convention: FAST });
    const member = await startSystem({ base: 'workers', workers: 1, admin: { port: 0 }, convention: { leader: leader.adminAddress!, ...FAST }, capabilities: { gpu: true } });
    await Promise.all([members(leader, 2), members(member, 2)]);
    // A registered message class, both ways between the systems (Echo's module registers it).
    const echo = await member.createActor(Echo);
    const reply = await leader.ask(echo, new Greeting('across'), 5000);
    expect(reply).toBeInstanceOf(Greeting);
    // Mail to an actor that is gone becomes a dead letter for the handler of its own system.
    const collector = await member.createActor(DeadLetterCollector);
    await member.ask(collector, 'start', 5000);
    const short = await member.createActor(Where);
    member.tell(short, new ActorExitRequest());
    await eventually(async () => (await member.ask(short, 'x', 5000).then(() => undefined, () => true)));
    leader.tell(short, 'to the departed');
    await eventually(async () => ((await member.ask(collector, 'get', 5000)) as Array<{ msg: unknown }>).some((d) => d.msg === 'to the departed') || undefined);
    // The member leaves gracefully: a parent on the leader hears its child exit.
    const parent = await leader.createActor(Parent);
    const child = (await leader.ask(parent, { child: 'NeedsGpu' }, 5000)) as ActorAddress;
    expect(((await leader.ask(child, 'where', 5000)) as { kernel: string }).kernel.startsWith(member.systemId)).toBe(true);
    await member.shutdown();
    await eventually(async () => ((await leader.ask(parent, 'exits', 5000)) as string[]).includes(child.id) || undefined);
  });
});

describe('membership', () => {
  it('notifies a watcher of every member already known, then of joins, capability changes and leaves', async () => {
    const leader = await startSystem({ admin: { port: 0 }, convention: FAST });
    const early = await startSystem({ admin: { port: 0 }, convention: { leader: leader.adminAddress!, ...FAST }, capabilities: { n: 1 } });
    await members(leader, 2);
    const watcher = await leader.createActor(ConventionWatcher);
    await eventually(async () => (await updates(leader, watcher)).length === 1 || undefined);
    expect((await updates(leader, watcher))[0]).toEqual({ address: early.adminAddress, capabilities: { n: 1 }, added: true });
    const late = await startSystem({ admin: { port: 0 }, convention: { leader: leader.adminAddress!, ...FAST }, capabilities: { n: 2 } });
    await eventually(async () => (await updates(leader, watcher)).length === 2 || undefined);
    await late.updateCapability('n', 3);
    await eventually(async () => (await updates(leader, watcher)).length === 3 || undefined);
    await late.shutdown();
    await eventually(async () => (await updates(leader, watcher)).length === 4 || undefined);
    expect((await updates(leader, watcher)).slice(1)).toEqual([
      { address: late.adminAddress, capabilities: { n: 2 }, added: true },
      { address: late.adminAddress, capabilities: { n: 3 }, added: true },
      { address: late.adminAddress, capabilities: { n: 3 }, added: false },
    ]);
    // Members learn of each other through the leader.
    await members(early, 2);
  });

  it('declares a member killed with SIGKILL gone within deadAfterMs, reporting its actors to parents and asks', async () => {
    const leader = await startSystem({ admin: { port: 0 }, convention: FAST });
    const member = await spawnSystem({ admin: { port: 0 }, convention: { leader: leader.adminAddress!, ...FAST }, capabilities: { gpu: true } });
    await members(leader, 2);
    const parent = await leader.createActor(Parent);
    const child = (await leader.ask(parent, { child: 'NeedsGpu' }, 5000)) as ActorAddress;
    expect(((await leader.ask(child, 'where', 5000)) as { pid: number }).pid).toBe(member.pid);
    const gpu = await leader.createActor(NeedsGpu);
    const started = Date.now();
    member.child.kill('SIGKILL');
    await expect(leader.ask(gpu, 'anyone?', 10_000)).rejects.toBeInstanceOf(DeadActorError);
    await members(leader, 1);
    // Seconds, not minutes (a loaded machine stretches the timers a little).
    expect(Date.now() - started).toBeLessThan(FAST.deadAfterMs * 3 + 2000);
    await eventually(async () => ((await leader.ask(parent, 'exits', 5000)) as string[]).includes(child.id) || undefined);
    // Asks to actors of a gone system reject at once.
    await expect(leader.ask(child, 'still there?', 10_000)).rejects.toBeInstanceOf(DeadActorError);
  });

  it('declares a hung member (SIGSTOP) gone, and takes it back when it resumes', async () => {
    const leader = await startSystem({ admin: { port: 0 }, convention: FAST });
    const member = await spawnSystem({ admin: { port: 0 }, convention: { leader: leader.adminAddress!, ...FAST }, capabilities: { gpu: true } });
    await members(leader, 2);
    const before = await leader.createActor(NeedsGpu);
    member.child.kill('SIGSTOP');
    await members(leader, 1);
    await expect(leader.ask(before, 'hung?', 5000)).rejects.toBeInstanceOf(DeadActorError);
    member.child.kill('SIGCONT');
    await members(leader, 2);
    const after = await leader.createActor(NeedsGpu);
    expect(((await leader.ask(after, 'back', 5000)) as { pid: number }).pid).toBe(member.pid);
  });

  it('keeps working, placement included, while one of two leaders is down', async () => {
    const l1 = await spawnSystem({ admin: { port: 0 }, convention: FAST });
    const l2 = await startSystem({ admin: { port: 0 }, convention: FAST });
    const leaders = [l1.adminAddress, l2.adminAddress!];
    const gpu = await startSystem({ admin: { port: 0 }, convention: { leader: leaders, ...FAST }, capabilities: { gpu: true } });
    const plain = await startSystem({ admin: { port: 0 }, convention: { leader: leaders, ...FAST } });
    await members(plain, 4);
    l1.child.kill('SIGKILL');
    await members(plain, 3);
    const placed = await plain.createActor(NeedsGpu);
    expect(((await plain.ask(placed, 'x', 5000)) as { kernel: string }).kernel.startsWith(gpu.systemId)).toBe(true);
    // A member joining now still finds everyone, through the leader that is up.
    const late = await startSystem({ admin: { port: 0 }, convention: { leader: leaders, ...FAST } });
    await members(late, 4);
  });

  it('takes an outbound-only member, which opens no port, and reaches it over the link it opened', async () => {
    const leader = await startSystem({ admin: { port: 0 }, convention: FAST });
    const outbound = await startSystem({ convention: { leader: leader.adminAddress!, ...FAST }, capabilities: { 'Outbound Only': true, gpu: true } });
    expect(outbound.adminAddress).toBeNull();
    await members(leader, 2);
    const status = await leader.status();
    expect(status.convention.map((m) => m.adminAddress)).toContain(`outbound:${outbound.systemId}`);
    const gpu = await leader.createActor(NeedsGpu);
    expect(((await leader.ask(gpu, 'over your link', 5000)) as { kernel: string }).kernel.startsWith(outbound.systemId)).toBe(true);
    // A second member learns of it from the leader; the outbound one dials it.
    const other = await startSystem({ admin: { port: 0 }, convention: { leader: leader.adminAddress!, ...FAST } });
    await members(other, 3);
    const fromOther = await other.createActor(NeedsGpu);
    expect(((await other.ask(fromOther, 'hi', 5000)) as { kernel: string }).kernel.startsWith(outbound.systemId)).toBe(true);
  });

  it('pre-registers a system that was told of no leader (guessed capabilities, then real ones), and deregisters it', async () => {
    const host = await startSystem({ admin: { port: 0 }, convention: FAST });
    const invited = await startSystem({ admin: { port: 0 }, convention: FAST, capabilities: { gpu: true } });
    const watcher = await host.createActor(ConventionWatcher);
    await host.ask(watcher, { preRegister: invited.adminAddress, capabilities: { guessed: true } }, 5000);
    await eventually(async () => (await updates(host, watcher)).length >= 2 || undefined);
    const seen = await updates(host, watcher);
    expect(seen[0]).toEqual({ address: invited.adminAddress, capabilities: { guessed: true }, added: true });
    expect(seen[1]).toEqual({ address: invited.adminAddress, capabilities: { gpu: true }, added: true });
    await members(invited, 2);
    const gpu = await host.createActor(NeedsGpu);
    expect(((await host.ask(gpu, 'x', 5000)) as { kernel: string }).kernel.startsWith(invited.systemId)).toBe(true);
    await host.ask(watcher, { deRegister: invited.adminAddress }, 5000);
    await members(host, 1);
    await eventually(async () => (await updates(host, watcher)).some((u) => !u.added) || undefined);
  });

  it('lets clients of any member reach actors on the others', async () => {
    const leader = await spawnSystem({ admin: { port: 0 }, convention: FAST });
    const member = await spawnSystem({ base: 'workers', workers: 2, admin: { port: 0 }, convention: { leader: leader.adminAddress, ...FAST }, capabilities: { gpu: true } });
    const client = await connect(leader.adminAddress);
    await eventually(async () => (await client.status()).convention.length === 2 || undefined, 10_000);
    const gpu = await client.createActor(NeedsGpu);
    expect(((await client.ask(gpu, 'via the leader', 5000)) as { pid: number }).pid).toBe(member.pid);
    const here = await client.createActor(Where);
    const memberClient = await connect(member.adminAddress);
    expect(((await memberClient.ask(here, 'across', 5000)) as { pid: number }).pid).toBe(leader.pid);
  });
});
