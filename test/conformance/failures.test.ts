import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ActorAddress,
  ActorCreationError,
  ActorSystem,
  DeadActorError,
  PoisonError,
  PoisonMessage,
} from '../../dist/index.js';
import { Echo, Exiter, FlakyOnce, PoisonProbe, Thrower } from '../fixtures/basic-actors.js';
import { FailingConstructor, Supervisor } from '../fixtures/lifecycle-actors.js';
import { BASES, startSystem } from './bases.js';

describe.each(BASES)('failures on %s', (base) => {
  let system: ActorSystem;
  let logs: string[];
  beforeAll(async () => {
    ({ system, logs } = await startSystem(base));
  });
  afterAll(() => system.shutdown());

  it('retries a message once after a throw', async () => {
    const flaky = await system.createActor(FlakyOnce);
    expect(await system.ask(flaky, 'a', 2000)).toEqual({ handled: 'a', attempts: 2 });
    expect(await system.ask(flaky, 'b', 2000)).toEqual({ handled: 'b', attempts: 4 });
  });

  it('rejects an ask with PoisonError after two throws, and the actor keeps its state', async () => {
    const thrower = await system.createActor(Thrower);
    const error = await system.ask(thrower, 'boom', 2000).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PoisonError);
    const poison = (error as PoisonError).poison as PoisonMessage;
    expect(poison).toBeInstanceOf(PoisonMessage);
    expect(poison.poisonMessage).toBe('boom');
    expect(poison.details).toContain('boom #2');
    // Two attempts were counted, and the actor still answers.
    expect(await system.ask(thrower, 'count', 2000)).toBe(2);
    expect(logs.some((line) => line.includes('threw twice'))).toBe(true);
  });

  it('treats a rejected promise like a throw', async () => {
    const thrower = await system.createActor(Thrower);
    await expect(system.ask(thrower, 'async-boom', 2000)).rejects.toBeInstanceOf(PoisonError);
    expect(await system.ask(thrower, 'count', 2000)).toBe(2);
  });

  it('sends PoisonMessage to a tell-er (to listen) and to an actor sender', async () => {
    const thrower = await system.createActor(Thrower);
    system.tell(thrower, 'boom');
    const poison = (await system.listen(2000)) as PoisonMessage;
    expect(poison).toBeInstanceOf(PoisonMessage);
    expect(poison.poisonMessage).toBe('boom');

    const probe = await system.createActor(PoisonProbe);
    const report = (await system.ask(probe, { poke: thrower, msg: 'boom' }, 2000)) as { poisoned: unknown; details: string };
    expect(report.poisoned).toBe('boom');
    expect(report.details).toContain('Error: boom #4');
    expect(await system.ask(thrower, 'count', 2000)).toBe(4);
  });

  it('rejects an ask to a dead actor at once with DeadActorError', async () => {
    const echo = await system.createActor(Echo);
    await system.ask(echo, 'alive?', 2000);
    const exiter = await system.createActor(Exiter);
    system.tell(exiter, 'die');
    // Wait for the death through the runtime, not a sleep: an ask that fails proves it.
    await expect(system.ask(exiter, 'are you there', 10_000)).rejects.toBeInstanceOf(DeadActorError);
    const started = Date.now();
    await expect(system.ask(exiter, 'still?', 10_000)).rejects.toBeInstanceOf(DeadActorError);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('rejects an ask whose target dies before answering', async () => {
    const exiter = await system.createActor(Exiter);
    const started = Date.now();
    await expect(system.ask(exiter, 'die', 10_000)).rejects.toBeInstanceOf(DeadActorError);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('rejects createActor when the constructor throws', async () => {
    const error = await system.createActor(FailingConstructor).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ActorCreationError);
    expect((error as Error).message).toContain('constructor refuses');
  });

  it("reports a child's failing constructor to the parent as ChildActorExited", async () => {
    const supervisor = await system.createActor(Supervisor);
    const child = (await system.ask(supervisor, { child: 'FailingConstructor', init: 'hello' }, 2000)) as ActorAddress;
    const report = (await system.listen(5000)) as { exited: ActorAddress; wasMyChild: boolean };
    expect(report.wasMyChild).toBe(true);
    expect(report.exited.equals(child)).toBe(true);
    await expect(system.ask(child, 'x', 5000)).rejects.toBeInstanceOf(DeadActorError);
  });
});
