import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ActorAddress,
  ActorExitRequest,
  ActorSystem,
  ActorSystemShutdownError,
  DeadActorError,
} from '../../dist/index.js';
import { Echo, Recorder } from '../fixtures/basic-actors.js';
import { DeadLetterCollector, NameUser, Sleeper, Supervisor, Transient, TreeNode } from '../fixtures/lifecycle-actors.js';
import { BASES, baseOf, eventually, startSystem } from './bases.js';

describe.each(BASES)('lifecycle on %s', (base) => {
  let system: ActorSystem;
  beforeAll(async () => {
    ({ system } = await startSystem(base));
  });
  afterAll(() => system.shutdown());

  it('stops a three-level tree children first, then tells the parent', async () => {
    const reporter = await system.createActor(Recorder);
    const supervisor = await system.createActor(Supervisor);
    const root = (await system.ask(supervisor, { child: 'TreeNode' }, 2000)) as ActorAddress;
    // The leaf takes 300 ms over its exit: a parent reported exited before its
    // descendants are gone would be reported while the leaf is still exiting.
    const built = (await system.ask(root, { depth: 3, reporter, leafExitMs: 300 }, 5000)) as { leaf: ActorAddress };
    const mid = (await system.ask(root, 'child', 2000)) as ActorAddress;
    expect(built.leaf).toBeInstanceOf(ActorAddress);

    system.tell(root, new ActorExitRequest());
    const report = (await system.listen(5000)) as { exited: ActorAddress; wasMyChild: boolean };
    expect(report.wasMyChild).toBe(true);
    expect(report.exited.equals(root)).toBe(true);
    // Each saw the request top-down, and the leaf had finished its exit by the
    // time the supervisor was told of the root's.
    expect(await system.ask(reporter, 'get', 2000)).toEqual([{ sawExit: 3 }, { sawExit: 2 }, { sawExit: 1 }, { exitDone: 1 }]);
    for (const dead of [root, mid, built.leaf]) {
      await expect(system.ask(dead, 'x', 5000)).rejects.toBeInstanceOf(DeadActorError);
    }
  });

  it('routes dead letters to the registered handler until it stops', async () => {
    const collector = await system.createActor(DeadLetterCollector);
    const victim = await system.createActor(Echo);
    system.tell(victim, new ActorExitRequest());
    await expect(system.ask(victim, 'probe', 5000)).rejects.toBeInstanceOf(DeadActorError);

    expect(await system.ask(collector, 'start', 2000)).toBe('started');
    system.tell(victim, 'lost-1');
    const seen = await eventually(async () => {
      const list = (await system.ask(collector, 'get', 2000)) as Array<{ to: string; msg: unknown }>;
      return list.some((e) => e.msg === 'lost-1') ? list : undefined;
    });
    expect(seen.find((e) => e.msg === 'lost-1')!.to).toBe(victim.id);

    // With no handler, the message is dropped and counted: exactly one more.
    expect(await system.ask(collector, 'stop', 2000)).toBe('stopped');
    const before = await system.status();
    expect(before.deadLetters.handler).toBeNull();
    system.tell(victim, 'lost-2');
    const dropped = await eventually(async () => {
      const n = (await system.status()).deadLetters.dropped;
      return n > before.deadLetters.dropped ? n : undefined;
    });
    expect(dropped).toBe(before.deadLetters.dropped + 1);
    const after = (await system.ask(collector, 'get', 2000)) as Array<{ msg: unknown }>;
    expect(after.some((e) => e.msg === 'lost-2')).toBe(false);
    expect((await system.status()).deadLetters).toMatchObject({ dropped: before.deadLetters.dropped + 1, delivered: before.deadLetters.delivered });
  });

  it('gives dead letters to the last actor that asked for them', async () => {
    const first = await system.createActor(DeadLetterCollector);
    const second = await system.createActor(DeadLetterCollector);
    const victim = await system.createActor(Echo);
    system.tell(victim, new ActorExitRequest());
    await expect(system.ask(victim, 'probe', 5000)).rejects.toBeInstanceOf(DeadActorError);

    expect(await system.ask(first, 'start', 2000)).toBe('started');
    expect(await system.ask(second, 'start', 2000)).toBe('started');
    expect((await system.status()).deadLetters.handler).toBe(second.id);
    system.tell(victim, 'for-the-last');
    await eventually(async () => ((await system.ask(second, 'get', 2000)) as Array<{ msg: unknown }>).some((e) => e.msg === 'for-the-last') || undefined);
    expect(await system.ask(first, 'get', 2000)).toEqual([]);

    // The first one is not handed the role back when the last one stops.
    expect(await system.ask(second, 'stop', 2000)).toBe('stopped');
    const before = (await system.status()).deadLetters;
    expect(before.handler).toBeNull();
    system.tell(victim, 'for-nobody');
    await eventually(async () => ((await system.status()).deadLetters.dropped > before.dropped ? true : undefined));
    expect(await system.ask(first, 'get', 2000)).toEqual([]);
  });

  it('delivers wake-ups from the actor itself after the delay', async () => {
    const sleeper = await system.createActor(Sleeper);
    system.tell(sleeper, { wake: 80, payload: 'slow' });
    system.tell(sleeper, { wake: 10, payload: 'fast' });
    const first = (await system.listen(3000)) as { woke: string; delayMs: number; elapsed: number; from: string };
    const second = (await system.listen(3000)) as typeof first;
    expect(first.woke).toBe('fast');
    expect(second.woke).toBe('slow');
    expect(second.delayMs).toBe(80);
    expect(second.elapsed).toBeGreaterThanOrEqual(75);
    expect(first.from).toBe(sleeper.id);
  });

  it('gives one actor per global name, from the system and from actors', async () => {
    const first = await system.createActor(Echo, { globalName: 'svc' });
    const second = await system.createActor(Echo, { globalName: 'svc' });
    expect(second.equals(first)).toBe(true);
    const user = await system.createActor(NameUser);
    const fromActor = (await system.ask(user, 'make', 2000)) as ActorAddress;
    expect(fromActor.equals(first)).toBe(true);
    expect(await system.ask(fromActor, 'named', 2000)).toBe('named');
    // The name is free again once its actor is gone; a new actor takes it, and
    // the name's address (stable, like a registered name) now reaches the new one.
    system.tell(first, new ActorExitRequest());
    await expect(system.ask(first, 'gone?', 5000)).rejects.toBeInstanceOf(DeadActorError);
    const third = await system.createActor(Recorder, { globalName: 'svc' });
    expect(third.equals(first)).toBe(true);
    system.tell(third, 'kept');
    expect(await system.ask(first, 'get', 2000)).toEqual(['kept']);
  });

  it('lets a transient actor exit after its idle timeout, not while it is busy', async () => {
    const supervisor = await system.createActor(Supervisor);
    const transient = (await system.ask(supervisor, { child: 'Transient' }, 2000)) as ActorAddress;
    const started = Date.now();
    // Keep it active for longer than its idle timeout.
    while (Date.now() - started < 400) {
      expect(await system.ask(transient, 'ping', 2000)).toBe('pong');
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    const report = (await system.listen(5000)) as { exited: ActorAddress };
    expect(report.exited.equals(transient)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400 + Transient.idleTimeoutMs - 50);
  });

  it('reports actors in status', async () => {
    const before = await system.status();
    await system.createActor(Echo);
    const after = await system.status();
    expect(after.base).toBe(baseOf(base));
    expect(after.actors).toBe(before.actors + 1);
    expect(after.kernels.length).toBeGreaterThanOrEqual(1);
  });
});

describe.each(BASES)('shutdown on %s', (base) => {
  it('stops every actor children first, rejects later use, and is idempotent', async () => {
    const { system } = await startSystem(base);
    const reporter = await system.createActor(Recorder);
    const root = await system.createActor(TreeNode);
    await system.ask(root, { depth: 3, reporter }, 5000);
    const pendingListen = expect(system.listen()).rejects.toBeInstanceOf(ActorSystemShutdownError);
    await Promise.all([system.shutdown(), system.shutdown()]);
    await system.shutdown();
    await pendingListen;
    expect(() => system.tell(root, 'x')).toThrow(ActorSystemShutdownError);
    await expect(system.createActor(Echo)).rejects.toBeInstanceOf(ActorSystemShutdownError);
  });
});
