import { afterEach, describe, expect, it } from 'vitest';
import { ActorAddress, ActorSystem, DeadActorError, NoCompatibleSystemError } from '../../dist/index.js';
import { NeedsBigMemory, NeedsGpu, Supervisor } from '../fixtures/lifecycle-actors.js';
import { BASES, startSystem } from './bases.js';

describe.each(BASES)('capabilities on %s', (base) => {
  let system: ActorSystem | undefined;
  afterEach(() => system?.shutdown());

  it('refuses an actor whose requirements the system lacks', async () => {
    ({ system } = await startSystem(base, { capabilities: { gpu: false, region: 'eu' } }));
    await expect(system.createActor(NeedsGpu)).rejects.toBeInstanceOf(NoCompatibleSystemError);
    await expect(system.createActor(NeedsBigMemory)).rejects.toBeInstanceOf(NoCompatibleSystemError);
  });

  it('hosts it once the capability is there, and stops it when the capability goes', async () => {
    ({ system } = await startSystem(base, { capabilities: { gpu: 'rtx', region: 'eu', memoryGb: 32 } }));
    const gpu = await system.createActor(NeedsGpu);
    const memory = await system.createActor(NeedsBigMemory);
    expect(await system.ask(gpu, 'hi', 2000)).toBe('gpu-ok');
    expect(await system.ask(memory, 'hi', 2000)).toBe('memory-ok');

    await system.updateCapability('region', 'us'); // equality requirement now fails
    await expect(system.ask(gpu, 'hi', 2000)).rejects.toBeInstanceOf(DeadActorError);
    expect(await system.ask(memory, 'hi', 2000)).toBe('memory-ok');

    await system.updateCapability('memoryGb', 8); // the custom check now fails
    await expect(system.ask(memory, 'hi', 2000)).rejects.toBeInstanceOf(DeadActorError);

    await system.updateCapability('region', 'eu');
    const again = await system.createActor(NeedsGpu);
    expect(await system.ask(again, 'hi', 2000)).toBe('gpu-ok');
    await system.updateCapability('gpu'); // removed
    await expect(system.ask(again, 'hi', 2000)).rejects.toBeInstanceOf(DeadActorError);
    const status = await system.status();
    expect(status.capabilities).toEqual({ region: 'eu', memoryGb: 8 });
  });

  it("reports a child its system cannot host to the creating actor as ChildActorExited", async () => {
    ({ system } = await startSystem(base, { capabilities: { region: 'eu' } }));
    const supervisor = await system.createActor(Supervisor);
    const child = (await system.ask(supervisor, { child: 'NeedsGpu' }, 2000)) as ActorAddress;
    expect(child).toBeInstanceOf(ActorAddress);
    const report = (await system.listen(5000)) as { exited: ActorAddress; wasMyChild: boolean };
    expect(report.wasMyChild).toBe(true);
    await expect(system.ask(child, 'hi', 5000)).rejects.toBeInstanceOf(DeadActorError);
  });

  it('lets per-create requirements narrow placement', async () => {
    ({ system } = await startSystem(base, { capabilities: { gpu: true, region: 'eu', zone: 'a' } }));
    const ok = await system.createActor(NeedsGpu, { requirements: { zone: 'a' } });
    expect(ok).toBeInstanceOf(ActorAddress);
    await expect(system.createActor(NeedsGpu, { requirements: { zone: 'b' } })).rejects.toBeInstanceOf(NoCompatibleSystemError);
  });
});
