import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorExitRequest, ActorSystem, DeadActorError } from '../../dist/index.js';
import { SquareClient, Squarer } from '../fixtures/troupe-actors.js';
import { BASES, startSystem } from './bases.js';

type Reply = { square: number; member: string; thread: number };

describe.each(BASES)('troupes on %s', (base) => {
  let system: ActorSystem;
  beforeAll(async () => {
    ({ system } = await startSystem(base));
  });
  afterAll(() => system.shutdown());

  it('hands each message to one member, up to max at once, and each reply reaches its sender', async () => {
    const troupe = await system.createActor(Squarer);
    const replies = (await Promise.all(Array.from({ length: 12 }, (_, i) => system.ask(troupe, i, 5000)))) as Reply[];
    expect(replies.map((r) => r.square)).toEqual(Array.from({ length: 12 }, (_, i) => i * i));
    const members = new Set(replies.map((r) => r.member));
    expect(members.size).toBeGreaterThan(1);
    expect(members.size).toBeLessThanOrEqual(3);
    expect(members.has(troupe.id)).toBe(false);

    const client = await system.createActor(SquareClient);
    expect(await system.ask(client, { troupe, n: 7 }, 5000)).toEqual([0, 1, 4, 9, 16, 25, 36]);
  });

  it('stops its members when the troupe is asked to exit', async () => {
    const troupe = await system.createActor(Squarer);
    const reply = (await system.ask(troupe, 3, 5000)) as Reply;
    const before = (await system.status()).actors;
    system.tell(troupe, new ActorExitRequest());
    await expect(system.ask(troupe, 4, 5000)).rejects.toBeInstanceOf(DeadActorError);
    expect(reply.square).toBe(9);
    expect((await system.status()).actors).toBeLessThan(before - 1);
  });
});
